import { Postprocessor } from '../search/postprocess';
import { withProducts } from '../search/products';
import { normaliseRows, stackRows } from '../search/vectors';

/**
 * Local evidence for one-picture catalogues: a global descriptor of a cluttered shop photo
 * mixes the object with its surroundings, but the object's parts still show up in some of the
 * feature map's cells. Each catalogue picture's cells are looked for among the query's cells,
 * and the best global candidates are re-ranked by how many of them are found. On grocery-dev's
 * one-picture catalogue (964 shop photos) a helper study took top-1 from 42-45 % (global) to
 * 83 % with InceptionV3-mixed5's 17 x 17 cells; MobileNetV2's 7 x 7 grid was too coarse. The
 * cells now come from InceptionV3's block mixed3 (the card's `cells`): the same grid, two blocks
 * nearer the print on a package. Against mixed5's, grocery-dev's top-1 rose from 83.2 to 86.7 %
 * (catalogue picture → train), 76 to 77 % (→ val), 81.7 to 87.5 % (catalogue + val → train) and
 * 78 to 79 % (catalogue + train → val); mixed4's gave 74 % there, mixed2's (35 x 35) 77 and 84.1 %.
 */

/** Dimensions a cell keeps after the learned projection. */
export const CELL_DIMS = 256;
/**
 * Weight of each kind of local evidence's z-score against the global score's: pictures cut out
 * from a plain background, and the centres of photos taken in surroundings (weaker evidence:
 * their cells hold some surroundings too). Grocery-dev top-1, catalogue + train → val and
 * catalogue + val → train: 3 and 1.5, 87 and 88.3 %; 2 and 1, 87 and 86.9 %; 1.5 and 1.5, 86 % on val.
 */
const LOCAL_WEIGHTS = { cutOuts: 3, centres: 1.5 } as const;
/** Share of a photo's rows and of its columns, in the middle, that make its centre. */
const CENTRE_SHARE = 0.6;

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

/** The mean of cells added a photo at a time. */
export class MeanCell {
  private readonly sum: Float64Array;
  private count = 0;

  constructor(readonly channels: number) {
    this.sum = new Float64Array(channels);
  }

  add(cells: Float32Array): this {
    for (let o = 0; o < cells.length; o += this.channels) for (let j = 0; j < this.channels; j++) this.sum[j]! += cells[o + j]!;
    this.count += cells.length / this.channels;
    return this;
  }

  mean(): Float32Array {
    return Float32Array.from(this.sum, (v) => v / Math.max(1, this.count));
  }
}

export const meanCell = (rows: Float32Array, channels: number) => new MeanCell(channels).add(rows).mean();

function centred(rows: Float32Array, mean: Float32Array): Float32Array {
  const out = rows.slice();
  for (let o = 0; o < out.length; o += mean.length) for (let j = 0; j < mean.length; j++) out[o + j]! -= mean[j]!;
  return out;
}

/** Share of a cell's pixels that must differ from the background for the cell to show the object. */
const FOREGROUND_SHARE = 0.3;
/** Largest per-channel difference from the background colour still counted as background. */
const BACKGROUND_TOLERANCE = 30;
/** Fewer foreground cells than this share: no plain background to tell apart, so every cell counts. */
const MIN_FOREGROUND = 0.15;

/**
 * The cells of a catalogue picture (RGB, as the model saw it) that show the object rather than
 * its plain background: the background colour is the median of the picture's outer 4 % frame.
 * Background cells would otherwise have to be found in the query too (the helper study: top-1
 * 67.5 % with every cell, 82 % with the object's; the same with a white-only rule).
 */
export function foregroundCells(rgb: Uint8Array, width: number, height: number, grid: readonly number[]): number[] {
  return objectCells(rgb, width, height, grid).kept ?? Array.from({ length: grid[0]! * grid[1]! }, (_, cell) => cell);
}

/** Share of the frame's pixels that must be the background colour for a background to be plain. */
const PLAIN_BORDER = 0.7;

/**
 * The object's cells (as foregroundCells) when the picture has a plain background, its frame
 * mostly of one colour; undefined when it has none. Grocery-dev's packshots: 78-100 % of the
 * frame within BACKGROUND_TOLERANCE of its median; its shop photos: at most 56 %.
 */
export function plainBackgroundCells(rgb: Uint8Array, width: number, height: number, grid: readonly number[]): number[] | undefined {
  const { kept, plainBorder } = objectCells(rgb, width, height, grid);
  return plainBorder >= PLAIN_BORDER ? kept : undefined;
}

