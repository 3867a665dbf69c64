import { availableParallelism } from 'node:os';
import type { Catalogue } from '../catalogue/catalogue';
import { sha256File } from '../catalogue/hash';
import { UserError } from '../errors';
import type { PhotoInput } from '../inference/embed';
import { standardiseAfter, type ClassifierOptions, type InstanceClassifier } from '../evaluation/classifier';
import { ObjectRanker, fuseMeanEmbedding, type ObjectMatch } from '../search/aggregate';
import { calibrateCrossFitted, decide, type Calibration, type LabelledRows } from '../search/calibrate';
import { WHITENED_COMPONENTS, fitWhiteningApart, rankingSpace, spaceLearner, type SpaceLearner, type WhiteningFit } from '../search/fitted-space';
import { FlatIndex } from '../search/index';
import { DEFAULT_SHRINKAGE, Postprocessor, concatDescriptors } from '../search/postprocess';
import { dot, stackRows } from '../search/vectors';
import { BackboneEnsemble, partSlices, ranksAsEnsemble } from './backbone-ensemble';
import type { Describer } from './describe';
import { learnEvidenceThreshold, scoreNeeded, type Evidence, type EvidenceThreshold } from './evidence-threshold';
import { fieldCells, fieldDomain, fieldDomainStatus, fieldQueryCells, queryCellsLearnedAt, type FieldDomain } from './field-domain';
import { CatalogueCells, cutOutsAndCentres, pictureCells, rerankByLocalEvidence } from './local-evidence';
import { FUSION_CANDIDATES, fuseWithRetrieval, localEvidenceSetsClassifierAside, objectProbabilities, storedClassifier, trainCatalogueClassifier } from './instance-classifier';
import { postprocessFor, recipeKey, storageKey, type DescriptorRecipe } from './recipe';

export interface IdentifiedObject {
  rank: number;
  objectId: number;
  instanceId: string;
  title: string | null;
  subcategory: string | null;
  collection: string;
  /** Similarity used for ranking (after the catalogue's post-processing). */
  score: number;
  /** With a trained classifier, or the backbones' ensemble: the probability that ranks the results. */
  probability?: number;
  /** The object's photo most like the query, and its similarity (centred cosine, as the compare panel explains it). */
  bestPhoto: { photoId: number; path: string; score: number };
}

export interface Identification {
  /** True when the best-ranked object's score is below the threshold. */
  notInCatalogue: boolean;
  /** The catalogue's calibrated threshold; with local evidence in the decision (Calibration.evidence), the score this best object needed. */
  threshold: number;
  calibration: Calibration;
  results: IdentifiedObject[];
  recipe: string;
  /**
   * fused: ranked with the catalogue's instance classifier; set aside: ranked by local evidence
   * instead; stale: one exists but the catalogue changed since.
   */
  classifier: 'fused' | 'set aside' | 'stale' | 'none';
  /** Ranked by the backbones' ensemble (a centred catalogue described by several models, without a fused classifier). */
  ensemble: boolean;
  /** Re-ranked by local evidence: one-picture catalogues, and others once field photos are learned. */
  local: boolean;
  /** Why the list is in its order when that is not by score (describeRanking); null when by score. */
  ranking: string | null;
  /** The post-processing actually used (whitening falls back to centring on single-photo catalogues). */
  postprocess: DescriptorRecipe['postprocess'];
  /** Field photos whose mean centred catalogue and query (0: the catalogue's own mean). */
  fieldDomainPhotos: number;
  catalogueState: number;
  logId: number;
}

/** Catalogue rows that have a descriptor for every part of the recipe, joined into one vector each. */
export function joinedDescriptors(catalogue: Catalogue, recipe: DescriptorRecipe) {
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
    parts: partSlices(loaded.map((l) => l.dim)),
    photoIds: Int32Array.from(keep, (r) => loaded[0].photoIds[r]),
    objectIds: Int32Array.from(keep, (r) => loaded[0].objectIds[r]),
    vectors,
  };
}

