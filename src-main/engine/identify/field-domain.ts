import { join, resolve } from 'node:path';
import type { Catalogue } from '../catalogue/catalogue';
import { listPhotos } from '../catalogue/import-folders';
import { UserError } from '../errors';
import { ProgressMeter, type ProgressListener } from '../jobs/progress';
import { stackRows } from '../search/vectors';
import { packCells, unpackCells } from './cell-matching';
import { FieldCellSampler, centredCatalogue, cutOutsAndCentres, type FieldCells } from './local-evidence';
import type { Describer } from './describe';
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

/** The field photos' cells, if learned with them. */
export function fieldCells(catalogue: Catalogue, recipe: DescriptorRecipe, channels: number): FieldCells | undefined {
  const stored = catalogue.getArtifact(cellKey(recipe));
  if (!stored?.blob) return undefined;
  const { photos, sampled } = stored.json as { photos: number; sampled: number };
  const unpacked = unpackCells(stored.blob, channels, sampled, channels);
  return unpacked && { photos, mean: unpacked.head, sample: unpacked.cells };
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

/** Photos described at a time: progress and cancel come between batches. */
const BATCH = 8;

/** Describes every photo in `folder` and keeps their descriptors with the catalogue; returns how many, and which failed. */
export async function learnFieldDomain(catalogue: Catalogue, describer: Describer, folder: string,
  options: { signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<{ count: number; failed: string[] }> {
  const root = resolve(folder);
  const photos = listPhotos(root).map((p) => ({ path: join(root, p) }));
  const meter = new ProgressMeter(photos.length, options.onProgress, 'Describing field photos');
  const described: Awaited<ReturnType<Describer['describe']>> = [];
  const channels = describer.cellChannels;
  const cells = new FieldCellSampler(channels, photos.length);
  for (let start = 0; start < photos.length; start += BATCH) {
    if (options.signal?.aborted) throw new UserError('CANCELLED', 'Learning the field domain was cancelled; the previous one, if any, is kept.', 'Start it again when you are ready.');
    const batch = photos.slice(start, start + BATCH);
    // Each photo's cells go into the mean and the sample, then are dropped: hundreds of photos' cells take gigabytes.
    for (const d of await describer.describe(batch, { cells: true })) {
      if ('cells' in d && d.cells) cells.add(d.cells);
      described.push('vector' in d ? { path: d.path, vector: d.vector } : d);
    }
    meter.advance(batch.length);
  }
  const vectors = described.flatMap((d) => ('vector' in d ? [d.vector] : []));
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
  // A catalogue of several photos an object is re-ranked by its photos' cells from now on: they
  // are described here, with progress, rather than in the first identification.
  if (!centredCatalogue(catalogue, describer.recipe)) {
    const part = describer.recipe.parts.find((p) => p.model === describer.cellModel)!;
    const embedded = catalogue.loadEmbeddings(part.model, storageKey(part, describer.recipe.flip)).photoIds;
    await cutOutsAndCentres(catalogue, describer, Array.from(embedded), options);
  }
  return { count: vectors.length, failed: described.flatMap((d) => ('error' in d ? [d.error.message] : [])) };
}
