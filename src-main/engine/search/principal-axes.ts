import { gaussian } from '../random';
import { symmetricEigen } from './eigen';
import { withProducts, type Products } from './products';

/**
 * Leading principal axes of centred rows by block power iteration with a Rayleigh–Ritz step
 * (as in randomised SVD, Halko, Martinsson & Tropp 2011): a few products with the rows, on
 * onnxruntime, never the dims × dims covariance nor its full decomposition. The catalogue map
 * takes 50 axes of 768-d rows; whitening 512 of 2560-d rows, where the full decomposition in
 * plain JS took minutes.
 */
export interface LeadingAxes {
  /** components × dims, unit rows, largest variance first. */
  axes: Float32Array;
  /** Variance along each axis (divisor rows − 1). */
  variances: Float64Array;
}

export interface IterationSettings {
  /** Extra directions carried along: the k-th axis converges like (λ_{k+oversample} / λ_k)^(2·iterations+1). */
  oversample: number;
  iterations: number;
}

/**
 * `start`: axes (rows, dims wide) of rows like these, say a whitening's of the whole catalogue
 * when fitting a calibration fold of it; they begin the basis, random rows fill the rest, and
 * the iteration starts near its answer.
 */
export function leadingAxes(centred: Float32Array, dims: number, components: number, random: () => number, settings: IterationSettings,
  start?: Float32Array): Promise<LeadingAxes> {
  const width = Math.min(components + settings.oversample, dims, centred.length / dims);
  const initial = Float32Array.from({ length: width * dims }, () => gaussian(random));
  // A start row that is zero (a null direction of an exact fit) keeps its random row: it would stay zero.
  for (let r = 0; start && r < Math.min(start.length / dims, width); r++) {
    const row = start.subarray(r * dims, (r + 1) * dims);
    if (row.some((v) => v !== 0)) initial.set(row, r * dims);
  }
  return withProducts(async (products) => {
    let basis = await orthonormalBlocks(products, initial, width, dims);
    for (let i = 0; i < settings.iterations; i++) basis = await orthonormalBlocks(products, await covarianceTimes(products, centred, dims, basis, width), width, dims);
    return rayleighRitz(products, centred, dims, basis, width, components);
  });
}

/** (Xᵀ X) Bᵀ for the centred sample X, as rows: (X Bᵀ)ᵀ X. */
async function covarianceTimes(products: Products, sample: Float32Array, dims: number, basis: Float32Array, width: number): Promise<Float32Array> {
  return products.transposedTimes(await products.timesTransposed(sample, basis, dims), width, sample, dims);
}

/** Rotates the converged basis onto the covariance's eigenvectors within it; keeps the leading ones and their variances. */
async function rayleighRitz(products: Products, sample: Float32Array, dims: number, basis: Float32Array, width: number, components: number): Promise<LeadingAxes> {
  const coords = await products.timesTransposed(sample, basis, dims);
  const eigen = symmetricEigen(Float64Array.from(await products.transposedTimes(coords, width, coords, width)), width);
  const kept = Math.min(components, width);
  const rotation = Float32Array.from(eigen.vectors.subarray(0, kept * width));
  const rows = sample.length / dims;
  return { axes: await products.transposedTimes(transpose(rotation, kept, width), kept, basis, dims), variances: eigen.values.slice(0, kept).map((v) => v / Math.max(rows - 1, 1)) };
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}

/** Rows orthonormalised a block at a time: the block's own rows in plain JS, against the blocks before by products. */
const BLOCK = 16;

/**
 * Block Gram–Schmidt, twice (BCGS2): each block of rows loses its part along the rows before it
 * (two passes: the second removes what rounding left of the first), then its own rows are
 * orthonormalised (orthonormalRows). The rows come out as Gram–Schmidt one at a time gives them,
 * which in plain JS took 21 of a 2,776-d whitening's 25 s; here the products run on onnxruntime
 * and the whole fit takes 8 s.
 */
async function orthonormalBlocks(products: Products, m: Float32Array, count: number, dims: number): Promise<Float32Array> {
  for (let start = 0; start < count; start += BLOCK) {
    const end = Math.min(count, start + BLOCK);
    const block = m.subarray(start * dims, end * dims);
    if (start > 0) {
      const done = m.subarray(0, start * dims);
      for (let pass = 0; pass < 2; pass++) {
        // block -= (block · doneᵀ) · done
        const along = transpose(await products.timesTransposed(block, done, dims), end - start, start);
        const parts = await products.transposedTimes(along, end - start, done, dims);
        for (let j = 0; j < block.length; j++) block[j]! -= parts[j]!;
      }
    }
    orthonormalRows(block, end - start, dims);
  }
  return m;
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