/** How identification whitens: learned with each object's prototype among the rows, keeping WHITENED_COMPONENTS. */
const WHITENING: WhiteningFit = { prototypes: true, components: WHITENED_COMPONENTS };

/** Each fit's worker peaked near 300 MB on bench:identify's 1,784 photos: four at once stay near 2 GB. */
const CALIBRATION_FITS_AT_ONCE = Math.min(4, availableParallelism());

function indexOf(rows: ReturnType<typeof joinedDescriptors>, vectors: Float32Array, dims: number): FlatIndex {
  const index = new FlatIndex(dims);
  index.add(rows.photoIds, rows.objectIds, vectors);
  return index;
}

/**
 * Answers "which catalogued object is in these photos?" for one catalogue and recipe.
 *
 * Objects are ranked in the recipe's space (whitened, by default), and the best one's score
 * decides whether it is in the catalogue at all. Its threshold is cross-fitted: a whitening
 * learned from the catalogue's own photos spreads them apart more than any new photo, so it is
 * learned from scores of photos held out of the space (calibrateCrossFitted). On COIL's
 * open set this rejected 88 % of uncatalogued objects' photos where the nearest photo's
 * centred cosine, calibrated by leave-one-out, rejected 67 % (20 seeds, 92 and 94 % of known
 * photos answered).
 */
export class Identifier {
  private builtAt = -1;
  private ranking!: {
    index: FlatIndex; ranker: ObjectRanker; postprocess: DescriptorRecipe['postprocess']; fieldDomain: number; calibration: Calibration;
    /** What brings a query into the ranking space (none: raw descriptors are compared). */
    queries?: Postprocessor;
  };
  /** The catalogue centred on its mean: where a match's best photo is measured, as the compare panel explains it. */
  private verification!: { index: FlatIndex; centring: Postprocessor };
  private classifier?: { classifier: InstanceClassifier; stale: boolean };
  private ensemble?: BackboneEnsemble;
  /** The pictures' feature-map cells that re-rank by local evidence, where it applies (localEvidence). */
  private cells?: CatalogueCells;
  private building?: { state: number; done: Promise<void> };

  constructor(private readonly catalogue: Catalogue, private readonly describer: Describer) {}

  private get recipe(): DescriptorRecipe {
    return this.describer.recipe;
  }

  /** Rebuilds the indexes when photos or embeddings changed; cheap when nothing did. */
  async prepare(): Promise<void> {
    const state = this.catalogue.state();
    if (state === this.builtAt) return;
    // Queries arriving while the catalogue is being prepared wait for that one build.
    if (this.building?.state !== state) this.building = { state, done: this.build(state) };
    await this.building.done;
  }

