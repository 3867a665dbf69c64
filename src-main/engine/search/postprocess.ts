import { UserError } from '../errors';
import { mulberry32 } from '../random';
import { symmetricEigen } from './eigen';
import { copyOut } from './index';
import { leadingAxes } from './principal-axes';
import { timesTransposed, transposedTimes } from './products';
import { evenIndices, normaliseInPlace, normaliseRows } from './vectors';

/**
 * Descriptor post-processing learned from the catalogue itself.
 *
 * Off-the-shelf CNN descriptors share a large common component (every photo of an
 * object on a plinth "looks like" every other), which pushes unrelated cosines up to
 * ~0.9 and compresses the useful range. Centring removes the shared mean; PCA
 * whitening also equalises the variance of the remaining directions so that a few
 * dominant (often background or lighting) directions no longer swamp the rest.
 */
export type PostprocessMode = 'centre' | 'whiten';

export interface WhiteningOptions {
  mode?: PostprocessMode;
  /** Principal components kept when whitening (d'); default all that carry variance. */
  components?: number;
  /**
   * Shrinkage: each component is divided by sqrt(λ + shrinkage · mean λ), so directions
   * with almost no variance (noise, or rank deficiency when few photos) are not blown up.
   * Default DEFAULT_SHRINKAGE.
   */
  shrinkage?: number;
  /** Axes (Postprocessor.axes) of a whitening learned from rows like these, which a fit past EXACT_UP_TO starts from (WARM). */
  start?: Float32Array;
}

/**
 * Measured against 0.1 (recipe descriptors, COIL λ = 2.7): uncatalogued objects' photos rejected
 * at 95 % of known ones answered rose from 79.8 to 83.0 % (20 seeds), paper-protocol top-1 at
 * ≥3 photos from 96.8 to 97.2 % (10 seeds); 0.01 and 0.001 gave no more and cost nearest
 * neighbour 2 to 12 points.
 */
export const DEFAULT_SHRINKAGE = 0.03;

const MAGIC = 0x50504c41; // "ALPP"
const FORMAT_VERSION = 1;
const HEADER_WORDS = 7;

export class Postprocessor {
  private constructor(
    readonly mode: PostprocessMode,
    readonly inDims: number,
    readonly outDims: number,
    /** How many rows it was fitted on: a whitening learned from a handful of photos is weak. */
    readonly fittedOn: number,
    readonly shrinkage: number,
    private readonly mean: Float32Array,
    /** outDims × inDims, each row an eigenvector already divided by its regularised standard deviation. */
    private readonly projection: Float32Array,
  ) {}

  /** Learns the mean (and for 'whiten' the covariance's eigenbasis) from row-major `rows`, L2-normalised first. */
  static async fit(rows: Float32Array, dims: number, options: WhiteningOptions = {}): Promise<Postprocessor> {
    const n = rows.length / dims;
    if (!Number.isInteger(n) || n < 2) {
      throw new UserError('INVALID_ARGUMENT', 'Post-processing needs at least two descriptors to learn from.', 'Add more photos to the catalogue before enabling whitening.');
    }
    const x = normaliseRows(evenSample(rows, dims, MAX_FIT_ROWS), dims);
    const mean = columnMean(x, dims);
    const mode = options.mode ?? 'whiten';
    const shrinkage = options.shrinkage ?? DEFAULT_SHRINKAGE;
    if (mode === 'centre') return new Postprocessor(mode, dims, dims, n, shrinkage, mean, new Float32Array(0));
    const outDims = Math.min(options.components ?? dims, dims, x.length / dims - 1);
    const { values, vectors, meanLambda } = await principalAxes(x, mean, dims, outDims, options.start);
    return new Postprocessor(mode, dims, outDims, n, shrinkage, mean, whiteningProjection(values, vectors, dims, outDims, shrinkage, meanLambda));
  }

  /** A whitening's axes, unit rows (outDims × inDims), largest variance first: where another fit on rows like these can start (WhiteningOptions.start). */
  axes(): Float32Array {
    return normaliseRows(this.projection.slice(), this.inDims);
  }

  /** Post-processes one descriptor into a new, L2-normalised vector of outDims values. */
  apply(vec: Float32Array): Float32Array {
    return this.applyBatch(vec);
  }

  /** `normalise = false` leaves the whitened vectors at their natural scale (for inspection and tests). */
  applyBatch(rows: Float32Array, normalise = true): Float32Array {
    const { inDims, outDims } = this;
    if (rows.length % inDims !== 0) {
      throw new UserError('MODEL_MISMATCH', `Expected descriptors of ${inDims} values, got ${rows.length} values.`, 'Re-fit the post-processing for the model in use.');
    }
    const n = rows.length / inDims;
    const out = new Float32Array(n * outDims);
    const centred = new Float32Array(inDims);
    for (let r = 0; r < n; r++) {
      centred.set(rows.subarray(r * inDims, (r + 1) * inDims));
      normaliseInPlace(centred);
      for (let j = 0; j < inDims; j++) centred[j] = centred[j]! - this.mean[j]!;
      this.project(centred, out, r * outDims);
      if (normalise) normaliseInPlace(out, r * outDims, outDims);
    }
    return out;
  }

