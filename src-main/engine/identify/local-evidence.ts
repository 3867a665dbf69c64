import type { Catalogue } from '../catalogue/catalogue';
import { loadPixels } from '../inference/image';
import { evenIndices, stackRows } from '../search/vectors';
import { ProgressMeter, type ProgressListener } from '../jobs/progress';
import { CellSpace, MeanCell, centralCells, foregroundCells, meanCell, packCells, pickCells, plainBackgroundCells, rerankByCells, unpackCellRows, type Candidate, type ObjectCells } from './cell-matching';
import type { Described, Describer } from './describe';
import { postprocessFor, type DescriptorRecipe } from './recipe';

/** Cells the space is learned from: an even sample estimates the leading directions as well. */
const CELL_SAMPLE = 8000;
/** Field photos needed to whiten the cell space on them. */
const MIN_FIELD_PHOTOS = 20;
/** Pictures read to learn a space from the catalogue's own cells: an even spread, enough for CELL_SAMPLE cells. */
const OWN_SAMPLE_PICTURES = 200;
/** Projected cells kept in memory between identifications (floats; about 200 MB). */
const PROJECTED_BUDGET = 50_000_000;

/**
 * The catalogue pictures' cells (square-rooted, unit, not yet projected): each picture's mean
 * over all its cells, the mean of those, and each picture's object cells, read when asked for;
 * `centres`, the pictures whose cells are their centre's (centralCells), not a cut-out's.
 */
export interface PictureCells {
  mean: Float32Array;
  means: Map<number, Float32Array>;
  centres: ReadonlySet<number>;
  load(photoIds: readonly number[]): Map<number, Float32Array>;
}

/** What field photos give local evidence: their mean cell, and a sample of their cells to learn the space from. */
export interface FieldCells {
  photos: number;
  mean: Float32Array;
  sample: Float32Array;
}

/** An even spread of up to `count` of the cells (`channels` wide). */
function spreadCells(cells: Float32Array, channels: number, count: number): Float32Array {
  return pickCells(cells, channels, evenIndices(cells.length / channels, count));
}

/**
 * Which cells catalogue pictures bring: every picture its object's (a centred catalogue), or
 * (a whitened one) those on a plain background their object's and the others their centre's.
 */
export type PictureChoice = 'all' | 'plain';

/** How a picture's cells were kept: its object's (foregroundCells), cut out from a plain background, or its centre's. */
type KeptAs = 'all' | 'cut-out' | 'centre';

/**
 * Where a catalogue keeps its pictures' cells (picture_cells): they depend on the cell model and
 * the flip alone, and each way of keeping them has its own, since a picture kept for one may not
 * suit another (a catalogue growing from one photo an object to several kept every picture).
 */
export function cellRecipe(describer: Describer, keptAs: KeptAs = 'all'): string {
  return `${describer.cellModel}:cells${describer.recipe.flip ? '+flip' : ''}${keptAs === 'all' ? '' : `:${keptAs}`}`;
}

/** Whether identification centres this catalogue (mostly single photos; each picture brings its object's cells) rather than whitening it (cutOutsAndCentres). */
export function centredCatalogue(catalogue: Catalogue, recipe: DescriptorRecipe): boolean {
  const objects = catalogue.listObjects({ limit: Number.MAX_SAFE_INTEGER }).objects;
  return postprocessFor(recipe.postprocess, objects.flatMap((o) => Array<number>(o.photoCount).fill(o.id))) === 'centre';
}

/** Pictures described at a time: each batch is written at once, so a killed process keeps what it described. */
const PICTURE_BATCH = 16;

type Keep = (catalogue: Catalogue, describer: Describer, pictures: { photoId: number; described: Described }[]) => Promise<void>;

/** Describes `photoIds` with their cells, PICTURE_BATCH at a time, and has `keep` keep each batch's. */
async function describeCells(catalogue: Catalogue, describer: Describer, photoIds: readonly number[], keep: Keep,
  options: { signal?: AbortSignal; onProgress?: ProgressListener }): Promise<void> {
  const photos = photoIds.map((id) => ({ id, path: catalogue.getPhoto(id)!.path }));
  const part = describer.recipe.parts.find((p) => p.model === describer.cellModel)!;
  const meter = new ProgressMeter(photos.length, options.onProgress, 'Describing catalogue pictures\' cells');
  for (let start = 0; start < photos.length; start += PICTURE_BATCH) {
    const batch = photos.slice(start, start + PICTURE_BATCH);
    const described: Described[] = [];
    for await (const d of describer.describePart(part, batch.map((p) => ({ path: p.path })), { batchSize: 4, cells: true, signal: options.signal })) described.push(...d);
    await keep(catalogue, describer, described.map((d, i) => ({ photoId: batch[i]!.id, described: d })));
    meter.advance(batch.length);
  }
}

/**
 * Describes the catalogue pictures among `photoIds` whose cells are not kept yet, and keeps
 * each one's object cells (foregroundCells) and mean cell. A picture that cannot be read simply
 * brings no local evidence (and is tried again next time).
 */
