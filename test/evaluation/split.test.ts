import { describe, expect, it } from 'vitest';
import { holdOutObjects, objectsWithAtLeast, randomSplit, subsamplePerObject, validationFrom } from '../../src-main/engine/evaluation/split';
import { syntheticSet } from './synthetic-set';

describe('the paper split', () => {
  const set = syntheticSet([2, 3, 4, 5, 6, 12, 30]);
  const all = set.photos.map((_, r) => r);

  it('keeps exactly the objects with at least N photos', () => {
    expect(objectsWithAtLeast(set.photos, all, 3)).toHaveLength(3 + 4 + 5 + 6 + 12 + 30);
    expect(objectsWithAtLeast(set.photos, all, 6)).toHaveLength(6 + 12 + 30);
    expect(new Set(objectsWithAtLeast(set.photos, all, 6).map((r) => set.photos[r]!.objectId))).toEqual(new Set([5, 6, 7]));
  });

  it('cuts photos 80/10/10 without overlap, the same way for the same seed and differently for another', () => {
    const rows = objectsWithAtLeast(set.photos, all, 3); // 60 photos
    const split = randomSplit(rows, 4);
    expect([split.train.length, split.val.length, split.test.length]).toEqual([48, 6, 6]);
    expect(new Set([...split.train, ...split.val, ...split.test])).toEqual(new Set(rows));
    expect(split.test.filter((r) => split.train.includes(r))).toEqual([]);
    expect(randomSplit([...rows].reverse(), 4)).toEqual(split);
    expect(randomSplit(rows, 5).test).not.toEqual(split.test);
  });

  it('subsamples 3 + Poisson(λ) photos per object, capped at 20 and at what exists, reproducibly', () => {
    const kept = subsamplePerObject(set.photos, all, 2.7, 1);
    expect(subsamplePerObject(set.photos, all, 2.7, 1)).toEqual(kept);
    const perObject = new Map<number, number>();
    for (const r of kept) perObject.set(set.photos[r]!.objectId, (perObject.get(set.photos[r]!.objectId) ?? 0) + 1);
    expect(perObject.get(1)).toBe(2); // has only two
    for (const n of perObject.values()) expect(n).toBeLessThanOrEqual(20);
    expect(perObject.get(7)).toBeGreaterThanOrEqual(3);
    const big = subsamplePerObject(set.photos, all, 40, 1);
    expect(big.filter((r) => set.photos[r]!.objectId === 7)).toHaveLength(20);
  });

  it('holds whole objects out, and takes validation only from objects that keep two photos', () => {
    const { known, unknown } = holdOutObjects(set.photos, all, 0.3, 2);
    const unknownIds = new Set(unknown.map((r) => set.photos[r]!.objectId));
    expect(unknownIds.size).toBe(2);
    expect(known.some((r) => unknownIds.has(set.photos[r]!.objectId))).toBe(false);
    const val = validationFrom(set.photos, all, 0.1, 1);
    expect(val.some((r) => set.photos[r]!.objectId === 1)).toBe(false);
    expect(val.filter((r) => set.photos[r]!.objectId === 2)).toHaveLength(1);
    expect(val.filter((r) => set.photos[r]!.objectId === 7)).toHaveLength(3);
  });
});
