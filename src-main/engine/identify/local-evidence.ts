import type { Catalogue } from '../catalogue/catalogue';
import { loadPixels } from '../inference/image';
import { stackRows } from '../search/vectors';
import { ProgressMeter, type ProgressListener } from '../jobs/progress';
import { CellSpace, MeanCell, foregroundCells, meanCell, packCells, pickCells, rerankByCells, unpackCells, type Candidate } from './cell-matching';
import type { Describer } from './describe';

/**
 * Past this many photos, local evidence is not prepared: describing every picture's cells again
 * takes about a quarter of a second each on two cores, and keeping them about 90 KB each.
 */
export const MAX_CELL_PHOTOS = 3000;
/** Cells the space is learned from: an even sample estimates the leading directions as well. */
const CELL_SAMPLE = 8000;
/** Field photos needed to whiten the cell space on them. */
const MIN_FIELD_PHOTOS = 20;

/** The catalogue pictures' object cells (square-rooted, unit, not yet projected), each picture's mean cell, and their mean. */
export interface PictureCells {
  mean: Float32Array;
  byPhoto: Map<number, Float32Array>;
  /** Each picture's mean over all its cells: the catalogue's mean follows as pictures come and go. */
  means: Map<number, Float32Array>;
}

/** What field photos give local evidence: their mean cell, and a sample of their cells to learn the space from. */
export interface FieldCells {
  photos: number;
  mean: Float32Array;
  sample: Float32Array;
}

/** The projected cells identification compares, each object's pictures', and where query cells are centred (undefined: on their own mean). */
export interface CatalogueCells {
  space: CellSpace;
  byObject: Map<number, Float32Array[]>;
  queryMean?: Float32Array;
}

interface Stored {
  photoIds: number[];
  /** Object cells kept per photo, in photoIds' order. */
  counts: number[];
}

/** An even spread of up to `count` of the cells (`channels` wide). */
function spreadCells(cells: Float32Array, channels: number, count: number): Float32Array {
  const n = cells.length / channels;
  const kept = Array.from({ length: Math.min(n, count) }, (_, i) => Math.floor((i * n) / Math.min(n, count)));
  return pickCells(cells, channels, kept);
}

/**
 * Each catalogue picture's object cells (foregroundCells), kept in the catalogue under
 * `picture-cells:<key>`. When photos change, only new pictures are described: a picture's cells
 * depend on it alone. Undefined for catalogues past MAX_CELL_PHOTOS.
 */
