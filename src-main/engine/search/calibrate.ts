import { groupRowsByObject, largestGroup, type VectorIndex } from './index';
import { dot } from './vectors';

/**
 * "Not in the catalogue" threshold learned from the catalogue itself.
 *
 * leave-one-out: each photo of an object with two or more photos is taken out and
 * scored against the rest; its own object's best photo gives a genuine score, the best
 * photo of any other object an impostor score. The threshold keeps at least
 * `genuineAcceptRate` of genuine matches; when the impostors' `impostorQuantile` lies below
 * that, it sits midway between the two. The impostor scores estimate how often an object
 * that is not catalogued would still be accepted.
 *
 * nearest-other-only: when every object has a single photo there are no genuine pairs;
 * the threshold is then a high quantile of nearest-other-object scores. It only bounds
 * false accepts and says nothing about missed matches, so it is a weaker estimate.
 */
export interface Calibration {
  threshold: number;
  /** Share of genuine leave-one-out matches at or above the threshold; null when unknown. */
  genuineAcceptRate: number | null;
  /** Share of impostor (other-object) best scores at or above the threshold. */
  impostorAcceptRate: number;
  basis: 'leave-one-out' | 'nearest-other-only';
  /** Photos scored to reach it. */
  n: number;
}

export interface CalibrationOptions {
  /** Share of genuine matches to keep accepting (default 0.95). */
  genuineAcceptRate?: number;
  /** Quantile of impostor scores used when there are no genuine pairs (default 0.99). */
  impostorQuantile?: number;
  /** At most this many photos are left out, spread evenly over the catalogue (default 2000). */
  maxQueries?: number;
}

/** Fewer genuine pairs than this and their quantile is too noisy to set a threshold. */
const MIN_GENUINE = 10;

export function calibrate(index: VectorIndex, options: CalibrationOptions = {}): Calibration {
  const rowsByObject = groupRowsByObject(index);
  const multi = [...rowsByObject.values()].filter((rows) => rows.length >= 2).flat();
  const leaveOneOut = multi.length >= MIN_GENUINE;
  const queries = spread(leaveOneOut ? multi : Array.from({ length: index.size }, (_, r) => r), options.maxQueries ?? 2000);
  const impostor = impostorScores(index, queries, rowsByObject);
  if (!leaveOneOut) {
    const threshold = quantile(impostor, options.impostorQuantile ?? 0.99);
    return { threshold, genuineAcceptRate: null, impostorAcceptRate: shareAtLeast(impostor, threshold), basis: 'nearest-other-only', n: queries.length };
  }
  const genuine = queries.map((row) => bestOwnScore(index, row, rowsByObject.get(index.objectIdAt(row))!));
  const genuineFloor = quantile(genuine, 1 - (options.genuineAcceptRate ?? 0.95));
  const impostorCeiling = quantile(impostor, options.impostorQuantile ?? 0.99);
  // Where the two populations are apart, sit midway: a catalogue's leave-one-out pairs are few
  // and often harder than a query's nearest view, so the genuine floor alone rejects too many.
  const threshold = impostorCeiling < genuineFloor ? (impostorCeiling + genuineFloor) / 2 : genuineFloor;
  return {
    threshold,
    genuineAcceptRate: shareAtLeast(genuine, threshold),
    impostorAcceptRate: shareAtLeast(impostor, threshold),
    basis: 'leave-one-out',
    n: queries.length,
  };
}

/**
 * True when the best match should be reported as "not in the catalogue": below the
 * threshold, or (with a margin) too close to the runner-up object to tell apart.
 */
export function decide(topScore: number, secondScore: number | undefined, threshold: number, margin = 0): boolean {
  if (topScore < threshold) return true;
  return secondScore !== undefined && margin > 0 && topScore - secondScore < margin;
}

/** Best score of each query row against photos of other objects (skipping itself and its own object). */
function impostorScores(index: VectorIndex, rows: number[], rowsByObject: Map<number, number[]>): number[] {
  const maxPhotos = largestGroup(rowsByObject);
  const queries = new Float32Array(rows.length * index.dims);
  rows.forEach((row, i) => queries.set(index.vectorAt(row), i * index.dims));
  // The own object's photos take at most maxPhotos places, so one more reaches another object.
  const hits = index.searchBatch(queries, maxPhotos + 1);
  return hits.flatMap((list, i) => {
    const other = list.find((h) => h.objectId !== index.objectIdAt(rows[i]!));
    return other ? [other.score] : [];
  });
}

function bestOwnScore(index: VectorIndex, row: number, ownRows: number[]): number {
  let best = -Infinity;
  const v = index.vectorAt(row);
  for (const other of ownRows) if (other !== row) best = Math.max(best, dot(v, 0, index.vectorAt(other), 0, index.dims));
  return best;
}

/** At most `max` items picked at an even stride, so results are deterministic. */
function spread(items: number[], max: number): number[] {
  if (items.length <= max) return items;
  return Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)]!);
}

/** Lower empirical quantile: at least (1 − q) of the values are at or above it. */
function quantile(values: number[], q: number): number {
  if (values.length === 0) return 1; // nothing to learn from: accept nothing automatically
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))]!;
}

function shareAtLeast(values: number[], threshold: number): number {
  return values.length === 0 ? 0 : values.filter((v) => v >= threshold).length / values.length;
}
