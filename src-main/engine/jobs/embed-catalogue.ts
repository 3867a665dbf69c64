import { existsSync } from 'node:fs';
import type { Catalogue } from '../catalogue/catalogue';
import type { Describer } from '../identify/describe';
import { fieldDomainStatus, learnFieldDomain, queryCellsLearnedAt } from '../identify/field-domain';
import { centredCatalogue, keepCutOutOrCentre, keepPictureCells } from '../identify/local-evidence';
import { storageKey } from '../identify/recipe';
import { ProgressMeter, type ProgressListener } from './progress';

export interface EmbedCatalogueOptions {
  /** Photos per inference call (default 4: end to end 8 % faster than 1 on two cores, bench:embed). */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface EmbedCatalogueSummary {
  embedded: number;
  failed: { photoId: number; path: string; reason: string }[];
  /**
   * Field photos learned with a model file since replaced (described again from their folder, or
   * forgotten when it is gone), or by an earlier version that kept no query cells (described again,
   * or kept as they are when it is gone).
   */
  fieldPhotos?: { folder: string; learnedAgain: boolean; because: 'model' | 'earlier version' };
}

/**
 * Computes every descriptor the recipe needs that the catalogue lacks. Each batch is
 * committed in one transaction, so a killed or cancelled job loses at most the batch in
 * flight, and running it again carries on where it stopped.
 */
export async function embedCatalogue(catalogue: Catalogue, describer: Describer, options: EmbedCatalogueOptions = {}): Promise<EmbedCatalogueSummary> {
  const { parts, flip } = describer.recipe;
  const field = fieldDomainStatus(catalogue, describer.recipe);
  // Identification re-ranks by local evidence a centred catalogue, and a whitened one once field
  // photos are learned: the pictures' cells come from this same inference.
  const keepCells = centredCatalogue(catalogue, describer.recipe) ? keepPictureCells : field ? keepCutOutOrCentre : undefined;
  const registered = parts.map((part) => catalogue.registerModel(describer.pool(part.model).card));
  const work = parts.map((part) => {
    const key = storageKey(part, flip);
    return { part, key, photos: catalogue.photosMissingEmbedding(part.model, key, Number.MAX_SAFE_INTEGER) };
  });
  const meter = new ProgressMeter(work.reduce((n, w) => n + w.photos.length, 0), options.onProgress);
  const summary: EmbedCatalogueSummary = { embedded: 0, failed: [] };
  for (const { part, key, photos } of work) {
    let next = 0;
    const cells = !!keepCells && part.model === describer.cellModel;
    for await (const batch of describer.describePart(part, photos, { batchSize: options.batchSize ?? 4, signal: options.signal, cells })) {
      const rows = batch.flatMap((d, i) => ('vector' in d ? [{ photoId: photos[next + i].photoId, vector: d.vector }] : []));
      catalogue.writeEmbeddings(part.model, key, rows);
      if (cells) await keepCells!(catalogue, describer, batch.map((d, i) => ({ photoId: photos[next + i].photoId, described: d })));
      batch.forEach((d, i) => {
        if ('error' in d) summary.failed.push({ photoId: photos[next + i].photoId, path: d.path, reason: d.error.message });
      });
      summary.embedded += rows.length;
      next += batch.length;
      meter.advance(batch.length, part.model);
    }
  }
  // A replaced model file took the field photos' descriptors with it (registerModel); field photos
  // learned by an earlier version lack the cells the "not in the catalogue" decision weighs.
  const because = !field ? undefined : registered.includes('replaced') ? 'model' : queryCellsLearnedAt(catalogue, describer.recipe) ? undefined : 'earlier version';
  if (field && because) {
    const learnedAgain = existsSync(field.folder);
    if (learnedAgain) await learnFieldDomain(catalogue, describer, field.folder, { signal: options.signal, onProgress: options.onProgress });
    summary.fieldPhotos = { folder: field.folder, learnedAgain, because };
  }
  return summary;
}

/** What became of field photos learned with a replaced model file or by an earlier version, in a sentence for the person embedding. */
export function describeFieldPhotos(f: NonNullable<EmbedCatalogueSummary['fieldPhotos']>): string {
  const learn = 'learn field photos again (artefact-lens domain, or Catalogue, Field photos in the app)';
  if (f.because === 'earlier version') {
    return f.learnedAgain ? `The field photos of ${f.folder} were described again: "not in the catalogue" now weighs local evidence learned from them.`
      : `The field photos were learned by an earlier version, and their folder ${f.folder} is gone: ${learn} to let local evidence into "not in the catalogue".`;
  }
  return f.learnedAgain ? `A model changed since the field photos were learned: those of ${f.folder} were described again.`
    : `A model changed since the field photos were learned, and their folder ${f.folder} is gone: ${learn}.`;
}
