import type { Catalogue } from '../catalogue/catalogue';
import { sha256File } from '../catalogue/hash';
import { UserError } from '../errors';
import type { PhotoInput } from '../inference/embed';
import { ObjectRanker, fuseMeanEmbedding } from '../search/aggregate';
import { calibrate, decide, type Calibration } from '../search/calibrate';
import { FlatIndex } from '../search/index';
import { Postprocessor, concatDescriptors } from '../search/postprocess';
import { dot } from '../search/vectors';
import type { Describer } from './describe';
import { recipeKey, storageKey, type DescriptorRecipe } from './recipe';

export interface IdentifiedObject {
  rank: number;
  objectId: number;
  instanceId: string;
  title: string | null;
  subcategory: string | null;
  collection: string;
  /** Similarity used for ranking (after the catalogue's post-processing). */
  score: number;
  /** The object's photo most like the query, and its similarity. */
  bestPhoto: { photoId: number; path: string; score: number };
}

export interface Identification {
  /** True when even the best match is below the catalogue's calibrated threshold. */
  notInCatalogue: boolean;
  threshold: number;
  calibration: Calibration;
  results: IdentifiedObject[];
  recipe: string;
  catalogueState: number;
  logId: number;
}

/** Catalogue rows that have a descriptor for every part of the recipe, joined into one vector each. */
function joinedDescriptors(catalogue: Catalogue, recipe: DescriptorRecipe) {
  const loaded = recipe.parts.map((p) => catalogue.loadEmbeddings(p.model, storageKey(p, recipe.flip)));
  const rowOf = loaded.map((l) => new Map(Array.from(l.photoIds, (id, row) => [id, row])));
  const keep = Array.from(loaded[0].photoIds.keys()).filter((row) => rowOf.every((m) => m.has(loaded[0].photoIds[row])));
  const dims = loaded.reduce((n, l) => n + l.dim, 0);
  const vectors = new Float32Array(keep.length * dims);
  keep.forEach((row, i) => {
    const id = loaded[0].photoIds[row];
    const parts = loaded.map((l, k) => {
      const r = rowOf[k].get(id)!;
      return { vector: l.vectors.subarray(r * l.dim, (r + 1) * l.dim), weight: recipe.parts[k].weight };
    });
    vectors.set(concatDescriptors(parts), i * dims);
  });
  return {
    dims,
    photoIds: Int32Array.from(keep, (r) => loaded[0].photoIds[r]),
    objectIds: Int32Array.from(keep, (r) => loaded[0].objectIds[r]),
    vectors,
  };
}

/** Object prototypes (mean of each object's rows), added to the whitening's training rows. */
function withPrototypes(objectIds: Int32Array, vectors: Float32Array, dims: number): Float32Array {
  const sums = new Map<number, Float32Array>();
  objectIds.forEach((id, row) => {
    const sum = sums.get(id) ?? sums.set(id, new Float32Array(dims)).get(id)!;
    for (let j = 0; j < dims; j++) sum[j] += vectors[row * dims + j];
  });
  const out = new Float32Array(vectors.length + sums.size * dims);
  out.set(vectors);
  [...sums.values()].forEach((s, i) => out.set(s, vectors.length + i * dims));
  return out;
}

/**
 * Answers "which catalogued object is in these photos?" for one catalogue and recipe. What
 * it learns from the catalogue (post-processing, threshold) is stored in the catalogue and
 * refitted when the catalogue has changed since.
 */
export class Identifier {
  private builtAt = -1;
  private index!: FlatIndex;
  private ranker!: ObjectRanker;
  private postprocessor?: Postprocessor;
  private calibration!: Calibration;

  constructor(private readonly catalogue: Catalogue, private readonly describer: Describer) {}

  private get recipe(): DescriptorRecipe {
    return this.describer.recipe;
  }

