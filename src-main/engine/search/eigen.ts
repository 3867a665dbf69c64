/**
 * Eigen-decomposition of a real symmetric matrix: Householder reduction to
 * tridiagonal form (tred2) followed by the implicit QL method with Wilkinson-style
 * shifts (tql2). O(n³) with small constants, unlike Jacobi sweeps.
 *
 * The working matrix V is stored column-major (V[r][c] at c*n + r): every O(n³)
 * loop of both stages walks down a column, so column-major keeps those walks
 * contiguous in memory, and each eigenvector ends up as one contiguous slice.
 */
export interface Eigen {
  n: number;
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** Eigenvector i (unit length) is vectors[i*n .. (i+1)*n), in the order of `values`. */
  vectors: Float64Array;
}

/** `a` is a symmetric n×n matrix, row-major (only its symmetry is relied upon; it is not modified). */
export function symmetricEigen(a: Float64Array, n: number): Eigen {
  const v = Float64Array.from(a); // symmetric, so row-major and column-major coincide
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalise(v, d, e, n);
  diagonaliseTridiagonal(v, d, e, n);
  return sortDescending(v, d, n);
}

/** Householder reduction: on return d is the diagonal, e[1..] the sub-diagonal, v the accumulated transform. */
function tridiagonalise(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  const at = (r: number, c: number): number => c * n + r;
  for (let j = 0; j < n; j++) d[j] = v[at(n - 1, j)]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    let h = 0;
    if (scale === 0) {
      // Row already reduced: nothing to annihilate.
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = v[at(i - 1, j)]!;
        v[at(i, j)] = 0;
        v[at(j, i)] = 0;
      }
    } else {
      h = householderStep(v, d, e, n, i, scale);
    }
    d[i] = h;
  }
  accumulateTransforms(v, d, n);
  e[0] = 0;
}

/** Builds the reflector that zeroes row i left of the sub-diagonal and applies it to the leading i×i block. */
function householderStep(v: Float64Array, d: Float64Array, e: Float64Array, n: number, i: number, scale: number): number {
  const at = (r: number, c: number): number => c * n + r;
  let h = 0;
  for (let k = 0; k < i; k++) {
    d[k]! /= scale; // scaling avoids overflow/underflow in the norm
    h += d[k]! * d[k]!;
  }
  let f = d[i - 1]!;
  const g0 = f > 0 ? -Math.sqrt(h) : Math.sqrt(h);
  e[i] = scale * g0;
  h -= f * g0;
  d[i - 1] = f - g0;
  e.fill(0, 0, i);
  // e := A u (using the stored lower triangle), column by column.
  for (let j = 0; j < i; j++) {
    f = d[j]!;
    v[at(j, i)] = f;
    let g = e[j]! + v[at(j, j)]! * f;
    const col = j * n;
    for (let k = j + 1; k < i; k++) {
      g += v[col + k]! * d[k]!;
      e[k]! += v[col + k]! * f;
    }
    e[j] = g;
  }
  // p = A u / h, K = uᵀp / 2h, q = p − K u.
  f = 0;
  for (let j = 0; j < i; j++) {
    e[j]! /= h;
    f += e[j]! * d[j]!;
  }
  const hh = f / (h + h);
  for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
  // A := A − u qᵀ − q uᵀ on the lower triangle.
  for (let j = 0; j < i; j++) {
    f = d[j]!;
    const g = e[j]!;
    const col = j * n;
    for (let k = j; k < i; k++) v[col + k]! -= f * e[k]! + g * d[k]!;
    d[j] = v[at(i - 1, j)]!;
    v[at(i, j)] = 0;
  }
  return h;
}

/** Turns the stored Householder vectors into the orthogonal matrix Q with QᵀAQ tridiagonal. */
function accumulateTransforms(v: Float64Array, d: Float64Array, n: number): void {
  const at = (r: number, c: number): number => c * n + r;
  for (let i = 0; i < n - 1; i++) {
    v[at(n - 1, i)] = v[at(i, i)]!;
    v[at(i, i)] = 1;
    const h = d[i + 1]!;
    const next = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[next + k]! / h;
      for (let j = 0; j <= i; j++) {
        const col = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[next + k]! * v[col + k]!;
        for (let k = 0; k <= i; k++) v[col + k]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) v[next + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[at(n - 1, j)]!;
    v[at(n - 1, j)] = 0;
  }
  v[at(n - 1, n - 1)] = 1;
}

/** Implicit QL: chases the sub-diagonal to zero with plane rotations, applying each to v's columns. */
function diagonaliseTridiagonal(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let shiftSum = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]!) > eps * tst1) m++;
    if (m > l) {
      for (let iter = 0; Math.abs(e[l]!) > eps * tst1; iter++) {
        if (iter > 60) throw new Error('Eigen-decomposition did not converge.');
        shiftSum += qlSweep(v, d, e, n, l, m);
      }
    }
    d[l]! += shiftSum;
    e[l] = 0;
  }
}

/** One implicitly shifted QL step on the unreduced block l..m; returns the shift it subtracted. */
function qlSweep(v: Float64Array, d: Float64Array, e: Float64Array, n: number, l: number, m: number): number {
  // Shift from the eigenvalue of the leading 2×2 block closer to d[l].
  const g0 = d[l]!;
  let p = (d[l + 1]! - g0) / (2 * e[l]!);
  let r = Math.hypot(p, 1);
  if (p < 0) r = -r;
  d[l] = e[l]! / (p + r);
  d[l + 1] = e[l]! * (p + r);
  const dl1 = d[l + 1]!;
  const shift = g0 - d[l]!;
  for (let i = l + 2; i < n; i++) d[i]! -= shift;

  p = d[m]!;
  let c = 1;
  let c2 = 1;
  let c3 = 1;
  const el1 = e[l + 1]!;
  let s = 0;
  let s2 = 0;
  for (let i = m - 1; i >= l; i--) {
    c3 = c2;
    c2 = c;
    s2 = s;
    const g = c * e[i]!;
    const h = c * p;
    r = Math.hypot(p, e[i]!);
    e[i + 1] = s * r;
    s = e[i]! / r;
    c = p / r;
    p = c * d[i]! - s * g;
    d[i + 1] = h + s * (c * g + s * d[i]!);
    rotateColumns(v, n, i, s, c);
  }
  p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
  e[l] = s * p;
  d[l] = c * p;
  return shift;
}

function rotateColumns(v: Float64Array, n: number, i: number, s: number, c: number): void {
  const a = i * n;
  const b = (i + 1) * n;
  for (let k = 0; k < n; k++) {
    const h = v[b + k]!;
    v[b + k] = s * v[a + k]! + c * h;
    v[a + k] = c * v[a + k]! - s * h;
  }
}

function sortDescending(v: Float64Array, d: Float64Array, n: number): Eigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y]! - d[x]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    values[to] = d[from]!;
    vectors.set(v.subarray(from * n, (from + 1) * n), to * n);
  });
  return { n, values, vectors };
}
