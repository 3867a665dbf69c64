import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Catalogue, type Metadata } from '../catalogue/catalogue';
import { runImport } from '../catalogue/import';
import { planFromManifest } from '../catalogue/import-manifest';
import { UserError } from '../errors';
import { cacheCells, type CellSource } from './cells';
import { GEM_P, storageKey, type DescriptorPart } from '../identify/recipe';
import type { PhotoInput } from '../inference/embed';
import { EmbeddingPool, type PoolSettings } from '../inference/pool';
import { DEFAULT_MODELS_DIR, findModelCard } from '../models/registry';
import { ProgressMeter, type ProgressListener } from '../jobs/progress';
import { gem } from '../search/postprocess';
import { normaliseInPlace } from '../search/vectors';

/** The four raw descriptors every photo gets per model, all from one pass over it and its mirror image. */
export const RAW_VARIANTS: readonly { pooling: DescriptorPart['pooling']; flip: boolean }[] = [
  { pooling: 'mean', flip: false },
  { pooling: 'gem', flip: false },
  { pooling: 'mean', flip: true },
  { pooling: 'gem', flip: true },
];

export function variantKey(pooling: DescriptorPart['pooling'], flip: boolean): string {
  return storageKey({ model: '', pooling }, flip);
}

export interface EvalPhoto {
  photoId: number;
  objectId: number;
  instanceId: string;
  subcollection: string | null;
  /** The manifest's extra columns for this photo (e.g. split). */
  metadata: Metadata;
}

/** A labelled photo set with every raw descriptor of every model, rows aligned with `photos`. */
export interface EvalSet {
  photos: EvalPhoto[];
  /** `${model}/${variantKey}` → row-major descriptors, one row per photo. */
  descriptors: Map<string, Float32Array>;
  dims: Map<string, number>;
  /** Photos left out because a model could not read them. */
  unreadable: number;
  /** Where local evidence's cells come from (the photos themselves); none for sets of bare descriptors. */
  cells?: CellSource;
}

export function descriptorsOf(set: EvalSet, model: string, key: string): { vectors: Float32Array; dims: number } {
  const vectors = set.descriptors.get(`${model}/${key}`);
  if (!vectors) throw new UserError('INVALID_ARGUMENT', `No ${key} descriptors of ${model} were computed.`, 'Name the model with --model.');
  return { vectors, dims: set.dims.get(model)! };
}

