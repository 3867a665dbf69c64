import { describe, expect, it } from 'vitest';
import { DEFAULT_VARIANT, recipeVariant } from '../../src-main/engine/evaluation/descriptors';
import { DEFAULT_RECIPE } from '../../src-main/engine/identify/recipe';
import { ranksOf } from '../../src-main/engine/evaluation/metrics';
import { describeDescriptors, evaluate, type EvaluationOptions } from '../../src-main/engine/evaluation/protocols';
import { syntheticSet } from './synthetic-set';

const base: EvaluationOptions = { protocol: 'paper', models: [['m']], classifiers: ['knn', 'prototype'], seeds: [1], variant: DEFAULT_VARIANT };

describe('ranks', () => {
  it('counts better classes, breaks ties towards the lower class, and ranks an unseen object nowhere', () => {
    const scores = Float32Array.from([0.1, 0.5, 0.5, 0.9, /**/ 0.3, 0.2, 0.1, 0.0]);
    expect(Array.from(ranksOf(scores, 4, Int32Array.from([2, -1])))).toEqual([3, Infinity]);
    expect(Array.from(ranksOf(scores, 4, Int32Array.from([1, 0])))).toEqual([2, 1]);
  });
});

describe('the paper protocol', () => {
  // Objects with 1 … 12 photos: thresholds drop the small ones.
  const set = syntheticSet([1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 12], { noise: 0.2 });

  it('tests 10 % of the kept photos, by hand, and reports test photos of objects with no train photo', async () => {
    const result = await evaluate(set, { ...base, minImages: [3, 6], seeds: [1, 2] });
    const kept3 = 3 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 12; // 67: 54 train, 7 val, 6 test
    const kept6 = 6 + 7 + 8 + 9 + 10 + 12; // 52: 42 / 5 / 5
    const knn3 = result.runs.filter((r) => r.minImages === 3 && r.classifier === 'knn');
    expect(knn3.map((r) => r.overall.n)).toEqual([kept3 - Math.round(0.8 * kept3) - Math.round(0.1 * kept3), 6]);
    expect(result.summary.find((s) => s.minImages === 6 && s.classifier === 'knn')!.nTest).toBe(kept6 - 42 - 5);
    for (const r of result.runs) {
      expect(Object.values(r.byPhotos).reduce((n, a) => n + a.n, 0)).toBe(r.overall.n);
      expect(r.overall.top1).toBeLessThanOrEqual(1 - r.unseen / r.overall.n);
    }
    // Well-separated synthetic objects: every seen test photo is found.
    const mean = result.means.find((m) => m.minImages === 6 && m.classifier === 'prototype')!;
    expect(mean.overall.top1 + mean.unseen / mean.overall.n).toBeCloseTo(1, 5);
  });

  it('gives an ensemble of a model with itself the model\'s own figures', async () => {
    const result = await evaluate(set, { ...base, models: [['m'], ['m']], classifiers: ['knn', 'linear'], classifier: { epochs: 5 } });
    for (const kind of ['knn', 'linear']) {
      const [single, ensemble] = ['m', 'ensemble'].map((model) => result.summary.find((s) => s.classifier === kind && s.model === model)!);
      expect(ensemble).toEqual({ ...single, model: 'ensemble' });
    }
    // A joined entry is reported on its own and stays out of the single models' ensemble.
    const [a, b] = [syntheticSet(Array(12).fill(5), { model: 'a', noise: 1.2 }), syntheticSet(Array(12).fill(5), { model: 'b', noise: 1.2, seed: 8 })];
    const two = { ...a, descriptors: new Map([...a.descriptors, ...b.descriptors]), dims: new Map([...a.dims, ...b.dims]) };
    const options = { ...base, classifiers: ['knn' as const], seeds: [1, 2, 3] };
    const singles = await evaluate(two, { ...options, models: [['a'], ['b']] });
    const withJoined = await evaluate(two, { ...options, models: [['a'], ['b'], ['a', 'b']] });
    expect(withJoined.summary.map((s) => s.model)).toEqual(['a', 'b', 'a+b', 'ensemble']);
    expect(withJoined.summary[3]).toEqual(singles.summary[2]);
  });

  it('scores prototype and linear fused, as identification answers, only when both are chosen', async () => {
    const both = await evaluate(set, { ...base, classifiers: ['prototype', 'linear'], minImages: [3], classifier: { epochs: 5 } });
    expect(both.summary.map((s) => s.classifier)).toEqual(['prototype', 'linear', 'fused']);
    const alone = await evaluate(set, { ...base, classifiers: ['prototype'], minImages: [3] });
    expect(alone.summary.map((s) => s.classifier)).toEqual(['prototype']);
  });

  it('queries, in the open set, every photo outside the catalogue: a held-out object\'s all, a known object\'s val and test', async () => {
    const ten = syntheticSet(Array(10).fill(10), { noise: 0.2 }); // 80 train, 10 val, 10 test photos
    const [open] = (await evaluate(ten, { ...base, protocol: 'open', holdOut: 0.2 })).openSetMeans;
    expect(open!.unknownQueries).toBe(20);
    // The 20 val and test photos less those of the two held-out objects: more than the test split holds.
    expect(open!.knownQueries).toBeGreaterThan(10);
    expect(open!.knownQueries).toBeLessThanOrEqual(20);
  });

  it('stops soon after a cancel sent from elsewhere while it works', async () => {
    const abort = new AbortController();
    let folds = 0;
    // The cancel comes from the event loop, as one from the window comes from an event: it only arrives if the work lets the loop run.
    // (setImmediate, not a timer: a timer's millisecond let ten of these small folds pass on a busy machine.)
    const started = evaluate(set, { ...base, classifiers: ['knn'], seeds: Array.from({ length: 400 }, (_, i) => i + 1), minImages: [3], signal: abort.signal,
      onProgress: () => { if (++folds === 5) setImmediate(() => abort.abort()); } });
    await expect(started).rejects.toThrow(/cancelled/);
    expect(folds).toBeLessThan(10);
  });
});

