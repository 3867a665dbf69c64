import { UserError } from '../errors';
import { FlatIndex, groupRowsByObject, largestGroup, type Hit, type VectorIndex } from './index';
import { dot, normaliseInPlace } from './vectors';

/**
 * From photo scores to ranked catalogue objects.
 * - best: an object scores as its closest photo (robust when one photo shares the query's view);
 * - meanTop2: mean of its two closest photos (one lucky photo counts less; one-photo objects use it alone);
 * - prototype: cosine with the normalised mean of its photo vectors (one vector per object; fast on big catalogues).
 */
export type AggregationMethod = 'best' | 'meanTop2' | 'prototype';

export interface ObjectMatch {
  objectId: number;
  score: number;
  /** The object's photo closest to the query, to show beside it. */
  bestPhotoId: number;
  /** 1 for the best match. */
  rank: number;
}

export class ObjectRanker {
  private builtFor = -1;
  private rowsByObject = new Map<number, number[]>();
  private maxPhotos = 1;
  private prototypes: FlatIndex;

  constructor(private readonly index: VectorIndex) {
    this.prototypes = new FlatIndex(index.dims);
  }

  /** The k best objects for one query photo. */
  rank(query: Float32Array, method: AggregationMethod, k = 10): ObjectMatch[] {
    return this.rankBatch(query, method, k)[0]!;
  }

  /** The k best objects for each of many query photos (row-major). */
  rankBatch(queries: Float32Array, method: AggregationMethod, k = 10): ObjectMatch[][] {
    this.refresh();
    if (method === 'prototype') return this.prototypes.searchBatch(queries, k).map((hits, i) => this.fromPrototypes(hits, queries, i));
    // k objects need at most k × (largest photo count) photo hits to appear.
    const photoHits = this.index.searchBatch(queries, k * this.maxPhotos);
    return photoHits.map((hits, i) => rankObjects(this.scoreObjects(hits, queries, i, method), k));
  }

  /** Each query's best object score (-1 with no object). */
  topScores(queries: Float32Array, method: AggregationMethod): number[] {
    return this.rankBatch(queries, method, 1).map((m) => m[0]?.score ?? -1);
  }

  /**
   * Each query's second-best object score. Whichever object a photo shows, its runner-up is
   * another one, so unlabelled photos give impostor scores this way.
   */
  runnerUpScores(queries: Float32Array, method: AggregationMethod): number[] {
    return this.rankBatch(queries, method, 2).map((m) => m[1]?.score ?? -1);
  }

  /** Several photos of one unknown object, fused into one query: the normalised mean of their normalised vectors. */
  rankFused(queries: Float32Array, method: AggregationMethod, k = 10): ObjectMatch[] {
    return this.rank(fuseMeanEmbedding(queries, this.index.dims), method, k);
  }

  private scoreObjects(hits: Hit[], queries: Float32Array, qi: number, method: AggregationMethod): ObjectMatch[] {
    const seen = new Map<number, ObjectMatch>();
    for (const hit of hits) {
      if (seen.has(hit.objectId)) continue; // hits are best-first: the first is the object's best photo
      const score = method === 'best' ? hit.score : this.meanTop2(hit, queries, qi);
      seen.set(hit.objectId, { objectId: hit.objectId, score, bestPhotoId: hit.photoId, rank: 0 });
    }
    return [...seen.values()];
  }

  /** Scores all the object's photos exactly: its second photo may lie beyond the hit list. */
  private meanTop2(best: Hit, queries: Float32Array, qi: number): number {
    const rows = this.rowsByObject.get(best.objectId)!;
    if (rows.length === 1) return best.score;
    const q = queryAt(queries, qi, this.index.dims);
    let second = -Infinity;
    for (const row of rows) if (row !== best.row) second = Math.max(second, dot(q, 0, this.index.vectorAt(row), 0, this.index.dims));
    return (best.score + second) / 2;
  }

  private fromPrototypes(hits: Hit[], queries: Float32Array, qi: number): ObjectMatch[] {
    const q = queryAt(queries, qi, this.index.dims);
    return hits.map((hit, i) => ({ objectId: hit.objectId, score: hit.score, bestPhotoId: this.closestPhoto(hit.objectId, q), rank: i + 1 }));
  }

  private closestPhoto(objectId: number, q: Float32Array): number {
    let best = -Infinity;
    let bestRow = -1;
    for (const row of this.rowsByObject.get(objectId)!) {
      const s = dot(q, 0, this.index.vectorAt(row), 0, this.index.dims);
      if (s > best) [best, bestRow] = [s, row];
    }
    return this.index.photoIdAt(bestRow);
  }

  /** Rebuilds the object → rows map and the prototypes after the index changed. */
  private refresh(): void {
    if (this.builtFor === this.index.version) return;
    const { index } = this;
    this.rowsByObject = groupRowsByObject(index);
    this.maxPhotos = largestGroup(this.rowsByObject);
    this.prototypes = buildPrototypes(index, this.rowsByObject);
    this.builtFor = index.version;
  }
}

/** Each object's prototype: the mean of its (already normalised) photo vectors, in one contiguous index. */
function buildPrototypes(index: VectorIndex, rowsByObject: Map<number, number[]>): FlatIndex {
  const { dims } = index;
  const ids = [...rowsByObject.keys()];
  const means = new Float32Array(ids.length * dims);
  ids.forEach((objectId, i) => {
    for (const row of rowsByObject.get(objectId)!) {
      const v = index.vectorAt(row);
      for (let j = 0; j < dims; j++) means[i * dims + j]! += v[j]!;
    }
  });
  const prototypes = new FlatIndex(dims, {}, Math.max(ids.length, 1));
  prototypes.add(ids, ids, means); // add() re-normalises each mean
  return prototypes;
}

function rankObjects(matches: ObjectMatch[], k: number): ObjectMatch[] {
  matches.sort((a, b) => b.score - a.score || a.objectId - b.objectId);
  return matches.slice(0, k).map((m, i) => ({ ...m, rank: i + 1 }));
}

function queryAt(queries: Float32Array, qi: number, dims: number): Float32Array {
  const q = queries.slice(qi * dims, (qi + 1) * dims);
  normaliseInPlace(q);
  return q;
}

/** Mean-embedding fusion of several query photos (row-major) into one normalised query. */
export function fuseMeanEmbedding(queries: Float32Array, dims: number): Float32Array {
  const n = queries.length / dims;
  if (!Number.isInteger(n) || n < 1) {
    throw new UserError('INVALID_ARGUMENT', 'Fusing query photos needs at least one whole descriptor.', 'Add at least one photo to the query.');
  }
  const fused = new Float32Array(dims);
  for (let i = 0; i < n; i++) {
    const q = queryAt(queries, i, dims);
    for (let j = 0; j < dims; j++) fused[j]! += q[j]!;
  }
  normaliseInPlace(fused);
  return fused;
}
