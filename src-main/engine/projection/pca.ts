import { symmetricEigen } from '../search/eigen';
import { dot } from '../search/vectors';

/** Leading principal axes of a set of rows; `project` maps any row onto them exactly. */
export interface PcaModel {
  dims: number;
  components: number;
  mean: Float32Array;
  /** components × dims, unit rows, largest variance first. */
  axes: Float32Array;
}

/**
 * The leading axes are estimated from at most this many evenly spaced rows: they are as
 * well determined by 5,000 rows as by 25,000, at a fifth of the cost.
 */
const MAX_FIT_ROWS = 4000;
/** Extra directions carried along: the gap they add to the spectrum speeds convergence. */
const OVERSAMPLE = 8;
const ITERATIONS = 4;

/**
 * PCA by block power iteration with a Rayleigh–Ritz step (as in randomised SVD): only
 * (components + 8) products with the covariance, never the dims × dims matrix itself,
 * so a 2560-d descriptor costs no more than a few passes over the rows.
 */
export function fitPca(rows: Float32Array, dims: number, components: number, random: () => number): PcaModel {
  const n = rows.length / dims;
  const sample = { stride: Math.max(1, Math.ceil(n / MAX_FIT_ROWS)), n };
  const mean = sampleMean(rows, dims, sample);
  const width = Math.min(components + OVERSAMPLE, dims, n);
  let basis = orthonormalRows(Float32Array.from({ length: width * dims }, () => gaussian(random)), width, dims);
  for (let i = 0; i < ITERATIONS; i++) basis = orthonormalRows(covarianceTimes(rows, dims, mean, basis, width, sample), width, dims);
  return { dims, components: Math.min(components, width), mean, axes: rayleighRitz(rows, dims, mean, basis, width, sample, components) };
}

/** Coordinates of row-major `rows` on the model's axes: n × components. */
export function projectRows(model: PcaModel, rows: Float32Array): Float32Array {
  const { dims, components, mean, axes } = model;
  const n = rows.length / dims;
  const out = new Float32Array(n * components);
  const centred = new Float32Array(dims);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < dims; j++) centred[j] = rows[r * dims + j]! - mean[j]!;
    for (let c = 0; c < components; c++) out[r * components + c] = dot(axes, c * dims, centred, 0, dims);
  }
  return out;
}

interface Sample {
  stride: number;
  n: number;
}

function sampleMean(rows: Float32Array, dims: number, sample: Sample): Float32Array {
  const sum = new Float64Array(dims);
  let count = 0;
  for (let r = 0; r < sample.n; r += sample.stride, count++) for (let j = 0; j < dims; j++) sum[j]! += rows[r * dims + j]!;
  return Float32Array.from(sum, (s) => s / count);
}

/** Calls `visit` with each sampled row centred and its coordinates on the basis rows. */
function forEachProjected(rows: Float32Array, dims: number, mean: Float32Array, basis: Float32Array, width: number, sample: Sample,
  visit: (centred: Float32Array, coords: Float64Array) => void): void {
  const centred = new Float32Array(dims);
  const coords = new Float64Array(width);
  for (let r = 0; r < sample.n; r += sample.stride) {
    for (let j = 0; j < dims; j++) centred[j] = rows[r * dims + j]! - mean[j]!;
    for (let c = 0; c < width; c++) coords[c] = dot(basis, c * dims, centred, 0, dims);
    visit(centred, coords);
  }
}

/** (Xᵀ X) Bᵀ for the sampled, centred rows X: one pass over the rows. */
function covarianceTimes(rows: Float32Array, dims: number, mean: Float32Array, basis: Float32Array, width: number, sample: Sample): Float32Array {
  const out = new Float32Array(width * dims);
  forEachProjected(rows, dims, mean, basis, width, sample, (centred, coords) => {
    for (let c = 0; c < width; c++) {
      const p = coords[c]!;
      for (let j = 0, o = c * dims; j < dims; j++, o++) out[o]! += p * centred[j]!;
    }
  });
  return out;
}

/** Rotates the converged basis onto the covariance's eigenvectors within it and keeps the leading ones. */
function rayleighRitz(rows: Float32Array, dims: number, mean: Float32Array, basis: Float32Array, width: number, sample: Sample, components: number): Float32Array {
  const small = new Float64Array(width * width);
  forEachProjected(rows, dims, mean, basis, width, sample, (_, coords) => {
    for (let a = 0; a < width; a++) for (let b = 0; b < width; b++) small[a * width + b]! += coords[a]! * coords[b]!;
  });
  const eigen = symmetricEigen(small, width);
  const kept = Math.min(components, width);
  const axes = new Float32Array(kept * dims);
  for (let k = 0; k < kept; k++) {
    for (let c = 0; c < width; c++) {
      const u = eigen.vectors[k * width + c]!;
      for (let j = 0; j < dims; j++) axes[k * dims + j]! += u * basis[c * dims + j]!;
    }
  }
  return axes;
}

/** Modified Gram–Schmidt on the rows, in place; a row that is already spanned becomes zero. */
function orthonormalRows(m: Float32Array, count: number, dims: number): Float32Array {
  for (let a = 0; a < count; a++) {
    const ra = a * dims;
    for (let b = 0; b < a; b++) {
      const rb = b * dims;
      let s = 0;
      for (let j = 0; j < dims; j++) s += m[ra + j]! * m[rb + j]!;
      for (let j = 0; j < dims; j++) m[ra + j]! -= s * m[rb + j]!;
    }
    let norm = 0;
    for (let j = 0; j < dims; j++) norm += m[ra + j]! ** 2;
    const inv = norm > 1e-20 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < dims; j++) m[ra + j]! *= inv;
  }
  return m;
}

/** Box–Muller: a standard normal deviate from the seeded stream. */
export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