describe('the field and open-set protocols', () => {
  const set = syntheticSet(Array(10).fill(8), { noise: 0.25, split: (_, k) => (k === 0 ? 'catalogue' : k < 6 ? 'train' : 'val') });

  it('queries the chosen split against the chosen catalogue', async () => {
    const result = await evaluate(set, { ...base, protocol: 'field', catalogueSplits: ['catalogue'], querySplits: ['val'], classifiers: ['knn'] });
    expect(result.summary).toEqual([expect.objectContaining({ protocol: 'field', classifier: 'knn', model: 'm', nTest: 20, top1: 1 })]);
    expect(result.means[0]!.byPhotos).toEqual({ 1: expect.objectContaining({ n: 20 }) });
  });

  it('measures a catalogue of single photos as identification treats it: centred on the field photos, without the instance classifier', async () => {
    const recipe = recipeVariant(DEFAULT_RECIPE);
    const single = await evaluate(set, { ...base, protocol: 'field', catalogueSplits: ['catalogue'], querySplits: ['val'], classifiers: ['knn', 'prototype', 'linear'], variant: recipe });
    expect(single.variant).toEqual({ ...recipe, postprocess: 'centre', fitOn: 'queries' });
    // The report says what identification adds to such a catalogue and this evaluation leaves out.
    expect(describeDescriptors(single)).toMatch(/centre fitted on queries\. Identification also re-ranks such a catalogue by local evidence/);
    expect(single.summary.map((r) => r.classifier)).toEqual(['knn', 'prototype']);
    await expect(evaluate(set, { ...base, protocol: 'field', catalogueSplits: ['catalogue'], querySplits: ['val'], classifiers: ['linear'], variant: recipe }))
      .rejects.toThrow(/most catalogue objects here have a single photo/);
    const several = await evaluate(set, { ...base, protocol: 'field', catalogueSplits: ['catalogue', 'train'], querySplits: ['val'], classifiers: ['linear'], variant: recipe });
    expect([several.variant, several.summary.map((r) => r.classifier)]).toEqual([recipe, ['linear']]);
    // Whitened, it is re-ranked so once field photos are learned; these synthetic descriptors bring no photos to take cells from.
    expect(describeDescriptors(several)).toMatch(/a catalogue whose queries come from elsewhere .*leaves out: these descriptors come without their photos/);
  });

  it('ranks a centred joined entry\'s prototypes as the backbones\' ensemble, as identification does', async () => {
    const split = (_: number, k: number) => (k === 0 ? 'catalogue' : 'val');
    const [a, b] = [syntheticSet(Array(12).fill(5), { model: 'a', noise: 1, split }), syntheticSet(Array(12).fill(5), { model: 'b', noise: 1.5, seed: 8, split })];
    const two = { ...a, descriptors: new Map([...a.descriptors, ...b.descriptors]), dims: new Map([...a.dims, ...b.dims]) };
    const result = await evaluate(two, { ...base, protocol: 'field', catalogueSplits: ['catalogue'], querySplits: ['val'], models: [['a'], ['b'], ['a', 'b']],
      variant: { ...DEFAULT_VARIANT, postprocess: 'centre', fitOn: 'queries' } });
    const row = (classifier: string, model: string) => result.summary.find((r) => r.classifier === classifier && r.model === model)!;
    expect(row('prototype', 'a+b')).toEqual({ ...row('prototype', 'ensemble'), model: 'a+b' });
  });

  it('rejects most photos of held-out objects while still answering known ones', async () => {
    const result = await evaluate(set, { ...base, protocol: 'open', catalogueSplits: ['catalogue', 'train'], querySplits: ['val'], holdOut: 0.3 });
    const [open] = result.openSetMeans;
    expect(open).toMatchObject({ knownQueries: 14, unknownQueries: 6 });
    expect(open!.unknownRejected).toBeGreaterThan(0.8);
    expect(open!.knownAnswered).toBeGreaterThan(0.8);
    expect(open!.calibrationBasis).toBe('cross-fitted, impostors from held-out objects');
  });

  it('learns a one-picture catalogue\'s threshold from the query photos, unlabelled, as from field photos', async () => {
    const result = await evaluate(set, { ...base, protocol: 'open', catalogueSplits: ['catalogue'], querySplits: ['val'], holdOut: 0.3, variant: recipeVariant(DEFAULT_RECIPE) });
    const [open] = result.openSetMeans;
    expect(open!.calibrationBasis).toBe('nearest-other-only, impostors from field photos');
    expect(open!.unknownRejected).toBeGreaterThan(0.8);
    expect(open!.knownAnswered).toBeGreaterThan(0.5);
    // Or from other field photos, named by split.
    const field = await evaluate(set, { ...base, protocol: 'open', catalogueSplits: ['catalogue'], querySplits: ['val'], fieldSplits: ['train'], holdOut: 0.3, variant: recipeVariant(DEFAULT_RECIPE) });
    expect(field.openSetMeans[0]!.calibrationBasis).toBe('nearest-other-only, impostors from field photos');
    expect(field.openSetMeans[0]!.threshold).not.toBe(open!.threshold);
    await expect(evaluate(set, { ...base, protocol: 'field', catalogueSplits: ['catalogue'], querySplits: ['val'], fieldSplits: ['none'] })).rejects.toThrow(/too few field photos/);
  });
});
