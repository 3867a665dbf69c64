import { leadingAxes } from '../search/principal-axes';
import { dot } from '../search/vectors';
import { timesTransposed } from '../search/products';

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
 * PCA of the catalogue map by block power iteration (principal-axes.ts): 0.3–0.5 s for 50 axes
 * of 25k × 768, where plain JS took 4.5–6.5 s.
 */
export async function fitPca(rows: Float32Array, dims: number, components: number, random: () => number): Promise<PcaModel> {
  const n = rows.length / dims;
  const stride = Math.max(1, Math.ceil(n / MAX_FIT_ROWS));
  const mean = sampleMean(rows, dims, stride);
  const sample = centredSample(rows, dims, mean, stride);
  const { axes } = await leadingAxes(sample, dims, components, random, { oversample: OVERSAMPLE, iterations: ITERATIONS });
  return { dims, components: axes.length / dims, mean, axes };
}

/** Coordinates of row-major `rows` on the model's axes: n × components. For a few rows: plain JS, synchronous. */
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

/** projectRows for many rows, on onnxruntime: (x − mean) · axis as x · axis − mean · axis. */
export async function projectAllRows(model: PcaModel, rows: Float32Array): Promise<Float32Array> {
  const { dims, components, mean, axes } = model;
  const out = await timesTransposed(rows, axes, dims);
  const shift = Float32Array.from({ length: components }, (_, c) => dot(axes, c * dims, mean, 0, dims));
  for (let i = 0; i < out.length; i++) out[i]! -= shift[i % components]!;
  return out;
}

function sampleMean(rows: Float32Array, dims: number, stride: number): Float32Array {
  const sum = new Float64Array(dims);
  let count = 0;
  for (let r = 0; r < rows.length / dims; r += stride, count++) for (let j = 0; j < dims; j++) sum[j]! += rows[r * dims + j]!;
  return Float32Array.from(sum, (s) => s / count);
}

/** Every stride-th row minus the mean, row-major. */
function centredSample(rows: Float32Array, dims: number, mean: Float32Array, stride: number): Float32Array {
  const count = Math.ceil(rows.length / dims / stride);
  const out = new Float32Array(count * dims);
  for (let s = 0; s < count; s++) for (let j = 0; j < dims; j++) out[s * dims + j] = rows[s * stride * dims + j]! - mean[j]!;
  return out;
}