/** `${XDG_CACHE_HOME:-~/.cache}/artefact-lens/evaluation/<sha256 of the manifest's path and content>.sqlite` */
export function evaluationCachePath(manifest: string, cacheRoot = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')): string {
  const absolute = resolve(manifest);
  let content: Buffer;
  try {
    content = readFileSync(absolute);
  } catch (cause) {
    throw new UserError('FILE_NOT_FOUND', `The manifest ${absolute} does not exist or cannot be read.`, 'Check the path given to --manifest.', { cause });
  }
  const sha = createHash('sha256').update(absolute).update('\0').update(content).digest('hex');
  const dir = join(cacheRoot, 'artefact-lens', 'evaluation');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${sha.slice(0, 32)}.sqlite`);
}

export interface PrepareOptions {
  settings?: PoolSettings;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Where the cached catalogue lives (default: evaluationCachePath). */
  cachePath?: string;
  /** Photos per inference call. */
  batchSize?: number;
}

/**
 * Imports the manifest into a cached catalogue and computes whatever descriptors it lacks,
 * so only the first run embeds; then loads everything into memory.
 */
export async function prepareEvaluationSet(manifest: string, models: readonly string[], options: PrepareOptions = {}): Promise<EvalSet> {
  const path = options.cachePath ?? evaluationCachePath(manifest);
  const catalogue = Catalogue.open(path, { create: true });
  try {
    await importOnce(catalogue, manifest, options.signal);
    for (const model of models) await embedMissing(catalogue, model, options);
    return { ...loadSet(catalogue, models), cells: cacheCells(path, options.settings) };
  } finally {
    catalogue.close();
  }
}

/** The cache is keyed by the manifest's content, so one complete import is all it ever needs. */
async function importOnce(catalogue: Catalogue, manifest: string, signal?: AbortSignal): Promise<void> {
  if (catalogue.getArtifact('evaluation:imported')) return;
  const imported = await runImport(catalogue, planFromManifest(manifest), { signal });
  if (imported.imported + imported.alreadyPresent === 0) {
    throw new UserError('MANIFEST_INVALID', `None of the photos of ${manifest} could be read.`, 'Check the image_path column and that the photos exist.');
  }
  catalogue.putArtifact('evaluation:imported', { json: { failed: imported.failed.length } });
}

async function embedMissing(catalogue: Catalogue, model: string, options: PrepareOptions): Promise<void> {
  // A changed model file under the same id drops its stale descriptors here.
  catalogue.registerModel(findModelCard(model, options.settings?.modelsDir ?? DEFAULT_MODELS_DIR));
  const missing = new Map<number, PhotoInput & { photoId: number }>();
  for (const v of RAW_VARIANTS) {
    for (const p of catalogue.photosMissingEmbedding(model, variantKey(v.pooling, v.flip), Number.MAX_SAFE_INTEGER)) missing.set(p.photoId, p);
  }
  // An unreadable photo stays missing and is tried again on each run (it is reported as unreadable).
  if (missing.size === 0) return;
  const pool = await EmbeddingPool.open(model, options.settings);
  try {
    const photos = [...missing.values()];
    const meter = new ProgressMeter(photos.length, options.onProgress, `embedding with ${model}`);
    const inputs = photos.flatMap((p) => [{ path: p.path }, { path: p.path, flip: true }]);
    const [channels, h, w] = pool.card.outputs.featuremap.shape.slice(1) as [number, number, number];
    let next = 0;
    for await (const batch of pool.embed(inputs, { batchSize: 2 * (options.batchSize ?? 4), withFeaturemaps: true, signal: options.signal })) {
      const rows = new Map<string, { photoId: number; vector: Float32Array }[]>();
      for (let i = 0; i < batch.length; i += 2) {
        const [original, mirrored] = [batch[i]!, batch[i + 1]!];
        const photoId = photos[next + i / 2]!.photoId;
        if (!('embedding' in original) || !('embedding' in mirrored)) continue;
        const views = { mean: [original.embedding, mirrored.embedding], gem: [original, mirrored].map((r) => gem(r.featuremap!, channels, h, w, GEM_P)) };
        for (const v of RAW_VARIANTS) {
          const key = variantKey(v.pooling, v.flip);
          rows.set(key, [...(rows.get(key) ?? []), { photoId, vector: averaged(views[v.pooling].slice(0, v.flip ? 2 : 1)) }]);
        }
      }
      for (const [key, r] of rows) catalogue.writeEmbeddings(model, key, r);
      next += batch.length / 2;
      meter.advance(batch.length / 2);
    }
  } finally {
    await pool.close();
  }
}

/** Normalised mean of normalised views, as Describer computes a flip-averaged descriptor. */
function averaged(views: Float32Array[]): Float32Array {
  const out = new Float32Array(views[0]!.length);
  for (const view of views) {
    const v = view.slice();
    normaliseInPlace(v);
    for (let j = 0; j < out.length; j++) out[j]! += v[j]!;
  }
  normaliseInPlace(out);
  return out;
}

/** Photos that have every descriptor of every model, with their object's facts and their manifest columns. */
function loadSet(catalogue: Catalogue, models: readonly string[]): EvalSet {
  const loaded = new Map(models.flatMap((model) => RAW_VARIANTS.map((v) => {
    const key = `${model}/${variantKey(v.pooling, v.flip)}`;
    return [key, catalogue.loadEmbeddings(model, variantKey(v.pooling, v.flip))] as const;
  })));
  const rowMaps = new Map([...loaded].map(([key, l]) => [key, new Map(Array.from(l.photoIds, (id, row) => [id, row]))]));
  const photos: EvalPhoto[] = [];
  let unreadable = 0;
  for (const object of catalogue.listObjects({ limit: Number.MAX_SAFE_INTEGER }).objects) {
    for (const photo of catalogue.objectPhotos(object.id)) {
      if (![...rowMaps.values()].every((m) => m.has(photo.id))) {
        unreadable++;
        continue;
      }
      photos.push({ photoId: photo.id, objectId: object.id, instanceId: object.instanceId, subcollection: object.subcollection, metadata: photo.metadata });
    }
  }
  photos.sort((a, b) => a.photoId - b.photoId);
  const descriptors = new Map<string, Float32Array>();
  const dims = new Map<string, number>();
  for (const [key, l] of loaded) {
    const rows = rowMaps.get(key)!;
    const out = new Float32Array(photos.length * l.dim);
    photos.forEach((p, i) => out.set(l.vectors.subarray(rows.get(p.photoId)! * l.dim, (rows.get(p.photoId)! + 1) * l.dim), i * l.dim));
    descriptors.set(key, out);
    dims.set(key.slice(0, key.indexOf('/')), l.dim);
  }
  return { photos, descriptors, dims, unreadable };
}
