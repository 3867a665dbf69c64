import type { EvalPhoto } from './dataset';
import { poisson, seededStream, shuffled } from '../random';

/** Rows (indices into EvalSet.photos) in each part of one split. */
export interface Split {
  train: number[];
  val: number[];
  test: number[];
}

/** Rows grouped by object, in first-seen order. */
export function rowsByObject(photos: readonly EvalPhoto[], rows: readonly number[]): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const r of rows) {
    const id = photos[r]!.objectId;
    const group = groups.get(id);
    if (group) group.push(r);
    else groups.set(id, [r]);
  }
  return groups;
}

/** A realistic number of photos per object from a richer set: 3 + Poisson(λ), at most `cap` (and what exists). */
export function subsamplePerObject(photos: readonly EvalPhoto[], rows: readonly number[], lambda: number, seed: number, cap = 20): number[] {
  const random = seededStream(seed, 'subsample');
  const kept: number[] = [];
  for (const group of rowsByObject(photos, rows).values()) {
    const want = Math.min(cap, 3 + poisson(lambda, random));
    kept.push(...shuffled(group, random).slice(0, want));
  }
  return kept.sort((a, b) => a - b);
}

export function objectsWithAtLeast(photos: readonly EvalPhoto[], rows: readonly number[], minimum: number): number[] {
  return [...rowsByObject(photos, rows).values()].filter((g) => g.length >= minimum).flat().sort((a, b) => a - b);
}

/** The paper's split: photos (not objects) shuffled with the seed and cut 80/10/10. */
export function randomSplit(rows: readonly number[], seed: number, shares: readonly [number, number] = [0.8, 0.1]): Split {
  const order = shuffled([...rows].sort((a, b) => a - b), seededStream(seed, 'split'));
  const nTrain = Math.round(order.length * shares[0]);
  const nVal = Math.round(order.length * shares[1]);
  return { train: order.slice(0, nTrain), val: order.slice(nTrain, nTrain + nVal), test: order.slice(nTrain + nVal) };
}

/** Rows whose manifest column (e.g. split) has one of the values. */
export function rowsWhere(photos: readonly EvalPhoto[], column: string, values: readonly string[]): number[] {
  return photos.flatMap((p, r) => (values.includes(p.metadata[column] ?? '') ? [r] : []));
}

/** A share of the objects, chosen with the seed, and every row of theirs. */
export function holdOutObjects(photos: readonly EvalPhoto[], rows: readonly number[], share: number, seed: number): { known: number[]; unknown: number[] } {
  const groups = rowsByObject(photos, rows);
  const ids = shuffled([...groups.keys()].sort((a, b) => a - b), seededStream(seed, 'open-set'));
  const unknownIds = new Set(ids.slice(0, Math.round(ids.length * share)));
  const known: number[] = [];
  const unknown: number[] = [];
  for (const [id, group] of groups) (unknownIds.has(id) ? unknown : known).push(...group);
  return { known: known.sort((a, b) => a - b), unknown: unknown.sort((a, b) => a - b) };
}

/**
 * Validation rows for early stopping when the protocol has none of its own: a share of the
 * photos of objects with three or more, so every object keeps at least two to learn from.
 */
export function validationFrom(photos: readonly EvalPhoto[], rows: readonly number[], share: number, seed: number): number[] {
  const random = seededStream(seed, 'validation');
  return [...rowsByObject(photos, rows).values()]
    .filter((g) => g.length >= 3)
    .flatMap((g) => shuffled(g, random).slice(0, Math.min(g.length - 2, Math.max(1, Math.round(g.length * share)))))
    .sort((a, b) => a - b);
}
