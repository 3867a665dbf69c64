/** Small dense-vector helpers shared by the index, post-processing and aggregation. */

/** Dot product of a[aOff..aOff+dims) and b[bOff..bOff+dims), unrolled by four for V8. */
export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dims: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < dims; j += 4) {
    s0 += a[aOff + j]! * b[bOff + j]!;
    s1 += a[aOff + j + 1]! * b[bOff + j + 1]!;
    s2 += a[aOff + j + 2]! * b[bOff + j + 2]!;
    s3 += a[aOff + j + 3]! * b[bOff + j + 3]!;
  }
  for (; j < dims; j++) s0 += a[aOff + j]! * b[bOff + j]!;
  return s0 + s1 + s2 + s3;
}

/** Scales v[off..off+dims) to unit length in place; a zero vector stays zero. */
export function normaliseInPlace(v: Float32Array, off = 0, dims = v.length - off): void {
  const norm = Math.sqrt(dot(v, off, v, off, dims));
  if (norm === 0) return;
  const inv = 1 / norm;
  for (let j = off; j < off + dims; j++) v[j] = v[j]! * inv;
}

/** L2-normalises every row of a row-major matrix in place. */
export function normaliseRows(m: Float32Array, dims: number): Float32Array {
  for (let off = 0; off < m.length; off += dims) normaliseInPlace(m, off, dims);
  return m;
}

/** At most `count` of the indices 0 … n − 1, evenly spaced from 0 (deterministic). */
export function evenIndices(n: number, count: number): number[] {
  const kept = Math.min(n, count);
  return Array.from({ length: kept }, (_, i) => Math.floor((i * n) / kept));
}

/** Row blocks one after another in one array. */
export function stackRows(blocks: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(blocks.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const b of blocks) {
    out.set(b, offset);
    offset += b.length;
  }
  return out;
}