/** The cells that differ from the frame's median colour (undefined when too few or all do), and the share of the frame near that colour. */
function objectCells(rgb: Uint8Array, width: number, height: number, [rows, columns]: readonly number[]): { kept?: number[]; plainBorder: number } {
  const frame = Math.max(1, Math.round(0.04 * Math.min(width, height)));
  const border: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) if (y < frame || y >= height - frame || x < frame || x >= width - frame) border.push((y * width + x) * 3);
  }
  const background = [0, 1, 2].map((c) => border.map((o) => rgb[o + c]!).sort((a, b) => a - b)[border.length >> 1]!);
  const far = (o: number) => Math.max(...[0, 1, 2].map((c) => Math.abs(rgb[o + c]! - background[c]!))) > BACKGROUND_TOLERANCE;
  const differs = new Float32Array(rows * columns);
  const counts = new Float32Array(rows * columns);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cell = Math.floor((y * rows) / height) * columns + Math.floor((x * columns) / width);
      differs[cell]! += far((y * width + x) * 3) ? 1 : 0;
      counts[cell]! += 1;
    }
  }
  const kept = Array.from(differs.keys()).filter((cell) => differs[cell]! >= FOREGROUND_SHARE * counts[cell]!);
  return {
    kept: kept.length >= MIN_FOREGROUND * rows * columns && kept.length < rows * columns ? kept : undefined,
    plainBorder: border.filter((o) => !far(o)).length / border.length,
  };
}

/**
 * The cells in the middle CENTRE_SHARE of a photo's grid: a photo taken of an object, in its
 * surroundings, centres it. Grocery-dev's shop photos in the catalogue (catalogue + train → val)
 * brought top-1 from 79 % (their cells left out) to 83 % with the middle 60 %, 79 % with the
 * middle 80 % and 80 % with the middle 40 %; with every cell, 44 % (each object ranked by the
 * best of its pictures, before the kinds were weighed apart: 87 % so).
 */
export function centralCells([rows, columns]: readonly number[]): number[] {
  const [top, left] = [rows, columns].map((n) => Math.round(((1 - CENTRE_SHARE) / 2) * n));
  const cells: number[] = [];
  for (let y = top; y < rows - top; y++) for (let x = left; x < columns - left; x++) cells.push(y * columns + x);
  return cells;
}

/** The rows `kept` of cells `channels` wide. */
export function pickCells(cells: Float32Array, channels: number, kept: readonly number[]): Float32Array {
  const out = new Float32Array(kept.length * channels);
  kept.forEach((cell, i) => out.set(cells.subarray(cell * channels, (cell + 1) * channels), i * channels));
  return out;
}

/**
 * Where cells are compared: each domain centred on its own mean cell (catalogue pictures share
 * a background, field photos their clutter and light), then whitened to CELL_DIMS on field
 * photos' cells, or without field photos on the catalogue pictures' own. With mixed5's cells the
 * pictures' own did worse than centring alone (the helper study: 82 % top-1 whitened on field
 * photos, 75 % centred only, 65-75 % whitened on the pictures); mixed3's need the whitening:
 * bench:identify-field's val photos without field photos, 42 % centred only, 65 % whitened on
 * the 31 pictures' cells (mixed5's centred: 67 %).
 */
export class CellSpace {
  private constructor(readonly catalogueMean: Float32Array, readonly projection?: Postprocessor) {}

  /** Values in a projected cell: CELL_DIMS, or fewer when the cells span fewer directions; all channels when centred only. */
  get dims(): number {
    return this.projection?.outDims ?? this.catalogueMean.length;
  }

  /** Whitening learned from `cells` (row-major, `channels` wide) centred on `mean`, their domain's mean cell. */
  static async fit(catalogueMean: Float32Array, cells: Float32Array, mean: Float32Array): Promise<CellSpace> {
    return new CellSpace(catalogueMean, await Postprocessor.fit(centred(cells, mean), mean.length, { components: CELL_DIMS, shrinkage: 0.1 }));
  }

  /** Centring alone. */
  static centred(catalogueMean: Float32Array): CellSpace {
    return new CellSpace(catalogueMean);
  }