  private async build(state: number): Promise<void> {
    const key = recipeKey(this.recipe);
    const rows = joinedDescriptors(this.catalogue, this.recipe);
    if (rows.photoIds.length === 0) {
      // A part the recipe gained since the catalogue was embedded (the colour histogram, say) is named on its own.
      const { embeddings } = this.catalogue.stats();
      const missing = this.recipe.parts.filter((p) => !embeddings.some((e) => e.modelId === p.model && e.preprocessing === storageKey(p, this.recipe.flip) && e.count > 0));
      throw new UserError('CATALOGUE_NOT_EMBEDDED', `The catalogue ${this.catalogue.path} has no photos embedded for ${(missing.length > 0 ? missing : this.recipe.parts).map((p) => p.model).join(' + ')}.`,
        'Run `artefact-lens embed` (or Embed in the app): it embeds only what is missing. A catalogue without photos needs them imported first.');
    }
    // A model file changed since (an upgrade): its stored descriptors would not compare with a new photo's.
    const changed = this.recipe.parts.filter((p) => this.catalogue.fromOtherModelFile(p.model, this.describer.pool(p.model).card.sha256));
    if (changed.length > 0) {
      throw new UserError('CATALOGUE_NOT_EMBEDDED', `The catalogue ${this.catalogue.path} was embedded with another version of ${changed.map((p) => p.model).join(' + ')} than the one installed.`,
        'Run `artefact-lens embed` (or Embed in the app): it describes the photos again with the installed model.');
    }
    const centring = await Postprocessor.fit(rows.vectors, rows.dims, { mode: 'centre' });
    this.verification = { index: indexOf(rows, centring.applyBatch(rows.vectors), rows.dims), centring };
    const postprocess = postprocessFor(this.recipe.postprocess, rows.objectIds);
    const field = fieldDomain(this.catalogue, this.recipe);
    const domain = postprocess === 'centre' ? field : undefined;
    const learn = spaceLearner(postprocess, WHITENING, { fit: fitWhiteningApart });
    // Centred on the catalogue itself, the ranking space is the verification's: its centring and index serve both.
    const postprocessor = postprocess === 'whiten' ? await this.fittedWhitening(key, rows, learn) : postprocess === 'centre' ? centring : undefined;
    const index = postprocessor === centring ? this.verification.index
      : postprocessor ? indexOf(rows, await postprocessor.applyMany(rows.vectors), postprocessor.outDims) : indexOf(rows, rows.vectors, rows.dims);
    const ranker = new ObjectRanker(index);
    // Domain-wise centring (field-domain.ts): the catalogue on its own mean, queries on the field photos'.
    const fieldCentring = domain && await Postprocessor.fit(domain.vectors, rows.dims, { mode: 'centre' });
    const queries = fieldCentring ?? postprocessor;
    // Field photos are scored as queries are: their runner-up objects are the impostors.
    const fieldImpostors = domain && fieldCentring && ranker.runnerUpScores(fieldCentring.applyBatch(domain.vectors), this.recipe.aggregation);
    // Each fold leaves out a little of the catalogue: its whitening starts from the whole one's axes.
    const learnFold = spaceLearner(postprocess, { ...WHITENING, start: postprocess === 'whiten' ? postprocessor?.axes() : undefined }, { fit: fitWhiteningApart });
    const learned = await this.fittedCalibration(key, !domain, () => calibrateCrossFitted(rows,
      async (known) => rankingSpace(known, await learnFold(known), this.recipe.aggregation), { concurrency: CALIBRATION_FITS_AT_ONCE, fieldImpostors, dims: index.dims }));
    this.cells = await this.localEvidence(rows, postprocess);
    this.ensemble = ranksAsEnsemble(postprocess, rows.parts) ? BackboneEnsemble.fromIndex(index, rows.parts) : undefined;
    // Queries from elsewhere score far below the catalogue's own photos: with field photos to learn from, local evidence joins the decision.
    const evidence = field && this.cells && await this.evidenceThreshold(key, field, ranker, queries, this.cells);
    const calibration = evidence ? { ...learned, evidence }
      : field && !domain ? { ...learned, fieldPhotos: await this.fieldReach(field.vectors, ranker, queries, learned.threshold) } : learned;
    this.ranking = { index, ranker, queries, postprocess, fieldDomain: domain?.count ?? 0, calibration };
    this.classifier = storedClassifier(this.catalogue, this.recipe);
    this.builtAt = state;
  }

  /**
   * What re-ranks by local evidence: a centred catalogue's pictures, all of them; a whitened
   * one's pictures cut out from a plain background and its other photos' centres, once field
   * photos say queries come from elsewhere (on grocery-dev, val's photos from other visits rose
   * from 63 to 85 % top-1; held-out photos of the catalogue's own visits kept their 98.1 %).
   */
  private async localEvidence(rows: { photoIds: Int32Array; objectIds: Int32Array }, postprocess: DescriptorRecipe['postprocess']): Promise<CatalogueCells | undefined> {
    const field = fieldDomainStatus(this.catalogue, this.recipe) !== null;
    const objectOf = new Map(Array.from(rows.photoIds, (id, row) => [id, rows.objectIds[row]!]));
    const pictures = postprocess === 'centre' ? await pictureCells(this.catalogue, this.describer, Array.from(rows.photoIds))
      : field ? await cutOutsAndCentres(this.catalogue, this.describer, Array.from(rows.photoIds)) : undefined;
    if (!pictures || pictures.means.size === 0) return undefined;
    return CatalogueCells.build(pictures, (id) => objectOf.get(id)!, field ? fieldCells(this.catalogue, this.recipe, this.describer.cellChannels) : undefined);
  }

