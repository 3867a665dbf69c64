import { describe, expect, it } from 'vitest';
import { calibrateCrossFitted, conformalFloor, decide, describeCalibration, type LabelledRows } from '../../src-main/engine/search/calibrate';
import { mulberry32 } from '../../src-main/engine/random';
import { fitWhitening, fitWhiteningApart, rankingSpace } from '../../src-main/engine/search/fitted-space';
import { ObjectRanker } from '../../src-main/engine/search/aggregate';
import { FlatIndex } from '../../src-main/engine/search/index';
import { Postprocessor } from '../../src-main/engine/search/postprocess';
import { clusteredCatalogue, randomMatrix } from './synthetic';

describe('calibrateCrossFitted', () => {
  // 60 objects of 6 photos in 128 dimensions: objects 0-49 are catalogued with 4 photos each,
  // their other 2 photos are new photos of catalogued objects, objects 50-59 are not catalogued.
  const dims = 128;
  const all = clusteredCatalogue(60, 6, dims, 7, 0.9);
  const rowsWhere = (keep: (object: number, photo: number) => boolean): LabelledRows => {
    const picked = Array.from(all.objectIds.keys()).filter((r) => keep(all.objectIds[r]!, r % 6));
    return {
      vectors: Float32Array.from(picked.flatMap((r) => [...all.vectors.subarray(r * dims, (r + 1) * dims)])),
      objectIds: Int32Array.from(picked, (r) => all.objectIds[r]!),
      dims,
    };
  };
  const catalogue = rowsWhere((o, p) => o < 50 && p < 4);
  const known = rowsWhere((o, p) => o < 50 && p >= 4);
  const unknown = rowsWhere((o) => o >= 50);
  const whitened = async (rows: LabelledRows) => rankingSpace(rows, await fitWhitening(rows, { prototypes: true }), 'prototype');

  it('learns, in a space the catalogue shaped, a threshold that holds for new photos', async () => {
    const space = await whitened(catalogue);
    const scores = async (rows: LabelledRows) => space.topScores(await space.map(rows.vectors));
    const [knownScores, unknownScores] = [await scores(known), await scores(unknown)];
    const share = (v: number[], t: number) => v.filter((s) => s >= t).length / v.length;
    const result = await calibrateCrossFitted(catalogue, whitened);
    expect(result.basis).toBe('cross-fitted');
    expect(share(knownScores, result.threshold)).toBeGreaterThan(0.85);
    expect(1 - share(unknownScores, result.threshold)).toBeGreaterThan(0.8);
    // Where the two sets are apart the threshold sits midway, keeping more than 95 % of genuine scores.
    expect(result.genuineAcceptRate!).toBeGreaterThan(0.95);
    // Scored in the space all the catalogue shaped, held-out photos included, the threshold sits
    // too low: it lets through far more of the uncatalogued objects.
    const all = await fitWhitening(catalogue, { prototypes: true });
    const inSample = await calibrateCrossFitted(catalogue, (known) => rankingSpace(known, all, 'prototype'));
    const rejected = (threshold: number) => 1 - share(unknownScores, threshold);
    expect(rejected(inSample.threshold)).toBeLessThan(rejected(result.threshold) - 0.3);
  });

  it('falls back to the impostors\' scores when every object has one photo', async () => {
    const single = rowsWhere((_, p) => p === 0);
    const centred = async (rows: LabelledRows) => rankingSpace(rows, await Postprocessor.fit(rows.vectors, dims, { mode: 'centre' }), 'prototype');
    const result = await calibrateCrossFitted(single, centred, { impostorQuantile: 0.9 });
    expect(result).toMatchObject({ basis: 'nearest-other-only', genuineAcceptRate: null, genuineScores: 0, impostorScores: 60 });
    expect(result.impostorAcceptRate).toBeLessThanOrEqual(0.1 + 1e-9);
    expect(result.impostorAcceptRate).toBeGreaterThan(0);
  });

  it('takes impostor scores from field photos when given, so a catalogue of single photos answers photos taken elsewhere', async () => {
    const single = rowsWhere((o, p) => o < 50 && p === 0);
    // Photos taken elsewhere share a component the catalogue's pictures lack.
    const shift = randomMatrix(1, dims, 5).map((v) => v / Math.sqrt(dims));
    const elsewhere = (rows: LabelledRows) => ({ ...rows, vectors: rows.vectors.map((v, i) => v + shift[i % dims]!) });
    const [known, unknown] = [elsewhere(rowsWhere((o, p) => o < 50 && p > 0)), elsewhere(rowsWhere((o, p) => o >= 50 && p > 0))];
    const centring = await Postprocessor.fit(Float32Array.from([...known.vectors, ...unknown.vectors]), dims, { mode: 'centre' });
    const index = new FlatIndex(dims);
    index.add(Int32Array.from(single.objectIds.keys()), single.objectIds, await centring.applyMany(single.vectors));
    const ranker = new ObjectRanker(index);
    const best = async (rows: LabelledRows) => ranker.rankBatch(await centring.applyMany(rows.vectors), 'prototype', 1).map((m) => m[0]!.score);
    const field = Float32Array.from([...known.vectors, ...unknown.vectors]);
    const fieldImpostors = ranker.runnerUpScores(await centring.applyMany(field), 'prototype');
    let fits = 0;
    const fixed = async (rows: LabelledRows) => (fits++, rankingSpace(rows, centring, 'prototype'));
    const fromCatalogue = await calibrateCrossFitted(single, fixed);
    const fromField = await calibrateCrossFitted(single, fixed, { fieldImpostors });
    expect(fits).toBe(4); // the catalogue's impostor folds only: field photos need none
    expect(fromField).toMatchObject({ impostorsFrom: 'field photos', basis: 'nearest-other-only', impostorScores: 250 + 50 });
    // Too few field photos say little about the impostors' tail: the catalogue's are used.
    expect(await calibrateCrossFitted(single, fixed, { fieldImpostors: fieldImpostors.slice(0, 19) })).toEqual(fromCatalogue);
    const answered = async (rows: LabelledRows, t: number) => (await best(rows)).filter((s) => s >= t).length / rows.objectIds.length;
    // Catalogue pictures resemble each other more than any field photo resembles them.
    expect(await answered(known, fromCatalogue.threshold)).toBeLessThan(0.1);
    expect(await answered(known, fromField.threshold)).toBeGreaterThan(0.9);
    expect(await answered(unknown, fromField.threshold)).toBeLessThan(0.05);
  });

  it('brings scores from folds of fewer dimensions to the ranking space\'s', async () => {
    const plain = await calibrateCrossFitted(catalogue, whitened);
    expect(await calibrateCrossFitted(catalogue, whitened, { dims })).toEqual(plain);
    // Cosines spread like 1/√d: a fold of a quarter of the dimensions scores twice as high.
    const quarter = await calibrateCrossFitted(catalogue, async (rows) => ({ ...(await whitened(rows)), dims: dims / 4 }), { dims });
    expect(quarter.threshold).toBeCloseTo(plain.threshold / 2, 6);
    // A catalogue of fewer photos than dimensions: its folds' whitenings keep fewer than its own.
    const small = rowsWhere((o, p) => o < 20 && p < 4);
    const own = await whitened(small);
    expect(own.dims).toBeLessThan(dims);
    const folds: number[] = [];
    const counted = async (rows: LabelledRows) => {
      const space = await whitened(rows);
      folds.push(space.dims);
      return space;
    };
    const brought = await calibrateCrossFitted(small, counted, { dims: own.dims });
    expect(Math.max(...folds)).toBeLessThan(own.dims);
    expect(brought.threshold).toBeLessThan((await calibrateCrossFitted(small, whitened)).threshold);
  });

  it('fits a whitening in a worker thread exactly as in this one', async () => {
    const [here, apart] = await Promise.all([fitWhitening(catalogue, { prototypes: true }), fitWhiteningApart(catalogue, { prototypes: true })]);
    expect(apart.serialise()).toEqual(here.serialise());
  });

  it('holds photos out in a seeded order, not the import order, so an object\'s first photo weighs as its share', async () => {
    // 20 objects of 40 photos, each object's first photo unlike the rest (a packshot among shop photos, say).
    const d = 32;
    const many = clusteredCatalogue(20, 40, d, 11, 0.5);
    const odd = randomMatrix(20, d, 12);
    for (let o = 0; o < 20; o++) many.vectors.set(odd.subarray(o * d, (o + 1) * d).map((v) => v / Math.sqrt(d)), o * 40 * d);
    const rows = (keep: (photo: number) => boolean): LabelledRows => {
      const picked = Array.from(many.objectIds.keys()).filter((r) => keep(r % 40));
      return { vectors: Float32Array.from(picked.flatMap((r) => [...many.vectors.subarray(r * d, (r + 1) * d)])), objectIds: Int32Array.from(picked, (r) => many.objectIds[r]!), dims: d };
    };
    const centred = async (known: LabelledRows) => rankingSpace(known, await Postprocessor.fit(known.vectors, d, { mode: 'centre' }), 'prototype');
    const [withOdd, without] = [await calibrateCrossFitted(rows(() => true), centred), await calibrateCrossFitted(rows((p) => p > 0), centred)];
    // Held out first, the odd photos would be 20 of the 200 genuine scores and set the 5 % floor.
    const oddScores = await (async () => {
      const space = await centred(rows((p) => p > 0));
      return space.topScores(await space.map(rows((p) => p === 0).vectors));
    })();
    expect(withOdd.threshold).toBeGreaterThan(Math.max(...oddScores));
    expect(withOdd.threshold).toBeCloseTo(without.threshold, 1);
  });

  it('is deterministic for a seed, however many folds run at once, and samples large catalogues by whole objects', async () => {
    const a = await calibrateCrossFitted(catalogue, whitened, { maxRows: 100, seed: 3 });
    expect(await calibrateCrossFitted(catalogue, whitened, { maxRows: 100, seed: 3, concurrency: 4 })).toEqual(a);
    expect(a.genuineScores).toBeLessThanOrEqual(3 * 25);
  });
});

