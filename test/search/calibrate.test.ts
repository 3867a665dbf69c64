import { describe, expect, it } from 'vitest';
import { calibrateCrossFitted, decide, type LabelledRows } from '../../src-main/engine/search/calibrate';
import { fitWhitening, fitWhiteningApart, rankingSpace } from '../../src-main/engine/search/fitted-space';
import { Postprocessor } from '../../src-main/engine/search/postprocess';
import { clusteredCatalogue } from './synthetic';

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
    expect(result).toMatchObject({ basis: 'nearest-other-only', genuineAcceptRate: null, n: 60 });
    expect(result.impostorAcceptRate).toBeLessThanOrEqual(0.1 + 1e-9);
    expect(result.impostorAcceptRate).toBeGreaterThan(0);
  });

  it('fits a whitening in a worker thread exactly as in this one', async () => {
    const [here, apart] = await Promise.all([fitWhitening(catalogue, { prototypes: true }), fitWhiteningApart(catalogue, { prototypes: true })]);
    expect(apart.serialise()).toEqual(here.serialise());
  });

  it('is deterministic for a seed, however many folds run at once, and samples large catalogues by whole objects', async () => {
    const a = await calibrateCrossFitted(catalogue, whitened, { maxRows: 100, seed: 3 });
    expect(await calibrateCrossFitted(catalogue, whitened, { maxRows: 100, seed: 3, concurrency: 4 })).toEqual(a);
    expect(a.n).toBeLessThanOrEqual(3 * 25);
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