  /**
   * Trains the instance classifier (the paper's method) on the descriptors as ranked, and keeps
   * it in the catalogue; identification then fuses it with retrieval until the catalogue changes.
   */
  async trainClassifier(options: ClassifierOptions = {}): Promise<InstanceClassifier> {
    await this.prepare();
    const { index } = this.ranking;
    const vectors = new Float32Array(index.size * index.dims);
    const objectIds = new Int32Array(index.size);
    for (let row = 0; row < index.size; row++) {
      vectors.set(index.vectorAt(row), row * index.dims);
      objectIds[row] = index.objectIdAt(row);
    }
    const classifier = await trainCatalogueClassifier(this.catalogue, this.recipe, { objectIds, vectors, dims: index.dims },
      { standardise: standardiseAfter(this.ranking.postprocess), ...options });
    this.classifier = { classifier, stale: false };
    return classifier;
  }

  private async fittedWhitening(key: string, rows: LabelledRows, learn: SpaceLearner): Promise<Postprocessor> {
    const stored = this.catalogue.getArtifact(`whitening:${key}`);
    const kept = stored?.blob && !stored.stale ? Postprocessor.deserialise(stored.blob) : undefined;
    // One learned with an earlier default shrinkage is learned again.
    if (kept && Math.abs(kept.shrinkage - DEFAULT_SHRINKAGE) < 1e-6) return kept;
    const fitted = (await learn(rows))!;
    this.catalogue.putArtifact(`whitening:${key}`, { blob: fitted.serialise() });
    return fitted;
  }

  /**
   * Kept in the catalogue unless `kept` is false: a threshold learned with field photos' centring depends on them, which the key does not name.
   * The name says the rule it was learned by (the conformal floor, photos held out in a seeded order): one an earlier rule stored is learned again.
   */
  private async fittedCalibration(key: string, kept: boolean, fit: () => Promise<Calibration>): Promise<Calibration> {
    const name = `threshold:conformal:${key}`;
    const stored = kept ? this.catalogue.getArtifact(name) : undefined;
    if (stored?.json && !stored.stale) return stored.json as Calibration;
    const fitted = await fit();
    if (kept) this.catalogue.putArtifact(name, { json: fitted });
    return fitted;
  }

  /** How many field photos there are, and the share whose best object's score reaches `threshold` (Calibration.fieldPhotos). */
  private async fieldReach(vectors: Float32Array, ranker: ObjectRanker, queries: Postprocessor | undefined, threshold: number): Promise<{ count: number; reaching: number }> {
    const best = ranker.topScores(queries ? await queries.applyMany(vectors) : vectors, this.recipe.aggregation);
    return { count: best.length, reaching: best.filter((s) => s >= threshold).length / best.length };
  }

