import { describe, expect, it } from 'vitest';
import { ObjectRanker, fuseMeanEmbedding } from '../../src-main/engine/search/aggregate';
import { FlatIndex } from '../../src-main/engine/search/index';
import { clusteredCatalogue } from './synthetic';

/** Unit vector at angle θ in the plane of the first two axes (3-d so the third axis is free). */
const at = (theta: number): number[] => [Math.cos(theta), Math.sin(theta), 0];

/**
 * Query along angle 0. Object 1: one photo very close (0.1 rad) and one far (1.4 rad).
 * Object 2: two photos fairly close (0.3 rad each). Object 3: one photo at 0.5 rad.
 */
function handMade(): FlatIndex {
  const index = new FlatIndex(3, { backend: 'js' });
  const photos: Array<[photo: number, object: number, theta: number]> = [
    [10, 1, 0.1],
    [11, 1, 1.4],
    [20, 2, 0.3],
    [21, 2, -0.3],
    [30, 3, 0.5],
  ];
  index.add(photos.map((p) => p[0]), photos.map((p) => p[1]), Float32Array.from(photos.flatMap((p) => at(p[2]))));
  return index;
}

const query = Float32Array.from(at(0));

describe('ObjectRanker', () => {
  it('best: ranks by each object’s closest photo', () => {
    const ranked = new ObjectRanker(handMade()).rank(query, 'best', 3);
    expect(ranked.map((m) => [m.objectId, m.bestPhotoId, m.rank])).toEqual([[1, 10, 1], [2, 20, 2], [3, 30, 3]]);
    expect(ranked[0]!.score).toBeCloseTo(Math.cos(0.1), 6);
  });

  it('meanTop2: one lucky photo counts less; a one-photo object uses its only photo', () => {
    const ranked = new ObjectRanker(handMade()).rank(query, 'meanTop2', 3);
    expect(ranked.map((m) => m.objectId)).toEqual([2, 3, 1]);
    expect(ranked[0]!.score).toBeCloseTo(Math.cos(0.3), 6);
    expect(ranked[1]!.score).toBeCloseTo(Math.cos(0.5), 6);
    expect(ranked[2]!.score).toBeCloseTo((Math.cos(0.1) + Math.cos(1.4)) / 2, 6);
  });

  it('meanTop2 scores an object’s second photo even when it falls outside the hit list', () => {
    const ranked = new ObjectRanker(handMade()).rank(query, 'meanTop2', 1);
    expect(ranked).toHaveLength(1);
    expect(ranked[0]!.objectId).toBe(2);
  });

  it('prototype: scores against the normalised mean of each object’s photos', () => {
    const ranked = new ObjectRanker(handMade()).rank(query, 'prototype', 3);
    // Object 2's mean points straight at the query; object 1's mean sits at 0.75 rad.
    expect(ranked.map((m) => m.objectId)).toEqual([2, 3, 1]);
    expect(ranked[0]!.score).toBeCloseTo(1, 6);
    expect(ranked[2]!.score).toBeCloseTo(Math.cos(0.75), 6);
    expect(ranked[2]!.bestPhotoId).toBe(10);
  });

  it('follows the index when photos are removed', () => {
    const index = handMade();
    const ranker = new ObjectRanker(index);
    expect(ranker.rank(query, 'best', 1)[0]!.objectId).toBe(1);
    index.remove([10]);
    expect(ranker.rank(query, 'best', 1)[0]!.objectId).toBe(2);
  });

  it('mean-embedding fusion of several noisy query photos beats single photos', () => {
    const dims = 32;
    const catalogue = clusteredCatalogue(200, 3, dims, 41, 0.8);
    const index = new FlatIndex(dims, { backend: 'js' });
    index.add(catalogue.photoIds, catalogue.objectIds, catalogue.vectors);
    const ranker = new ObjectRanker(index);
    // Four very noisy photos of each object, drawn around the same centres.
    const queries = clusteredCatalogue(200, 4, dims, 41, 2.5).vectors;
    let single = 0;
    let fused = 0;
    for (let o = 0; o < 200; o++) {
      const photos = queries.subarray(o * 4 * dims, (o + 1) * 4 * dims);
      single += ranker.rank(photos.subarray(0, dims), 'best', 1)[0]!.objectId === o ? 1 : 0;
      fused += ranker.rankFused(photos, 'best', 1)[0]!.objectId === o ? 1 : 0;
    }
    expect(fused).toBeGreaterThan(single + 20);
    expect(fuseMeanEmbedding(queries.subarray(0, 2 * dims), dims)).toHaveLength(dims);
  });
});
