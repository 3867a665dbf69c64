import type { EvalPhoto } from './dataset';

export const TOP_K = [1, 3, 5, 10] as const;

/** Top-k accuracy (shares, 0–1) over n query photos. */
export interface Accuracy {
  n: number;
  top1: number;
  top3: number;
  top5: number;
  top10: number;
}

export interface Breakdown {
  overall: Accuracy;
  /** By how many photos the object has in the evaluated set: "3" … "9", "10+" (fewer as they come). */
  byPhotos: Record<string, Accuracy>;
  bySubcollection: Record<string, Accuracy>;
  /** Query photos whose object has no catalogue (train) photo: counted as errors, as the paper did. */
  unseen: number;
}

/**
 * 1-based rank of each query's true class among `classes` scores (ties go to the lower class
 * index, as ranking does); Infinity when the class is −1 (not in the catalogue).
 */
export function ranksOf(scores: Float32Array, classes: number, truth: Int32Array): Float64Array {
  return Float64Array.from(truth, (y, i) => {
    if (y < 0) return Infinity;
    const off = i * classes;
    const own = scores[off + y]!;
    let rank = 1;
    for (let c = 0; c < classes; c++) {
      const s = scores[off + c]!;
      if (s > own || (s === own && c < y)) rank++;
    }
    return rank;
  });
}

export function accuracy(ranks: ArrayLike<number>, which?: readonly number[]): Accuracy {
  const picked = which ?? Array.from({ length: ranks.length }, (_, i) => i);
  const share = (k: number) => (picked.length === 0 ? 0 : picked.filter((i) => ranks[i]! <= k).length / picked.length);
  return { n: picked.length, top1: share(1), top3: share(3), top5: share(5), top10: share(10) };
}

export function photoBucket(count: number): string {
  return count >= 10 ? '10+' : String(count);
}

/** Accuracy overall and per group; `photoCounts` maps an object id to its photo count in the evaluated set. */
export function breakdown(ranks: Float64Array, queries: readonly EvalPhoto[], photoCounts: Map<number, number>): Breakdown {
  const groups = (key: (p: EvalPhoto) => string) => {
    const by = new Map<string, number[]>();
    queries.forEach((p, i) => by.set(key(p), [...(by.get(key(p)) ?? []), i]));
    return Object.fromEntries([...by].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([k, rows]) => [k, accuracy(ranks, rows)]));
  };
  return {
    overall: accuracy(ranks),
    byPhotos: groups((p) => photoBucket(photoCounts.get(p.objectId) ?? 0)),
    bySubcollection: groups((p) => p.subcollection ?? '(none)'),
    unseen: Array.from(ranks).filter((r) => r === Infinity).length,
  };
}