  /**
   * The evidence threshold (EvidenceThreshold), learned from the runner-up objects of the field
   * photos kept with their query cells, each identified as a query is; kept in the catalogue
   * until it or the field photos change.
   */
  private async evidenceThreshold(key: string, field: FieldDomain, ranker: ObjectRanker, queries: Postprocessor | undefined, cells: CatalogueCells): Promise<EvidenceThreshold | undefined> {
    const learnedAt = queryCellsLearnedAt(this.catalogue, this.recipe);
    if (!learnedAt) return undefined;
    const name = `evidence-threshold:${key}`;
    const stored = this.catalogue.getArtifact(name);
    const kept = stored?.json as { learnedAt: string; threshold: EvidenceThreshold | null } | undefined;
    // The field photos' cells are read (tens of megabytes) only to learn it again.
    if (stored && !stored.stale && kept?.learnedAt === learnedAt) return kept.threshold ?? undefined;
    const photos = fieldQueryCells(this.catalogue, this.recipe, this.describer.cellChannels)!;
    const dims = field.vectors.length / field.count;
    const runnerUps: Evidence[] = [];
    for (const [k, row] of photos.rows.entries()) {
      const raw = field.vectors.subarray(row * dims, (row + 1) * dims);
      const query = fuseMeanEmbedding(queries?.apply(raw) ?? raw, queries?.outDims ?? dims);
      const matches = ranker.rank(query, this.recipe.aggregation, FUSION_CANDIDATES);
      const [, second] = await rerankByLocalEvidence(this.ensemble ? this.ensemble.rerank(matches, query) : matches, [photos.cells[k]!], cells);
      if (second) runnerUps.push(second);
    }
    const threshold = learnEvidenceThreshold(runnerUps);
    this.catalogue.putArtifact(name, { json: { learnedAt, threshold: threshold ?? null } });
    return threshold;
  }

  /** Several photos of one unknown object are fused into one query. */
  async identify(photos: PhotoInput[], options: { top?: number } = {}): Promise<Identification> {
    if (photos.length === 0) throw new UserError('INVALID_ARGUMENT', 'No photo was given to identify.', 'Give one or more photos of the object.');
    await this.prepare();
    // The log's content hashes are read while the models run.
    const hashes = Promise.all(photos.map((p) => sha256File(p.path)));
    hashes.catch(() => undefined); // an unreadable photo is reported by describe, below
    const described = await this.describer.describe(photos, { cells: this.cells && 'query' });
    const failed = described.find((d) => 'error' in d);
    if (failed && 'error' in failed) throw failed.error;
    const raw = (described as { vector: Float32Array }[]).map((d) => d.vector);
    const queryCells = (described as { cells?: Float32Array }[]).flatMap((d) => d.cells ?? []);
    const query = fuseMeanEmbedding(stackRows(raw.map((v) => this.ranking.queries?.apply(v) ?? v)), this.ranking.index.dims);
    const check = fuseMeanEmbedding(stackRows(raw.map((v) => this.verification.centring.apply(v))), this.verification.index.dims);
    const top = options.top ?? 10;
    const fresh = this.classifier && !this.classifier.stale;
    const fused = fresh && !(this.cells && localEvidenceSetsClassifierAside(this.ranking.postprocess));
    const local = !fused && queryCells.length > 0 && this.cells;
    const ensemble = !fused && this.ensemble;
    const matches = this.ranking.ranker.rank(query, this.recipe.aggregation, fused || ensemble || local ? Math.max(top, FUSION_CANDIDATES) : top);
    const reranked = fused ? await this.fuse(matches, query) : ensemble ? ensemble.rerank(matches, query) : matches;
    // Re-ranked by local evidence, the order no longer follows a probability.
    const evidenceRanked = local && await rerankByLocalEvidence<ObjectMatch & { probability?: number }>(reranked, queryCells, local);
    const ranked = (evidenceRanked ? evidenceRanked.map(({ probability: _, local: __, found: ___, ...m }) => m) : reranked).slice(0, top);
    const results = ranked.map((m) => this.describeMatch(m, check));
    const { calibration } = this.ranking;
    // With local evidence in the decision, the score needed depends on how much of the best object was found.
    const threshold = calibration.evidence && evidenceRanked && evidenceRanked[0] ? scoreNeeded(calibration.evidence, evidenceRanked[0].found) : calibration.threshold;
    const classifier = fused ? 'fused' as const : fresh ? 'set aside' as const : this.classifier ? 'stale' as const : 'none' as const;
    const order = { classifier, ensemble: !!ensemble, local: !!local };
    const answer = {
      // The answered object's own retrieval score, what the threshold was learned on. Where fusion
      // reorders, it is at most the best score, so the threshold's false-accept rate still bounds it.
      notInCatalogue: decide(ranked[0]?.score ?? -1, undefined, threshold),
      threshold,
      calibration,
      results,
      recipe: recipeKey(this.recipe),
      ...order,
      ranking: describeRanking({ ...order, postprocess: this.ranking.postprocess }),
      postprocess: this.ranking.postprocess,
      fieldDomainPhotos: this.ranking.fieldDomain,
      catalogueState: this.catalogue.state(),
    };
    const logId = this.catalogue.logIdentification({
      queryHashes: await hashes,
      queryPaths: photos.map((p) => p.path),
      modelId: answer.recipe,
      answer: {
        notInCatalogue: answer.notInCatalogue, threshold: answer.threshold, ranking: answer.ranking,
        results: results.map((r) => ({ rank: r.rank, instanceId: r.instanceId, score: r.score, probability: r.probability })),
      },
    });
    return { ...answer, logId };
  }