describe('conformalFloor', () => {
  it('keeps at least the share asked of new genuine scores, not of the ones it learned from', () => {
    const random = mulberry32(5);
    const trials = 4000;
    let kept = 0;
    for (let t = 0; t < trials; t++) {
      const floor = conformalFloor(Array.from({ length: 40 }, random), 0.95);
      if (random() >= floor) kept++;
    }
    // 40 scores: the 2nd lowest, which a 41st score reaches 39 times in 41 (95.1 %); the 3rd, which
    // keeps 95 % of the 40, a 41st reaches 38 times in 41 (92.7 %).
    expect(kept / trials).toBeGreaterThan(0.94);
    expect(conformalFloor([0.5, 0.1, 0.3, 0.2], 0.5)).toBe(0.2);
  });
});

describe('describeCalibration', () => {
  it('says what the threshold was learned from and how often each kind of photo reaches it', () => {
    const base = { threshold: 0.4, genuineScores: 300, impostorScores: 120, basis: 'cross-fitted', impostorsFrom: 'held-out objects', genuineAcceptRate: 0.962, impostorAcceptRate: 0.031 } as const;
    expect(describeCalibration(base)).toMatch(/catalogue's own photos: 96\.2 % of held-out photos of catalogued objects reach it, and 3\.1 % of photos of objects left out/);
    expect(describeCalibration({ ...base, basis: 'nearest-other-only', genuineAcceptRate: null })).toMatch(/own pictures: 3\.1 % [^]*learning field photos/);
    // Field photos learned too: how many of them reach it, and what that means for an answer.
    expect(describeCalibration({ ...base, fieldPhotos: { count: 216, reaching: 0.5 } }))
      .toMatch(/left out of the catalogue\. Of the 216 field photos learned, 50\.0 % reach it: [^]*may still show a catalogued object/);
    expect(describeCalibration({ ...base, basis: 'nearest-other-only', genuineAcceptRate: null, impostorsFrom: 'field photos' })).toMatch(/^Threshold learned from 120 field photos: 3\.1 %/);
    // Local evidence in the decision: learned from the field photos' runner-ups, on both kinds of evidence.
    const evidence = { score: { mean: 0.1, sd: 0.05 }, found: { mean: 0.3, sd: 0.04 }, threshold: 3.1, fieldPhotos: 100, impostorAcceptRate: 0.05 };
    expect(describeCalibration({ ...base, evidence }))
      .toMatch(/^Threshold learned from 100 field photos on the score and local evidence together [^]*5\.0 % of their matches with objects they do not show reach it, so the score needed falls as more of the object is found/);
  });
});

describe('decide', () => {
  it('reports not-in-catalogue below the threshold or, with a margin, when the runner-up is as close', () => {
    expect(decide(0.5, 0.4, 0.6)).toBe(true);
    expect(decide(0.7, 0.69, 0.6)).toBe(false);
    expect(decide(0.7, 0.69, 0.6, 0.05)).toBe(true);
    expect(decide(0.7, undefined, 0.6, 0.05)).toBe(false);
  });
});
