import { describe, expect, it } from 'vitest';
import { calibrate, decide } from '../../src-main/engine/search/calibrate';
import { FlatIndex } from '../../src-main/engine/search/index';
import { clusteredCatalogue } from './synthetic';

const DIMS = 32;

function indexOf(objects: number, photosPer: number, noise: number): FlatIndex {
  const c = clusteredCatalogue(objects, photosPer, DIMS, 51, noise);
  const index = new FlatIndex(DIMS, { backend: 'js' });
  index.add(c.photoIds, c.objectIds, c.vectors);
  return index;
}

describe('calibrate', () => {
  it('puts the threshold between genuine and impostor scores on a two-cluster problem', () => {
    // Photos of one object are tight (cosine ≈ 0.9); different objects are near-orthogonal.
    const index = indexOf(100, 3, 0.35);
    const result = calibrate(index);
    expect(result.basis).toBe('leave-one-out');
    expect(result.n).toBe(300);
    expect(result.threshold).toBeGreaterThan(0.6);
    expect(result.threshold).toBeLessThan(0.95);
    expect(result.genuineAcceptRate).toBeGreaterThanOrEqual(0.95);
    expect(result.impostorAcceptRate).toBeLessThan(0.01);
  });

  it('sits midway between the populations when they are apart, keeping more genuine matches than the 95 % floor', () => {
    const result = calibrate(indexOf(100, 4, 0.45));
    expect(result.genuineAcceptRate!).toBeGreaterThan(0.98);
    expect(result.impostorAcceptRate).toBeLessThan(0.01);
  });

  it('falls back to nearest-other-object scores when every object has one photo', () => {
    const index = indexOf(300, 1, 0.35);
    const result = calibrate(index, { impostorQuantile: 0.9 });
    expect(result.basis).toBe('nearest-other-only');
    expect(result.genuineAcceptRate).toBeNull();
    expect(result.impostorAcceptRate).toBeGreaterThan(0.05);
    expect(result.impostorAcceptRate).toBeLessThanOrEqual(0.1 + 1e-9);
  });

  it('samples at most maxQueries photos, deterministically', () => {
    const index = indexOf(100, 3, 0.35);
    const a = calibrate(index, { maxQueries: 50 });
    expect(a.n).toBe(50);
    expect(calibrate(index, { maxQueries: 50 })).toEqual(a);
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