export async function describePictures(catalogue: Catalogue, describer: Describer, photoIds: readonly number[],
  options: { signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<void> {
  const kept = catalogue.pictureCellPhotos(cellRecipe(describer));
  await describeCells(catalogue, describer, photoIds.filter((id) => !kept.has(id)), keepPictureCells, options);
}

/**
 * Keeps described pictures' cells in one transaction: each one's mean cell (float32) and its
 * object cells (foregroundCells, packCells; from `rgb`, the picture as the model saw it, when the
 * caller has it decoded already) or its centre's. Pictures described without cells are passed over.
 */
export async function keepPictureCells(catalogue: Catalogue, describer: Describer, pictures: { photoId: number; described: Described; rgb?: Uint8Array }[],
  keptAs: KeptAs = 'all'): Promise<void> {
  const { input } = describer.pool(describer.cellModel).card;
  const channels = describer.cellChannels;
  const rows = [];
  for (const { photoId, described, rgb } of pictures) {
    if (!('cells' in described) || !described.cells) continue;
    const mean = meanCell(described.cells, channels);
    const kept = keptAs === 'centre' ? centralCells(describer.cellGrid)
      : foregroundCells(rgb ?? await loadPixels(described.path, input), input.width, input.height, describer.cellGrid);
    rows.push({ photoId, mean: new Uint8Array(mean.buffer), cells: packCells(new Float32Array(0), pickCells(described.cells, channels, kept), channels) });
  }
  catalogue.writePictureCells(cellRecipe(describer, keptAs), rows);
}

/**
 * Keeps described pictures' cells as a catalogue whose queries come from elsewhere compares
 * them: a picture on a plain background (a packshot, a museum photo on a backdrop) its object
 * cut out, any other its centre (centralCells), with an empty cut-out row to say it was checked.
 * A picture described without cells is passed over, to be tried again next time.
 */
export async function keepCutOutOrCentre(catalogue: Catalogue, describer: Describer, pictures: { photoId: number; described: Described }[]): Promise<void> {
  const { input } = describer.pool(describer.cellModel).card;
  const [cutOuts, centres]: { photoId: number; described: Described; rgb?: Uint8Array }[][] = [[], []];
  for (const picture of pictures) {
    if (!('cells' in picture.described) || !picture.described.cells) continue;
    const rgb = await loadPixels(picture.described.path, input).catch(() => undefined);
    if (rgb && plainBackgroundCells(rgb, input.width, input.height, describer.cellGrid)) cutOuts.push({ ...picture, rgb });
    else centres.push(picture);
  }
  await keepPictureCells(catalogue, describer, cutOuts, 'cut-out');
  await keepPictureCells(catalogue, describer, centres, 'centre');
  catalogue.writePictureCells(cellRecipe(describer, 'cut-out'), centres.map(({ photoId }) => ({ photoId, mean: new Uint8Array(0), cells: new Uint8Array(0) })));
}

/**
 * For a catalogue of several photos an object, each photo's cells as keepCutOutOrCentre keeps
 * them, described where not kept yet. On grocery-dev's catalogue + train against val, the
 * packshots' cells took top-1 from 65 to 75 % (mixed5's cells), the shop photos' centres with
 * them from 79 to 87 % (mixed3's).
 */
export async function cutOutsAndCentres(catalogue: Catalogue, describer: Describer, photoIds: readonly number[],
  options: { signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<PictureCells> {
  const checked = catalogue.pictureCellPhotos(cellRecipe(describer, 'cut-out'));
  await describeCells(catalogue, describer, photoIds.filter((id) => !checked.has(id)), keepCutOutOrCentre, options);
  return keptPictureCells(catalogue, describer, photoIds, ['cut-out', 'centre']);
}

/** The kept cells of the pictures among `photoIds` (each kept one of the ways `keptAs`), read from the catalogue as they are asked for. */
function keptPictureCells(catalogue: Catalogue, describer: Describer, photoIds: readonly number[], keptAs: readonly KeptAs[]): PictureCells {
  const channels = describer.cellChannels;
  const wanted = new Set(photoIds);
  const recipeOf = new Map<number, string>();
  const centres = new Set<number>();
  const means = new Map<number, Float32Array>();
  for (const way of keptAs) {
    const recipe = cellRecipe(describer, way);
    for (const [id, bytes] of catalogue.pictureCellMeans(recipe)) {
      if (!wanted.has(id) || means.has(id)) continue;
      means.set(id, new Float32Array(Uint8Array.from(bytes).buffer));
      recipeOf.set(id, recipe);
      if (way === 'centre') centres.add(id);
    }
  }
  const load = (ids: readonly number[]) => new Map([...new Set(recipeOf.values())].flatMap((recipe) =>
    [...catalogue.pictureCells(recipe, ids.filter((id) => recipeOf.get(id) === recipe))].flatMap(([id, blob]) => {
      const cells = unpackCellRows(blob, channels);
      return cells && cells.length > 0 ? [[id, cells] as const] : [];
    })));
  return { mean: meanOfMeans(means, channels), means, centres, load };
}

/** The pictures' kept cells, described first where they are not kept yet. */
export async function pictureCells(catalogue: Catalogue, describer: Describer, photoIds: readonly number[],
  options: { signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<PictureCells> {
  await describePictures(catalogue, describer, photoIds, options);
  return keptPictureCells(catalogue, describer, photoIds, ['all']);
}

/** Some of the pictures: their cells, and the mean of theirs alone. */
export function someOf(pictures: PictureCells, photoIds: Iterable<number>): PictureCells {
  const means = new Map([...photoIds].flatMap((id) => (pictures.means.has(id) ? [[id, pictures.means.get(id)!] as const] : [])));
  return { mean: meanOfMeans(means, pictures.mean.length), means, centres: pictures.centres, load: pictures.load };
}

/** Pictures' cells held in memory: all that `pictures` loads for its photos, read at once. */
export function heldPictureCells(pictures: PictureCells): PictureCells {
  const held = pictures.load([...pictures.means.keys()]);
  return { ...pictures, load: (ids) => new Map(ids.flatMap((id) => (held.has(id) ? [[id, held.get(id)!] as const] : []))) };
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
export async function rerankByLocalEvidence<M extends Candidate>(matches: readonly M[], queryCells: readonly Float32Array[], cells: CatalogueCells): Promise<(M & { local: number; found: number })[]> {
  const query = await cells.space.project(stackRows(queryCells), cells.queryMean);
  const byObject = await cells.ofObjects(matches.map((m) => m.objectId));
  return rerankByCells(matches, query, cells.space.dims, (objectId) => byObject.get(objectId) ?? { cutOuts: [], centres: [] });
}

/** An even sample of the pictures' own cells, from an even spread of at most OWN_SAMPLE_PICTURES of them. */
function ownCells(pictures: PictureCells): Float32Array {
  const ids = [...pictures.means.keys()];
  const picked = evenIndices(ids.length, OWN_SAMPLE_PICTURES).map((i) => ids[i]!);
  return spreadCells(stackRows([...pictures.load(picked).values()]), pictures.mean.length, CELL_SAMPLE);
}

function meanOfMeans(means: Map<number, Float32Array>, channels: number): Float32Array {
  const all = new MeanCell(channels);
  for (const m of means.values()) all.add(m);
  return all.mean();
}

/**
 * The pictures' cells in a space whitened on field photos' cells if there are enough, else on the
 * pictures' own (CellSpace), grouped by the object each photo shows (`objectOf`). Each picture's cells are
 * projected the first time a query needs them, and kept while they fit PROJECTED_BUDGET.
 */
export class CatalogueCells {
  private readonly projected = new Map<number, Float32Array>();
  private projectedFloats = 0;

  private constructor(readonly space: CellSpace, private readonly pictures: PictureCells,
    private readonly photosOf: Map<number, number[]>, readonly queryMean?: Float32Array) {}

  static async build(pictures: PictureCells, objectOf: (photoId: number) => number, field?: FieldCells): Promise<CatalogueCells> {
    const learnFrom = field && field.photos >= MIN_FIELD_PHOTOS ? field : { sample: ownCells(pictures), mean: pictures.mean };
    // Fewer than two cells (no picture could be read) teach nothing: centred only.
    const space = learnFrom.sample.length >= 2 * pictures.mean.length ? await CellSpace.fit(pictures.mean, learnFrom.sample, learnFrom.mean) : CellSpace.centred(pictures.mean);
    const photosOf = new Map<number, number[]>();
    for (const id of pictures.means.keys()) photosOf.set(objectOf(id), [...photosOf.get(objectOf(id)) ?? [], id]);
    return new CatalogueCells(space, pictures, photosOf, field?.mean);
  }

  /** Each object's pictures' projected cells, by kind. */
  async ofObjects(objectIds: readonly number[]): Promise<Map<number, ObjectCells>> {
    const photos = objectIds.flatMap((o) => this.photosOf.get(o) ?? []);
    for (const [id, cells] of this.pictures.load(photos.filter((id) => !this.projected.has(id)))) {
      this.keep(id, await this.space.project(cells, this.pictures.mean));
    }
    const cellsOf = (ids: number[]) => ids.flatMap((id) => this.touched(id) ?? []);
    return new Map(objectIds.map((o) => {
      const ids = this.photosOf.get(o) ?? [];
      return [o, { cutOuts: cellsOf(ids.filter((id) => !this.pictures.centres.has(id))), centres: cellsOf(ids.filter((id) => this.pictures.centres.has(id))) }];
    }));
  }

  private touched(id: number): Float32Array | undefined {
    const cells = this.projected.get(id);
    if (cells) {
      this.projected.delete(id);
      this.projected.set(id, cells);
    }
    return cells;
  }

  /** The least recently used pictures make room. */
  private keep(id: number, cells: Float32Array): void {
    this.projected.set(id, cells);
    this.projectedFloats += cells.length;
    for (const [old, oldCells] of this.projected) {
      if (this.projectedFloats <= PROJECTED_BUDGET || old === id) break;
      this.projected.delete(old);
      this.projectedFloats -= oldCells.length;
    }
  }
}