export async function pictureCells(catalogue: Catalogue, describer: Describer, key: string, photoIds: readonly number[],
  options: { signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<PictureCells | undefined> {
  if (photoIds.length > MAX_CELL_PHOTOS) return undefined;
  const name = `picture-cells:${key}`;
  const stored = catalogue.getArtifact(name);
  const channels = describer.cellChannels;
  const kept = stored?.blob ? load(stored.json as Stored, stored.blob, channels) : undefined;
  const wanted = new Set(photoIds);
  const byPhoto = new Map([...kept?.byPhoto ?? []].filter(([id]) => wanted.has(id)));
  const means = new Map([...kept?.means ?? []].filter(([id]) => wanted.has(id)));
  const photos = photoIds.filter((id) => !byPhoto.has(id)).map((id) => ({ id, path: catalogue.getPhoto(id)!.path }));
  if (kept && photos.length === 0 && byPhoto.size === kept.byPhoto.size) return kept;
  const part = describer.recipe.parts.find((p) => p.model === describer.cellModel)!;
  const { input, outputs } = describer.pool(part.model).card;
  const grid = outputs.featuremap.shape.slice(2);
  const meter = new ProgressMeter(photos.length, options.onProgress, 'Describing catalogue pictures\' cells');
  let i = 0;
  for await (const batch of describer.describePart(part, photos.map((p) => ({ path: p.path })), { batchSize: 4, cells: true, signal: options.signal })) {
    for (const d of batch) {
      const { id, path } = photos[i++]!;
      // A picture that cannot be read now simply brings no local evidence.
      if (!('cells' in d) || !d.cells) continue;
      means.set(id, meanCell(d.cells, channels));
      byPhoto.set(id, pickCells(d.cells, channels, foregroundCells(await loadPixels(path, input), input.width, input.height, grid)));
    }
    meter.advance(batch.length);
  }
  const pictures = { mean: meanOfMeans(means, channels), byPhoto, means };
  save(catalogue, name, pictures, channels);
  return pictures;
}

/** Some of the pictures: their cells, and the mean of theirs alone. */
export function someOf(pictures: PictureCells, photoIds: Iterable<number>): PictureCells {
  const ids = [...photoIds].filter((id) => pictures.byPhoto.has(id));
  const means = new Map(ids.map((id) => [id, pictures.means.get(id)!]));
  return { mean: meanOfMeans(means, pictures.mean.length), byPhoto: new Map(ids.map((id) => [id, pictures.byPhoto.get(id)!])), means };
}

/** The field photos' cells gathered a photo at a time: their mean, and an even sample of about CELL_SAMPLE cells. */
export class FieldCellSampler {
  private readonly all: MeanCell;
  private readonly sampled: Float32Array[] = [];
  private readonly perPhoto: number;

  constructor(readonly channels: number, photos: number) {
    this.all = new MeanCell(channels);
    this.perPhoto = Math.ceil(CELL_SAMPLE / Math.max(1, photos));
  }

  add(cells: Float32Array): void {
    this.all.add(cells);
    this.sampled.push(spreadCells(cells, this.channels, this.perPhoto));
  }

  result(): FieldCells {
    return { photos: this.sampled.length, mean: this.all.mean(), sample: stackRows(this.sampled) };
  }
}

/**
 * Candidates re-ranked by local evidence (rerankByCells): the query photos' cells together,
 * centred on the field photos' mean cell (without field photos, on their own).
 */
export async function rerankByLocalEvidence<M extends Candidate>(matches: readonly M[], queryCells: readonly Float32Array[], cells: CatalogueCells): Promise<(M & { local: number })[]> {
  const query = await cells.space.project(stackRows(queryCells), cells.queryMean);
  return rerankByCells(matches, query, cells.space.dims, (objectId) => cells.byObject.get(objectId) ?? []);
}

function meanOfMeans(means: Map<number, Float32Array>, channels: number): Float32Array {
  const all = new MeanCell(channels);
  for (const m of means.values()) all.add(m);
  return all.mean();
}

/**
 * The pictures' cells in a space whitened on field photos' cells if there are enough, else only
 * centred, grouped by the object each photo shows (`objectOf`).
 */
export async function catalogueCells(pictures: PictureCells, objectOf: (photoId: number) => number, field?: FieldCells): Promise<CatalogueCells> {
  const space = field && field.photos >= MIN_FIELD_PHOTOS ? await CellSpace.fit(pictures.mean, field.sample, field.mean) : CellSpace.centred(pictures.mean);
  const byObject = new Map<number, Float32Array[]>();
  for (const [id, cells] of pictures.byPhoto) {
    const object = objectOf(id);
    byObject.set(object, [...byObject.get(object) ?? [], await space.project(cells, pictures.mean)]);
  }
  return { space, byObject, queryMean: field?.mean };
}

function save(catalogue: Catalogue, name: string, { byPhoto, means }: PictureCells, channels: number): void {
  const ids = [...byPhoto.keys()];
  const json: Stored = { photoIds: ids, counts: ids.map((id) => byPhoto.get(id)!.length / channels) };
  catalogue.putArtifact(name, { json, blob: packCells(stackRows(ids.map((id) => means.get(id)!)), stackRows(ids.map((id) => byPhoto.get(id)!)), channels) });
}

/** Undefined when the stored layout is not this version's: the pictures are then described again. */
function load({ photoIds, counts }: Stored, blob: Buffer, channels: number): PictureCells | undefined {
  if (!Array.isArray(photoIds) || !Array.isArray(counts)) return undefined;
  const unpacked = unpackCells(blob, photoIds.length * channels, counts.reduce((a, b) => a + b, 0), channels);
  if (!unpacked) return undefined;
  const means = new Map(photoIds.map((id, i) => [id, unpacked.head.subarray(i * channels, (i + 1) * channels)]));
  let offset = 0;
  const byPhoto = new Map(photoIds.map((id, i) => [id, unpacked.cells.subarray(offset * channels, (offset += counts[i]!) * channels)]));
  return { mean: meanOfMeans(means, channels), byPhoto, means };
}
