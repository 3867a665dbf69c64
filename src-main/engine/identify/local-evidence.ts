import type { Catalogue } from '../catalogue/catalogue';
import { loadPixels } from '../inference/image';
import { stackRows } from '../search/vectors';
import { CellSpace, MeanCell, dequantiseCells, foregroundCells, pickCells, quantiseCells } from './cell-matching';
import type { Describer } from './describe';

/**
 * Past this many photos, local evidence is not prepared: describing every picture's cells again
 * takes about a quarter of a second each on two cores, and keeping them about 90 KB each.
 */
export const MAX_CELL_PHOTOS = 3000;
/** Cells the space is learned from: an even sample estimates the leading directions as well. */
export const CELL_SAMPLE = 8000;
/** Field photos needed to whiten the cell space on them. */
const MIN_FIELD_PHOTOS = 20;

/** The catalogue pictures' object cells (square-rooted, unit, not yet projected) and the mean of all their cells. */
export interface PictureCells {
  mean: Float32Array;
  byPhoto: Map<number, Float32Array>;
}

/** What field photos give local evidence: their mean cell, and a sample of their cells to learn the space from. */
export interface FieldCells {
  photos: number;
  mean: Float32Array;
  sample: Float32Array;
}

/** The projected cells identification compares, and where query cells are centred (undefined: on their own mean). */
export interface CatalogueCells {
  space: CellSpace;
  byPhoto: Map<number, Float32Array>;
  queryMean?: Float32Array;
}

interface Stored {
  photoIds: number[];
  /** Object cells kept per photo, in photoIds' order. */
  counts: number[];
}

/** Every `step`-th cell of `cells`, up to `count` of them: an even spread. */
export function spreadCells(cells: Float32Array, channels: number, count: number): Float32Array {
  const n = cells.length / channels;
  const kept = Array.from({ length: Math.min(n, count) }, (_, i) => Math.floor((i * n) / Math.min(n, count)));
  return pickCells(cells, channels, kept);
}

/**
 * Each catalogue picture's object cells (foregroundCells), kept in the catalogue under
 * `picture-cells:<key>` until photos change. Undefined for catalogues past MAX_CELL_PHOTOS.
 */
export async function pictureCells(catalogue: Catalogue, describer: Describer, key: string, photoIds: readonly number[]): Promise<PictureCells | undefined> {
  if (photoIds.length > MAX_CELL_PHOTOS) return undefined;
  const name = `picture-cells:${key}`;
  const stored = catalogue.getArtifact(name);
  const channels = describer.cellChannels;
  if (stored?.blob && !stored.stale) return load(stored.json as Stored, stored.blob, channels);
  const part = describer.recipe.parts.find((p) => p.model === describer.cellModel)!;
  const { input, outputs } = describer.pool(part.model).card;
  const grid = outputs.featuremap.shape.slice(2);
  const mean = new MeanCell(channels);
  const byPhoto = new Map<number, Float32Array>();
  const photos = photoIds.map((id) => ({ id, path: catalogue.getPhoto(id)!.path }));
  let i = 0;
  for await (const batch of describer.describePart(part, photos.map((p) => ({ path: p.path })), { batchSize: 4, cells: true })) {
    for (const d of batch) {
      const { id, path } = photos[i++]!;
      // A picture that cannot be read now simply brings no local evidence.
      if (!('cells' in d) || !d.cells) continue;
      mean.add(d.cells);
      byPhoto.set(id, pickCells(d.cells, channels, foregroundCells(await loadPixels(path, input), input.width, input.height, grid)));
    }
  }
  const pictures = { mean: mean.mean(), byPhoto };
  save(catalogue, name, pictures, channels);
  return pictures;
}

/** The pictures' cells in a space whitened on field photos' cells if there are enough, else only centred. */
export async function catalogueCells(pictures: PictureCells, field?: FieldCells): Promise<CatalogueCells> {
  const space = field && field.photos >= MIN_FIELD_PHOTOS ? await CellSpace.fit(pictures.mean, field.sample, field.mean) : CellSpace.centred(pictures.mean);
  const byPhoto = new Map<number, Float32Array>();
  for (const [id, cells] of pictures.byPhoto) byPhoto.set(id, await space.project(cells, pictures.mean));
  return { space, byPhoto, queryMean: field?.mean };
}

function save(catalogue: Catalogue, name: string, { mean, byPhoto }: PictureCells, channels: number): void {
  const ids = [...byPhoto.keys()];
  const { codes, scales } = quantiseCells(stackRows(ids.map((id) => byPhoto.get(id)!)), channels);
  const json: Stored = { photoIds: ids, counts: ids.map((id) => byPhoto.get(id)!.length / channels) };
  catalogue.putArtifact(name, { json, blob: Buffer.concat([mean, scales].map((a) => Buffer.from(a.buffer)).concat(Buffer.from(codes.buffer))) });
}

function load({ photoIds, counts }: Stored, blob: Buffer, channels: number): PictureCells {
  const bytes = Uint8Array.from(blob);
  const cells = counts.reduce((a, b) => a + b, 0);
  const mean = new Float32Array(bytes.buffer, 0, channels);
  const scales = new Float32Array(bytes.buffer, channels * 4, cells);
  const flat = dequantiseCells(new Int8Array(bytes.buffer, (channels + cells) * 4, cells * channels), scales, channels);
  let offset = 0;
  return { mean, byPhoto: new Map(photoIds.map((id, i) => [id, flat.subarray(offset * channels, (offset += counts[i]!) * channels)])) };
}