  /** Retrieval and the instance classifier, averaged as probabilities; ranks follow the fused order. */
  private async fuse(matches: ObjectMatch[], query: Float32Array): Promise<(ObjectMatch & { probability: number })[]> {
    const byObject = new Map(matches.map((m) => [m.objectId, m]));
    return fuseWithRetrieval(matches, await objectProbabilities(this.classifier!.classifier, query))
      .filter((f) => byObject.has(f.objectId))
      .map((f, i) => ({ ...byObject.get(f.objectId)!, rank: i + 1, probability: f.probability }));
  }

  /** `check` is the query in the verification space, where the best photo's similarity is measured. */
  private describeMatch(m: ObjectMatch & { probability?: number }, check: Float32Array): IdentifiedObject {
    const object = this.catalogue.getObject(m.objectId)!;
    const photo = this.catalogue.getPhoto(m.bestPhotoId)!;
    const { index } = this.verification;
    return {
      rank: m.rank,
      objectId: m.objectId,
      instanceId: object.instanceId,
      title: object.title,
      subcategory: object.subcollection,
      collection: object.collection,
      score: m.score,
      probability: m.probability,
      bestPhoto: { photoId: photo.id, path: photo.path, score: dot(check, 0, index.vectorAt(index.rowOf(m.bestPhotoId)!), 0, index.dims) },
    };
  }
}

/**
 * Why the list is in the order it is, when it is not by score: fusion ranks by a probability, so
 * a lower-ranked object can have the higher score. Null when ranked by score alone.
 */
function describeRanking(answer: Pick<Identification, 'classifier' | 'ensemble' | 'local' | 'postprocess'>): string | null {
  const score = 'the score is the similarity the threshold applies to, so it need not fall with rank.';
  if (answer.local) {
    // Measured on grocery-dev: the threshold answered 0-27 % of catalogued products' photos, whose object was first for 67-85 %.
    return `Ranked by local evidence: how much of each of the ${FUSION_CANDIDATES} closest objects' catalogue pictures is found in the photo, with overall similarity; ${score}`
      + (answer.postprocess === 'centre' ? ' With one picture per object, "not in the catalogue" is often said of catalogued objects too: compare the first objects with the photo before concluding.' : '')
      + (answer.classifier === 'set aside' ? ' The instance classifier is set aside: for photos from elsewhere, local evidence ranked better.' : '');
  }
  if (answer.classifier === 'fused') {
    return `Ranked by probability: the catalogue's instance classifier averaged with similarity, over the ${FUSION_CANDIDATES} closest objects; ${score}`;
  }
  if (answer.ensemble) return `Ranked by probability: the mean of each model's, over the ${FUSION_CANDIDATES} closest objects; ${score}`;
  if (answer.classifier === 'stale') {
    return 'Ranked by similarity alone: the instance classifier was trained before the catalogue last changed. Train it again (Catalogue page, or `artefact-lens train`) to use it.';
  }
  return null;
}