  /** Rebuilds the index when photos or embeddings changed; cheap when nothing did. */
  prepare(): void {
    const state = this.catalogue.state();
    if (state === this.builtAt) return;
    const key = recipeKey(this.recipe);
    const rows = joinedDescriptors(this.catalogue, this.recipe);
    if (rows.photoIds.length === 0) {
      throw new UserError('INVALID_ARGUMENT', `The catalogue ${this.catalogue.path} has no embedded photos for ${this.recipe.parts.map((p) => p.model).join(' + ')}.`,
        'Import photos and run `artefact-lens embed` first.');
    }
    this.postprocessor = this.recipe.postprocess === 'none' ? undefined : this.fittedPostprocessor(key, rows);
    const vectors = this.postprocessor ? this.postprocessor.applyBatch(rows.vectors) : rows.vectors;
    this.index = new FlatIndex(this.postprocessor?.outDims ?? rows.dims);
    this.index.add(rows.photoIds, rows.objectIds, vectors);
    this.ranker = new ObjectRanker(this.index);
    this.calibration = this.fittedCalibration(key);
    this.builtAt = state;
  }

  private fittedPostprocessor(key: string, rows: ReturnType<typeof joinedDescriptors>): Postprocessor {
    const stored = this.catalogue.getArtifact(`postprocess:${key}`);
    if (stored?.blob && !stored.stale) return Postprocessor.deserialise(stored.blob);
    const training = this.recipe.postprocess === 'whiten' ? withPrototypes(rows.objectIds, rows.vectors, rows.dims) : rows.vectors;
    const fitted = Postprocessor.fit(training, rows.dims, { mode: this.recipe.postprocess === 'whiten' ? 'whiten' : 'centre' });
    this.catalogue.putArtifact(`postprocess:${key}`, { blob: fitted.serialise() });
    return fitted;
  }

  private fittedCalibration(key: string): Calibration {
    const stored = this.catalogue.getArtifact(`calibration:${key}`);
    if (stored?.json && !stored.stale) return stored.json as Calibration;
    const fitted = calibrate(this.index);
    this.catalogue.putArtifact(`calibration:${key}`, { json: fitted });
    return fitted;
  }

  /** Several photos of one unknown object are fused into one query. */
  async identify(photos: PhotoInput[], options: { top?: number } = {}): Promise<Identification> {
    if (photos.length === 0) throw new UserError('INVALID_ARGUMENT', 'No photo was given to identify.', 'Give one or more photos of the object.');
    this.prepare();
    const described = await this.describer.describe(photos);
    const failed = described.find((d) => 'error' in d);
    if (failed && 'error' in failed) throw failed.error;
    const dims = this.index.dims;
    const queries = new Float32Array(photos.length * dims);
    described.forEach((d, i) => {
      const v = (d as { vector: Float32Array }).vector;
      queries.set(this.postprocessor ? this.postprocessor.apply(v) : v, i * dims);
    });
    const query = fuseMeanEmbedding(queries, dims);
    const results = this.ranker.rank(query, this.recipe.aggregation, options.top ?? 10).map((m) => this.describeMatch(m, query));
    const top = results[0]?.bestPhoto.score ?? -1;
    const answer = {
      notInCatalogue: decide(top, results[1]?.bestPhoto.score, this.calibration.threshold),
      threshold: this.calibration.threshold,
      calibration: this.calibration,
      results,
      recipe: recipeKey(this.recipe),
      catalogueState: this.catalogue.state(),
    };
    const logId = this.catalogue.logIdentification({
      queryHashes: await Promise.all(photos.map((p) => sha256File(p.path))),
      queryPaths: photos.map((p) => p.path),
      modelId: answer.recipe,
      answer: { notInCatalogue: answer.notInCatalogue, threshold: answer.threshold, results: results.map((r) => ({ rank: r.rank, instanceId: r.instanceId, score: r.score })) },
    });
    return { ...answer, logId };
  }

  private describeMatch(m: { objectId: number; score: number; bestPhotoId: number; rank: number }, query: Float32Array): IdentifiedObject {
    const object = this.catalogue.getObject(m.objectId)!;
    const photo = this.catalogue.getPhoto(m.bestPhotoId)!;
    const row = this.index.rowOf(m.bestPhotoId)!;
    return {
      rank: m.rank,
      objectId: m.objectId,
      instanceId: object.instanceId,
      title: object.title,
      subcategory: object.subcollection,
      collection: object.collection,
      score: m.score,
      bestPhoto: { photoId: photo.id, path: photo.path, score: dot(query, 0, this.index.vectorAt(row), 0, this.index.dims) },
    };
  }
}