  /** `mean`: the domain's mean cell; a query without field photos is centred on its own cells' mean. */
  async project(cells: Float32Array, mean: Float32Array = meanCell(cells, this.catalogueMean.length)): Promise<Float32Array> {
    return this.projection ? this.projection.applyMany(centred(cells, mean)) : normaliseRows(centred(cells, mean), mean.length);
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

/** z-scores of the finite values among them; the others stay NaN. */
function zScores(values: readonly number[]): number[] {
  const finite = values.filter(Number.isFinite);
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const sd = Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / finite.length) || 1;
  return values.map((v) => (Number.isFinite(v) ? (v - mean) / sd : NaN));
}

export interface Candidate {
  objectId: number;
  score: number;
  rank: number;
}

/** An object's pictures' projected cells, by kind: cut out from a plain background, or a photo's centre (centralCells). */
export interface ObjectCells {
  cutOuts: Float32Array[];
  centres: Float32Array[];
}

const KINDS = ['cutOuts', 'centres'] as const;

/**
 * Re-ranks candidates by z(global score) + Σ weight · z(local score) over the kinds of local
 * evidence (LOCAL_WEIGHTS), where an object's local score of a kind is its best photo's of that
 * kind. Each kind is z-scored on its own: a centre's cells also find the surroundings every shop
 * photo shares, so the best of both kinds favoured objects with shop photos (grocery-dev,
 * catalogue + val → train: 82.5 % top-1, against 88.3 % so). An object without photos of one
 * kind counts its other kind's z-score there; a kind no candidate has is left out.
 */
export async function rerankByCells<M extends Candidate>(candidates: readonly M[], query: Float32Array, dims: number,
  cellsOf: (objectId: number) => ObjectCells): Promise<(M & { local: number; found: number })[]> {
  if (candidates.length < 2) return candidates.map((c) => ({ ...c, local: 0, found: NaN }));
  const queryCells = query.length / dims;
  // Each object's best photo of each kind, -Infinity without one. Object by object: all the
  // candidates' similarities at once took about 250 MB a query on grocery-dev.
  const best = await withProducts(async (products) => {
    const out: number[][] = [];
    for (const o of candidates.map((c) => cellsOf(c.objectId))) {
      const photos = KINDS.flatMap((k) => o[k]);
      const similarities = photos.length > 0 ? await products.timesTransposed(stackRows(photos), query, dims) : new Float32Array(0);
      let row = 0;
      out.push(KINDS.map((k) => o[k].reduce((most, photo) => {
        const cells = photo.length / dims;
        row += cells;
        return Math.max(most, foundShare(similarities, queryCells, row - cells, row));
      }, -Infinity)));
    }
    return out;
  });
  const z = KINDS.map((_, k) => zScores(best.map((b) => b[k]!)));
  const local = best.map((_, i) => KINDS.reduce((sum, kind, k) => {
    if (!z[k]!.some(Number.isFinite)) return sum;
    const own = z[k]![i]!;
    return sum + LOCAL_WEIGHTS[kind] * (Number.isFinite(own) ? own : z[1 - k]![i]!);
  }, 0));
  // An object whose pictures could not be read brings no evidence: it counts as the weakest.
  const weakest = Math.min(0, ...local.filter(Number.isFinite));
  const evidence = local.map((v) => (Number.isFinite(v) ? v : weakest));
  const global = zScores(candidates.map((c) => c.score));
  // What a decision reads: the found share of the object's photos taken elsewhere (centres), else of its cut-outs.
  const found = best.map(([cutOut, centre]) => (Number.isFinite(centre) ? centre! : Number.isFinite(cutOut) ? cutOut! : NaN));
  return candidates.map((c, i) => ({ ...c, local: evidence[i]!, found: found[i]!, fused: global[i]! + evidence[i]! }))
    .sort((a, b) => b.fused - a.fused || a.rank - b.rank)
    .map(({ fused: _, ...c }, i) => ({ ...c, rank: i + 1 }) as M & { local: number; found: number });
}

/**
 * How cells are kept in the catalogue: float32 `head` values (means), then the cells as int8
 * with one scale per cell, a quarter of float32's space (the helper study lost about 2 points
 * so, at 128 dimensions).
 */
export function packCells(head: Float32Array, cells: Float32Array, dims: number): Buffer {
  const n = cells.length / dims;
  const codes = new Int8Array(cells.length);
  const scales = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let max = 0;
    for (let j = r * dims; j < (r + 1) * dims; j++) max = Math.max(max, Math.abs(cells[j]!));
    scales[r] = max / 127 || 1;
    for (let j = r * dims; j < (r + 1) * dims; j++) codes[j] = Math.round(cells[j]! / scales[r]!);
  }
  return Buffer.concat([head, scales, codes].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

/** Cells packed with no head (packCells(new Float32Array(0), …)), unpacked: their count follows from the size. */
export function unpackCellRows(blob: Uint8Array, dims: number): Float32Array | undefined {
  return unpackCells(blob, 0, blob.byteLength / (4 + dims), dims)?.cells;
}

/** packCells undone: `headLength` values, then `count` unit cells; undefined when the bytes are not that layout. */
export function unpackCells(blob: Uint8Array, headLength: number, count: number, dims: number): { head: Float32Array; cells: Float32Array } | undefined {
  if (blob.byteLength !== (headLength + count) * 4 + count * dims) return undefined;
  const bytes = Uint8Array.from(blob);
  const scales = new Float32Array(bytes.buffer, headLength * 4, count);
  const codes = new Int8Array(bytes.buffer, (headLength + count) * 4, count * dims);
  const cells = new Float32Array(codes.length);
  for (let j = 0; j < codes.length; j++) cells[j] = codes[j]! * scales[Math.floor(j / dims)]!;
  return { head: new Float32Array(bytes.buffer, 0, headLength), cells: normaliseRows(cells, dims) };
}
