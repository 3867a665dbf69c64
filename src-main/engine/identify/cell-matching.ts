import { Postprocessor } from '../search/postprocess';
import { timesTransposed } from '../search/products';
import { normaliseInPlace, normaliseRows } from '../search/vectors';

/**
 * Local evidence for one-picture catalogues: a global descriptor of a cluttered shop photo
 * mixes the object with its surroundings, but the object's parts still show up in some of the
 * feature map's cells. Each catalogue picture's cells are looked for among the query's cells,
 * and the best global candidates are re-ranked by how many of them are found. On grocery-dev's
 * one-picture catalogue (964 shop photos) a helper study took top-1 from 42-45 % (global) to
 * 83 % with InceptionV3-mixed5's 17 x 17 cells; MobileNetV2's 7 x 7 grid was too coarse.
 */

/** Dimensions a cell keeps after the learned projection. */
export const CELL_DIMS = 128;
/** Weight of the local score's z-score against the global one's. */
export const LOCAL_WEIGHT = 3;

/**
 * A photo's cells, one row per grid position (channels wide): the feature map averaged with the
 * mirrored photo's map turned back, square-rooted (ReLU maps are non-negative; the root tempers
 * bursty channels) and L2-normalised per cell.
 */
export function featuremapCells(map: Float32Array, [channels, height, width]: readonly number[], mirrored?: Float32Array): Float32Array {
  const out = new Float32Array(height * width * channels);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const row = (c * height + y) * width;
      for (let x = 0; x < width; x++) {
        const v = mirrored ? (map[row + x]! + mirrored[row + width - 1 - x]!) / 2 : map[row + x]!;
        out[(y * width + x) * channels + c] = Math.sqrt(Math.max(0, v));
      }
    }
  }
  return normaliseRows(out, channels);
}

function meanRow(rows: Float32Array, dims: number): Float32Array {
  const mean = new Float32Array(dims);
  const n = rows.length / dims;
  for (let o = 0; o < rows.length; o += dims) for (let j = 0; j < dims; j++) mean[j]! += rows[o + j]! / n;
  return mean;
}

function centred(rows: Float32Array, mean: Float32Array): Float32Array {
  const out = rows.slice();
  for (let o = 0; o < out.length; o += mean.length) for (let j = 0; j < mean.length; j++) out[o + j]! -= mean[j]!;
  return out;
}

/**
 * Where cells are compared: each domain centred on its own mean cell (catalogue pictures share
 * a background, field photos their clutter and light), then whitened to CELL_DIMS.
 */
export class CellSpace {
  private constructor(readonly catalogueMean: Float32Array, readonly projection: Postprocessor) {}

  /** Values in a projected cell: CELL_DIMS, or fewer when the pictures span fewer directions. */
  get dims(): number {
    return this.projection.outDims;
  }

  /** Learned from catalogue pictures' cells (row-major, `channels` wide). */
  static async fit(catalogueCells: Float32Array, channels: number): Promise<CellSpace> {
    const mean = meanRow(catalogueCells, channels);
    return new CellSpace(mean, await Postprocessor.fit(centred(catalogueCells, mean), channels, { components: CELL_DIMS, shrinkage: 0.1 }));
  }

  /** `mean`: the domain's mean cell; a query without field photos is centred on its own cells' mean. */
  async project(cells: Float32Array, mean: Float32Array = meanRow(cells, this.catalogueMean.length)): Promise<Float32Array> {
    return this.projection.applyMany(centred(cells, mean));
  }

  serialise(): Buffer {
    const mean = Buffer.from(this.catalogueMean.buffer, this.catalogueMean.byteOffset, this.catalogueMean.byteLength);
    return Buffer.concat([Buffer.from(new Uint32Array([this.catalogueMean.length]).buffer), mean, this.projection.serialise()]);
  }

  static deserialise(bytes: Uint8Array): CellSpace {
    const channels = new Uint32Array(Uint8Array.from(bytes.subarray(0, 4)).buffer)[0]!;
    const mean = new Float32Array(Uint8Array.from(bytes.subarray(4, 4 + channels * 4)).buffer);
    return new CellSpace(mean, Postprocessor.deserialise(bytes.subarray(4 + channels * 4)));
  }
}

/** Mean of the best cosine each candidate cell finds among the query's cells: how much of the catalogue picture the photo shows. */
function foundShare(similarities: Float32Array, queryCells: number, from: number, to: number): number {
  let sum = 0;
  for (let r = from; r < to; r++) {
    let best = -1;
    for (let q = 0, o = r * queryCells; q < queryCells; q++, o++) if (similarities[o]! > best) best = similarities[o]!;
    sum += best;
  }
  return sum / (to - from);
}

function zScores(values: readonly number[]): number[] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) || 1;
  return values.map((v) => (v - mean) / sd);
}

export interface Candidate {
  objectId: number;
  score: number;
  rank: number;
}

/**
 * Re-ranks candidates by z(global score) + LOCAL_WEIGHT · z(local score), where an object's
 * local score is the best of its photos' (`cellsOf` gives each photo's projected cells).
 */
export async function rerankByCells<M extends Candidate>(candidates: readonly M[], query: Float32Array, dims: number,
  cellsOf: (objectId: number) => Float32Array[]): Promise<(M & { local: number })[]> {
  if (candidates.length < 2) return candidates.map((c) => ({ ...c, local: 0 }));
  const photos = candidates.map((c) => cellsOf(c.objectId));
  const stacked = new Float32Array(photos.flat().reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of photos.flat()) stacked.set(p, (offset += p.length) - p.length);
  const queryCells = query.length / dims;
  const similarities = await timesTransposed(stacked, query, dims);
  let row = 0;
  const local = photos.map((ofObject) => Math.max(...ofObject.map((p) => {
    const cells = p.length / dims;
    row += cells;
    return foundShare(similarities, queryCells, row - cells, row);
  })));
  const [zg, zl] = [zScores(candidates.map((c) => c.score)), zScores(local)];
  return candidates.map((c, i) => ({ ...c, local: local[i]!, fused: zg[i]! + LOCAL_WEIGHT * zl[i]! }))
    .sort((a, b) => b.fused - a.fused || a.rank - b.rank)
    .map(({ fused: _, ...c }, i) => ({ ...c, rank: i + 1 }) as M & { local: number });
}

/** Cells kept as int8 with one scale per cell: a quarter of the space for about 2 points of top-1. */
export function quantiseCells(cells: Float32Array, dims: number): { codes: Int8Array; scales: Float32Array } {
  const n = cells.length / dims;
  const codes = new Int8Array(cells.length);
  const scales = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let max = 0;
    for (let j = r * dims; j < (r + 1) * dims; j++) max = Math.max(max, Math.abs(cells[j]!));
    scales[r] = max / 127 || 1;
    for (let j = r * dims; j < (r + 1) * dims; j++) codes[j] = Math.round(cells[j]! / scales[r]!);
  }
  return { codes, scales };
}

export function dequantiseCells(codes: Int8Array, scales: Float32Array, dims: number): Float32Array {
  const out = new Float32Array(codes.length);
  for (let j = 0; j < codes.length; j++) out[j] = codes[j]! * scales[Math.floor(j / dims)]!;
  for (let r = 0; r < scales.length; r++) normaliseInPlace(out, r * dims, dims);
  return out;
}
