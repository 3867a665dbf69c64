import { join, resolve } from 'node:path';
import type { Catalogue } from '../catalogue/catalogue';
import { listPhotos } from '../catalogue/import-folders';
import { UserError } from '../errors';
import { ProgressMeter, type ProgressListener } from '../jobs/progress';
import { evenIndices, stackRows } from '../search/vectors';
import { packCells, unpackCellRows, unpackCells } from './cell-matching';
import { FieldCellSampler, centredCatalogue, cutOutsAndCentres, type FieldCells } from './local-evidence';
import { queryCentre, type Describer } from './describe';
import { recipeKey, storageKey, type DescriptorRecipe } from './recipe';

/**
 * The field domain: unlabelled photos taken where queries come from (sale listings, a
 * police camera), not of catalogued objects. Domain-wise centring, queries on the field
 * photos' mean and the catalogue on its own, takes away what each domain's photos share: on
 * grocery-dev's one-picture catalogue, over its 964 field photos, top-1 rose from 24.9 %
 * (both on the catalogue's mean) to 42.4 % (40.1 % with both on the field photos' mean).
 */
const key = (recipe: DescriptorRecipe) => `field-domain:${recipeKey(recipe)}`;
/** The field photos' cells: their mean and an even sample (local evidence learns its space from them). */
const cellKey = (recipe: DescriptorRecipe) => `field-cells:${recipeKey(recipe)}`;

/** Some field photos' cells as a query's are described (its own and its centre's): what the evidence threshold learns from. */
const queryCellKey = (recipe: DescriptorRecipe) => `field-query-cells:${recipeKey(recipe)}`;

/**
 * Field photos kept with their query cells: enough runner-ups for the evidence threshold's 95 %
 * quantile, each about 450 KB (int8) and one re-ranking (about half a second) to learn from.
 */
export const QUERY_CELL_PHOTOS = 100;

/** The field photos' cells, if learned with them. */
export function fieldCells(catalogue: Catalogue, recipe: DescriptorRecipe, channels: number): FieldCells | undefined {
  const stored = catalogue.getArtifact(cellKey(recipe));
  if (!stored?.blob) return undefined;
  const { photos, sampled } = stored.json as { photos: number; sampled: number };
  const unpacked = unpackCells(stored.blob, channels, sampled, channels);
  return unpacked && { photos, mean: unpacked.head, sample: unpacked.cells };
}

/** Field photos kept with their query cells: each one's row in the field domain's descriptors, and its cells. */
export interface FieldQueries {
  rows: number[];
  cells: Float32Array[];
}

export function fieldQueryCells(catalogue: Catalogue, recipe: DescriptorRecipe, channels: number): FieldQueries | undefined {
  const stored = catalogue.getArtifact(queryCellKey(recipe));
  if (!stored) return undefined;
  const { rows, counts } = stored.json as { rows: number[]; counts: number[] };
  let offset = 0;
  // With no photo kept, there are no counts, and SQLite may give the empty blob back as null.
  const cells = counts.map((n) => {
    const size = n * (4 + channels);
    offset += size;
    return unpackCellRows(stored.blob!.subarray(offset - size, offset), channels)!;
  });
  return { rows, cells };
}

/**
 * When the field photos were learned with their query cells kept (by this version), the evidence
 * threshold's to learn from; undefined if not. Read without the cells (tens of megabytes).
 */
export function queryCellsLearnedAt(catalogue: Catalogue, recipe: DescriptorRecipe): string | undefined {
  return catalogue.getArtifactSummary(queryCellKey(recipe))?.updatedAt;
}

export interface FieldDomain {
  /** Joined descriptors of the field photos, row-major. */
  vectors: Float32Array;
  count: number;
  folder: string;
}

/** What the artifact's json holds beside the descriptors. */
type Facts = Omit<FieldDomain, 'vectors'>;

export function fieldDomain(catalogue: Catalogue, recipe: DescriptorRecipe): FieldDomain | undefined {
  const stored = catalogue.getArtifact(key(recipe));
  return stored?.blob ? { ...(stored.json as Facts), vectors: new Float32Array(Uint8Array.from(stored.blob).buffer) } : undefined;
}

/** The learned domain's photo count and folder, without reading its descriptors; null if none. */
export function fieldDomainStatus(catalogue: Catalogue, recipe: DescriptorRecipe): { photos: number; folder: string } | null {
  const stored = catalogue.getArtifactSummary(key(recipe));
  if (!stored?.hasBlob) return null;
  const { count, folder } = stored.json as Facts;
  return { photos: count, folder };
}

