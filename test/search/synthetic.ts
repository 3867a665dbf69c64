/** Deterministic synthetic descriptors for search tests and the benchmark. */
import { mulberry32 } from '../../src-main/engine/random';

/** Seeded PRNG so every run sees the same data. */
export const rng = mulberry32;

/** Standard normal deviates (Box–Muller). */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export function randomMatrix(rows: number, dims: number, seed: number): Float32Array {
  const g = gaussian(rng(seed));
  return Float32Array.from({ length: rows * dims }, g);
}

export interface Catalogue {
  vectors: Float32Array;
  photoIds: Int32Array;
  objectIds: Int32Array;
  /** Object centres, row-major. */
  centres: Float32Array;
}

/**
 * `objects` random centres with `photosPer` photos each: centre + noise·N(0, I/dims).
 * An `offset` vector shared by everything mimics the common component of CNN descriptors.
 */
export function clusteredCatalogue(objects: number, photosPer: number, dims: number, seed: number, noise = 0.5, offset?: Float32Array): Catalogue {
  const g = gaussian(rng(seed));
  const centres = Float32Array.from({ length: objects * dims }, () => g() / Math.sqrt(dims));
  const n = objects * photosPer;
  const vectors = new Float32Array(n * dims);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(i / photosPer);
    for (let j = 0; j < dims; j++) {
      vectors[i * dims + j] = centres[c * dims + j]! + (noise * g()) / Math.sqrt(dims) + (offset?.[j] ?? 0);
    }
  }
  return {
    vectors,
    photoIds: Int32Array.from({ length: n }, (_, i) => 1000 + i),
    objectIds: Int32Array.from({ length: n }, (_, i) => Math.floor(i / photosPer)),
    centres,
  };
}
