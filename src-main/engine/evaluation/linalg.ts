/**
 * Dense row-major products for retrieval scoring on the CPU. Every inner loop walks
 * contiguous memory (a saxpy or a dot), which is what V8 turns into tight machine code.
 */
import { dot } from '../search/vectors';

/** C (m×n) = A (m×k) · Bᵀ where B is n×k: all row-against-row dot products. */
export function matmulTransposed(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const c = new Float32Array(m * n);
  const ROWS = 128; // a block of B's rows stays in cache while every row of A meets it
  for (let j0 = 0; j0 < n; j0 += ROWS) {
    const j1 = Math.min(n, j0 + ROWS);
    for (let i = 0; i < m; i++) {
      for (let j = j0; j < j1; j++) c[i * n + j] = dot(a, i * k, b, j * k, k);
    }
  }
  return c;
}

/** Row-wise softmax in place, with an optional temperature dividing the scores first. */
export function softmaxRows(scores: Float32Array, cols: number, temperature = 1): Float32Array {
  for (let off = 0; off < scores.length; off += cols) {
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, scores[off + j]!);
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp((scores[off + j]! - max) / temperature);
      scores[off + j] = e;
      sum += e;
    }
    for (let j = 0; j < cols; j++) scores[off + j]! /= sum;
  }
  return scores;
}

/** Rows `rows` of a row-major matrix, gathered into a new contiguous one. */
export function gatherRows(m: Float32Array, dims: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => out.set(m.subarray(r * dims, (r + 1) * dims), i * dims));
  return out;
}

/** The inverse of gatherRows: writes `values`' rows back into `m` at `rows`. */
export function scatterRows(m: Float32Array, dims: number, rows: readonly number[], values: Float32Array): void {
  rows.forEach((r, i) => m.set(values.subarray(i * dims, (i + 1) * dims), r * dims));
}