/** The photos' own cells (`own`, by place in `batch`) with their centres' as a query's (Describer.describe's 'query'); a centre that cannot be read leaves its photo out. */
async function queryCells(describer: Describer, own: { i: number; cells: Float32Array }[], batch: { path: string }[]): Promise<Map<number, Float32Array>> {
  const part = describer.recipe.parts.find((p) => p.model === describer.cellModel)!;
  const out = new Map<number, Float32Array>();
  let k = 0;
  for await (const centres of describer.describePart(part, own.map(({ i }) => queryCentre(batch[i]!)), { batchSize: 4, cells: true })) {
    for (const c of centres) {
      const { i, cells } = own[k++]!;
      if ('cells' in c && c.cells) out.set(i, stackRows([cells, c.cells]));
    }
  }
  return out;
}

/** Photos described at a time: progress and cancel come between batches. */
const BATCH = 8;

/** Describes every photo in `folder` and keeps their descriptors with the catalogue; returns how many, and which failed. */
export async function learnFieldDomain(catalogue: Catalogue, describer: Describer, folder: string,
  options: { signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<{ count: number; failed: string[] }> {
  const root = resolve(folder);
  const photos = listPhotos(root).map((p) => ({ path: join(root, p) }));
  const meter = new ProgressMeter(photos.length, options.onProgress, 'Describing field photos');
  const vectors: Float32Array[] = [];
  const failed: string[] = [];
  const channels = describer.cellChannels;
  const cells = new FieldCellSampler(channels, photos.length);
  const sampled = new Set(evenIndices(photos.length, QUERY_CELL_PHOTOS));
  const queries: { row: number; packed: Buffer; count: number }[] = [];
  for (let start = 0; start < photos.length; start += BATCH) {
    if (options.signal?.aborted) throw new UserError('CANCELLED', 'Learning the field domain was cancelled; the previous one, if any, is kept.', 'Start it again when you are ready.');
    const batch = photos.slice(start, start + BATCH);
    // Each photo's cells go into the mean and the sample, then are dropped (hundreds of photos' cells take
    // gigabytes), but for QUERY_CELL_PHOTOS of them, kept packed with their centres' as a query's.
    const batchDescribed = await describer.describe(batch, { cells: true });
    const keptAsQueries = await queryCells(describer, batchDescribed.flatMap((d, i) => (sampled.has(start + i) && 'cells' in d && d.cells ? [{ i, cells: d.cells }] : [])), batch);
    for (const [i, d] of batchDescribed.entries()) {
      if ('cells' in d && d.cells) cells.add(d.cells);
      const query = keptAsQueries.get(i);
      if ('error' in d) {
        failed.push(d.error.message);
        continue;
      }
      if (query) queries.push({ row: vectors.length, packed: packCells(new Float32Array(0), query, channels), count: query.length / channels });
      vectors.push(d.vector);
    }
    meter.advance(batch.length);
  }
  if (vectors.length < 2) {
    throw new UserError('INVALID_ARGUMENT', `${root} holds ${vectors.length} readable photo(s); the field domain needs at least two.`,
      'Point to a folder of photos taken the way queries are taken (tens or more is better).');
  }
  catalogue.putArtifact(key(describer.recipe), { json: { count: vectors.length, folder: root }, blob: new Uint8Array(stackRows(vectors).buffer) });
  const field = cells.result();
  catalogue.putArtifact(cellKey(describer.recipe), {
    json: { photos: field.photos, sampled: field.sample.length / channels },
    blob: packCells(field.mean, field.sample, channels),
  });
  catalogue.putArtifact(queryCellKey(describer.recipe), {
    json: { rows: queries.map((q) => q.row), counts: queries.map((q) => q.count) },
    blob: Buffer.concat(queries.map((q) => q.packed)),
  });
  // A catalogue of several photos an object is re-ranked by its photos' cells from now on: they
  // are described here, with progress, rather than in the first identification.
  if (!centredCatalogue(catalogue, describer.recipe)) {
    const part = describer.recipe.parts.find((p) => p.model === describer.cellModel)!;
    const embedded = catalogue.loadEmbeddings(part.model, storageKey(part, describer.recipe.flip)).photoIds;
    await cutOutsAndCentres(catalogue, describer, Array.from(embedded), options);
  }
  return { count: vectors.length, failed };
}