  /** applyBatch for many rows at once: the projection runs on onnxruntime's kernels. */
  async applyMany(rows: Float32Array): Promise<Float32Array> {
    if (this.mode === 'centre') return this.applyBatch(rows);
    const { inDims, outDims } = this;
    const centred = normaliseRows(rows.slice(), inDims);
    for (let i = 0; i < centred.length; i++) centred[i] = centred[i]! - this.mean[i % inDims]!;
    return normaliseRows(await timesTransposed(centred, this.projection, inDims), outDims);
  }

  serialise(): Buffer {
    const header = new Uint32Array([MAGIC, FORMAT_VERSION, this.mode === 'whiten' ? 1 : 0, this.inDims, this.outDims, this.fittedOn, 0]);
    new Float32Array(header.buffer, 6 * 4, 1)[0] = this.shrinkage;
    return Buffer.concat([header, this.mean, this.projection].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  }

  static deserialise(bytes: Uint8Array): Postprocessor {
    const words = bytes.byteLength >= HEADER_WORDS * 4 ? new Uint32Array(copyOut(bytes, 0, HEADER_WORDS * 4)) : null;
    if (!words || words[0] !== MAGIC || words[1] !== FORMAT_VERSION) throw corrupt('it is not post-processing data of this version');
    const mode: PostprocessMode = words[2] === 1 ? 'whiten' : 'centre';
    const [inDims, outDims, fittedOn] = [words[3]!, words[4]!, words[5]!];
    const shrinkage = new Float32Array(words.buffer, 6 * 4, 1)[0]!;
    const projectionLength = mode === 'whiten' ? outDims * inDims : 0;
    if (bytes.byteLength !== (HEADER_WORDS + inDims + projectionLength) * 4) throw corrupt('its length does not match its header');
    const floats = new Float32Array(copyOut(bytes, HEADER_WORDS * 4, bytes.byteLength));
    return new Postprocessor(mode, inDims, outDims, fittedOn, shrinkage, floats.slice(0, inDims), floats.slice(inDims));
  }

  private project(centred: Float32Array, out: Float32Array, offset: number): void {
    if (this.mode === 'centre') {
      out.set(centred, offset);
      return;
    }
    const { inDims, outDims, projection } = this;
    for (let c = 0; c < outDims; c++) {
      let s = 0;
      for (let j = 0, p = c * inDims; j < inDims; j++, p++) s += projection[p]! * centred[j]!;
      out[offset + c] = s;
    }
  }
}

/** Past this many rows, an even sample estimates the leading directions as well, for less. */
const MAX_FIT_ROWS = 8000;

/** A copy of at most `max` rows, evenly spaced (deterministic). */
function evenSample(rows: Float32Array, dims: number, max: number): Float32Array {
  const n = rows.length / dims;
  if (n <= max) return rows.slice();
  const out = new Float32Array(max * dims);
  evenIndices(n, max).forEach((r, i) => out.set(rows.subarray(r * dims, (r + 1) * dims), i * dims));
  return out;
}

function columnMean(x: Float32Array, dims: number): Float32Array {
  const sum = new Float64Array(dims);
  for (let off = 0; off < x.length; off += dims) for (let j = 0; j < dims; j++) sum[j]! += x[off + j]!;
  const n = x.length / dims;
  return Float32Array.from(sum, (s) => s / n);
}

/**
 * Past this order, only the leading axes are found (principal-axes.ts): the full decomposition
 * of a 2560-d covariance took ~2.5 min in plain JS (8,000 rows, 145 s). The leading 512 axes of
 * 2,776-d rows take about 7.5 s on 2 cores at any number of rows, the exact n × n route 8 s at
 * 1,000 rows and 20-25 s at 1,400 (a threshold's calibration folds). Smaller fits (the
 * evaluation's folds, small catalogues) stay exact.
 */
const EXACT_UP_TO = 1000;
const LEADING = { oversample: 128, iterations: 6 };
/** From another fit's axes (a calibration fold from the whole catalogue's whitening), fewer rounds reach as far. */
const WARM = { oversample: 128, iterations: 2 };

/**
 * The leading `keep` eigenvalues (largest first) and unit eigenvectors (rows) of the rows'
 * covariance, and the mean of its positive eigenvalues (the shrinkage's scale). With fewer
 * rows than dimensions (most catalogues against 2560-d joined descriptors) the n × n Gram
 * matrix has the same non-zero eigenvalues, and X^T u / sqrt((n-1) lambda) are the
 * covariance's eigenvectors: a d^3 decomposition becomes an n^3 one.
 */
async function principalAxes(x: Float32Array, mean: Float32Array, dims: number, keep: number, start?: Float32Array): Promise<{ values: Float64Array; vectors: Float64Array; meanLambda: number }> {
  const rows = x.length / dims;
  const centred = Float32Array.from(x, (v, i) => v - mean[i % dims]!);
  const rank = Math.min(rows - 1, dims);
  const settings = start ? WARM : LEADING;
  if (rank > EXACT_UP_TO && keep + settings.oversample < rank) {
    const { axes, variances } = await leadingAxes(centred, dims, keep, mulberry32(1), settings, start);
    let total = 0;
    for (const v of centred) total += v * v;
    return { values: variances, vectors: Float64Array.from(axes), meanLambda: total / (rows - 1) / rank };
  }
  const exact = await exactAxes(centred, rows, dims, keep);
  const positive = exact.values.filter((v) => v > 0);
  return { ...exact, meanLambda: positive.reduce((a, b) => a + b, 0) / Math.max(positive.length, 1) };
}

async function exactAxes(centred: Float32Array, rows: number, dims: number, keep: number): Promise<{ values: Float64Array; vectors: Float64Array }> {
  const scaled = (m: Float32Array) => Float64Array.from(m, (v) => v / (rows - 1));
  if (rows >= dims) return symmetricEigen(scaled(await transposedTimes(centred, dims, centred, dims)), dims);
  const eigen = symmetricEigen(scaled(await timesTransposed(centred, centred, dims)), rows);
  // Covariance eigenvector c = X^T u_c / sqrt((n-1) lambda_c): one product with the first `keep` u's, scaled.
  const u = new Float32Array(rows * keep);
  // Null directions stay zero and get no weight. The Gram matrix is summed in float32, so
  // "null" is below a millionth of the largest eigenvalue: dividing by the root of such a
  // rounding residue would blow noise up into a direction of huge weight.
  const floor = 1e-6 * eigen.values[0]!;
  for (let c = 0; c < keep; c++) {
    const lambda = eigen.values[c]!;
    if (!(lambda > floor)) continue;
    const scale = 1 / Math.sqrt((rows - 1) * lambda);
    for (let r = 0; r < rows; r++) u[r * keep + c] = eigen.vectors[c * rows + r]! * scale;
  }
  return { values: eigen.values, vectors: Float64Array.from(await transposedTimes(u, keep, centred, dims)) };
}

function whiteningProjection(values: Float64Array, vectors: Float64Array, dims: number, outDims: number, shrinkage: number, meanLambda: number): Float32Array {
  const projection = new Float32Array(outDims * dims);
  for (let c = 0; c < outDims; c++) {
    const inv = 1 / Math.sqrt(Math.max(values[c]!, 0) + shrinkage * meanLambda);
    for (let j = 0; j < dims; j++) projection[c * dims + j] = vectors[c * dims + j]! * inv;
  }
  return projection;
}

function corrupt(why: string): UserError {
  return new UserError('CATALOGUE_INVALID', `The saved descriptor post-processing cannot be read: ${why}.`, 'Re-fit the post-processing from the catalogue.');
}

/**
 * Generalised-mean (GeM) pooling of a feature map into one value per channel:
 * (mean of max(x, eps)^p)^(1/p). p = 1 is average pooling, p → ∞ approaches max
 * pooling; p = 3 favours strong local responses without ignoring the rest.
 */
export function gem(featureMap: Float32Array, channels: number, height: number, width: number, p = 3, layout: 'CHW' | 'HWC' = 'CHW', eps = 1e-6): Float32Array {
  const cells = height * width;
  if (featureMap.length !== channels * cells) {
    throw new UserError('MODEL_MISMATCH', `A ${channels}×${height}×${width} feature map needs ${channels * cells} values, not ${featureMap.length}.`, 'Check the model card of the feature extractor.');
  }
  const [channelStride, cellStride] = layout === 'CHW' ? [cells, 1] : [1, channels];
  const out = new Float32Array(channels);
  // A whole exponent by multiplication: `**` with a variable exponent took 11 times longer (44 ms
  // for InceptionV3-mixed5's map), and on a GPU pooling runs in the one thread that feeds it.
  const whole = Number.isInteger(p) && p >= 1;
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let i = 0; i < cells; i++) {
      const v = Math.max(featureMap[c * channelStride + i * cellStride]!, eps);
      if (whole) {
        let power = v;
        for (let k = 1; k < p; k++) power *= v;
        sum += power;
      } else {
        sum += v ** p;
      }
    }
    out[c] = (sum / cells) ** (1 / p);
  }
  return out;
}

/**
 * Joins per-model descriptors into one. Each part is L2-normalised and scaled by
 * sqrt(weight), and the result normalised again, so the cosine of two joined
 * descriptors is the weight-averaged cosine of their parts.
 */
export function concatDescriptors(parts: ReadonlyArray<{ vector: Float32Array; weight?: number }>): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.vector.length, 0));
  let offset = 0;
  for (const { vector, weight = 1 } of parts) {
    if (!(weight >= 0)) throw new UserError('INVALID_ARGUMENT', `A descriptor weight must be zero or more, not ${weight}.`, 'Fix the model weights in the settings.');
    out.set(vector, offset);
    normaliseInPlace(out, offset, vector.length);
    const w = Math.sqrt(weight);
    for (let j = offset; j < offset + vector.length; j++) out[j] = out[j]! * w;
    offset += vector.length;
  }
  normaliseInPlace(out);
  return out;
}
