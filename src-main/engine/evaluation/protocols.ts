import { UserError } from '../errors';
import { ProgressMeter, type ProgressListener } from '../jobs/progress';
import { partRows, ranksAsEnsemble, type PartSlice } from '../identify/backbone-ensemble';
import { FUSION_CANDIDATES, fuseProbabilities, localEvidenceSetsClassifierAside } from '../identify/instance-classifier';
import { evidenceOf, learnEvidenceThreshold, type EvidenceThreshold } from '../identify/evidence-threshold';
import { QUERY_CELL_PHOTOS } from '../identify/field-domain';
import { CatalogueCells, someOf } from '../identify/local-evidence';
import { DEFAULT_RECIPE, mostlySeveralPhotos } from '../identify/recipe';
import { calibrateCrossFitted, type Calibration } from '../search/calibrate';
import { WHITENED_COMPONENTS, rankingSpace, spaceLearner } from '../search/fitted-space';
import { evenIndices } from '../search/vectors';
import { standardiseAfter, type ClassifierOptions } from './classifier';
import type { EvaluationCells } from './cells';
import type { EvalSet } from './dataset';
import { comparedDescriptors, describeVariant, entryName, fieldRows, variantForCatalogue, type CompareRows, type ComparedDescriptors, type DescriptorVariant } from './descriptors';
import { IdentificationOrder, type FoldCells, type RankedMatch } from './identification-order';
import { gatherRows } from './linalg';
import { breakdown, ranksOf, type Accuracy, type Breakdown } from './metrics';
import { classSpace, ensemble, labelsOf, scoreQueries, type ClassifierKind, type ScoringInput } from './scoring';
import { holdOutObjects, objectsWithAtLeast, randomSplit, rowsByObject, rowsWhere, subsamplePerObject, validationFrom, type Split } from './split';

export type ProtocolName = 'paper' | 'field' | 'open';

export interface EvaluationOptions {
  protocol: ProtocolName;
  /** Each entry is one model, or several joined into one descriptor; two single models or more give an ensemble too. */
  models: string[][];
  classifiers: ClassifierKind[];
  seeds: number[];
  variant: DescriptorVariant;
  /** Paper protocol: one run per minimum photo count. */
  minImages?: number[];
  /** Keep 3 + Poisson(λ) photos per object (at most 20) before anything else. */
  perObjectPoisson?: number;
  /** Field and open protocols: manifest `split` values of the catalogue and of the queries. */
  catalogueSplits?: string[];
  querySplits?: string[];
  /** Field and open protocols: split values of unlabelled field photos to centre queries on and learn the threshold from (default: the queries themselves). */
  fieldSplits?: string[];
  /** Open set: share of objects held out of the catalogue (default 0.2). */
  holdOut?: number;
  /** Only the first objects (by catalogue order), for quick runs. */
  limitObjects?: number;
  /** Softmax temperature turning retrieval cosines into probabilities for ensembles. */
  temperature?: number;
  classifier?: Omit<ClassifierOptions, 'seed' | 'signal'>;
  /** Re-rank by local evidence where identification does (default true); the set must bring cells. */
  localEvidence?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/**
 * A row of the closed-set results: a classifier, or "fused", what identification ranks by once a
 * classifier is trained: the prototype and linear classifiers' probabilities averaged, or the
 * prototype row alone where local evidence sets the classifier aside.
 */
export type ScoredClassifier = ClassifierKind | 'fused';

/** One (seed, threshold, classifier, model) result; model "ensemble" averages the entries' probabilities. */
export interface RunResult extends Breakdown {
  seed: number;
  minImages: number | null;
  classifier: ScoredClassifier;
  model: string;
}

export interface OpenSetResult {
  seed: number;
  model: string;
  threshold: number;
  /** How the threshold was learned (Calibration's basis) and where its impostor scores came from. */
  calibrationBasis: string;
  knownQueries: number;
  unknownQueries: number;
  /** Share of photos of held-out objects answered "not in the catalogue". */
  unknownRejected: number;
  /** Share of known objects' photos still answered. */
  knownAnswered: number;
  /** Known objects' photos answered with the right object first. */
  knownCorrectAnswered: number;
  /** Top-1 on known objects with no threshold. */
  knownTop1: number;
  /** Rejected share of unknown photos at the threshold that keeps 95 % of known photos answered (best case). */
  unknownRejectedAt95: number;
}

export interface SummaryRow {
  protocol: ProtocolName;
  minImages: number | null;
  classifier: ScoredClassifier | 'open-set';
  model: string;
  top1: number;
  top3: number;
  top5: number;
  top10: number;
  nTest: number;
}

export interface EvaluationResult {
  protocol: ProtocolName;
  /** The descriptors compared: those asked for, as identification applies them to this catalogue. */
  variant: DescriptorVariant;
  /**
   * Local evidence, which identification applies to a centred catalogue (mostly single photos)
   * and to a whitened one once field photos are learned: the model whose cells re-ranked the
   * prototype rows of entries with it, or why it was left out; null where it does not apply.
   */
  localEvidence: { model: string } | { leftOut: string } | null;
  runs: RunResult[];
  /** Per (threshold, classifier, model): every breakdown averaged over the seeds. */
  means: Omit<RunResult, 'seed'>[];
  openSet: OpenSetResult[];
  openSetMeans: Omit<OpenSetResult, 'seed'>[];
  summary: SummaryRow[];
}

/** A fold to evaluate: which rows are the catalogue, which are queries, and the photo counts to group by. */
interface Fold {
  seed: number;
  minImages: number | null;
  split: Split;
  photoCounts: Map<number, number>;
  /** Field photos other than the queries (EvaluationOptions.fieldSplits), if any. */
  field?: readonly number[];
}

/** What a fold's runs share: local evidence for entries with `model`, if it applies. */
interface FoldContext {
  local?: { model: string; cells: FoldCells };
}

export async function evaluate(set: EvalSet, asked: EvaluationOptions): Promise<EvaluationResult> {
  const options = { ...asked, variant: catalogueVariant(set, asked) };
  const field = fieldOf(set, options);
  const folds = options.seeds.flatMap((seed) => foldsFor(set, options, seed)).map((fold) => ({ ...fold, field }));
  const local = await localEvidence(set, options, folds);
  const meter = new ProgressMeter(folds.length * options.models.length, options.onProgress, 'evaluating');
  const runs: RunResult[] = [];
  const openSet: OpenSetResult[] = [];
  for (const fold of folds) {
    const context = { local: local.cells && { model: local.cells.model, cells: await foldCells(set, options, fold, local.cells) } };
    if (options.protocol === 'open') openSet.push(...await openSetFold(set, options, fold, context, meter));
    else runs.push(...await closedSetFold(set, options, fold, context, meter));
  }
  const means = meanRuns(runs);
  const openSetMeans = meanOpenSet(openSet);
  return {
    protocol: options.protocol, variant: options.variant, localEvidence: local.reported,
    runs, means, openSet, openSetMeans, summary: summarise(options.protocol, means, openSetMeans),
  };
}

/** The descriptors line of a report: the variant compared, and whether local evidence re-ranked as identification does. */
export function describeDescriptors(result: Pick<EvaluationResult, 'variant' | 'localEvidence'>): string {
  const local = result.localEvidence;
  if (!local) return describeVariant(result.variant);
  const pictures = result.variant.postprocess === 'centre' ? 'such a catalogue' : 'a catalogue whose queries come from elsewhere (field photos learned)';
  return `${describeVariant(result.variant)}. ${'model' in local
    ? `As identification does for ${pictures}, the prototype rows of entries with ${local.model} are re-ranked by local evidence (its feature-map cells`
      + `${result.variant.postprocess === 'centre' ? '' : ' of the pictures on a plain background, cut out, and of the other photos\' centres, the query photos standing for the field photos'})`
      + `${localEvidenceSetsClassifierAside(result.variant.postprocess) ? '; their fused rows are the same, since identification then sets the instance classifier aside' : ''}`
    : `Identification also re-ranks ${pictures} by local evidence (feature-map cells), which this evaluation leaves out: ${local.leftOut}`}`;
}

/**
 * Identification re-ranks by local evidence a centred catalogue (mostly single photos), and a
 * whitened one once field photos are learned: here, when the catalogue and queries are splits
 * (the field and open protocols), the queries standing for field photos. The cells of every
 * catalogue, field and query photo of the folds are described here once.
 */
async function localEvidence(set: EvalSet, options: EvaluationOptions, folds: readonly Fold[]):
  Promise<{ cells?: EvaluationCells & { model: string }; reported: EvaluationResult['localEvidence'] }> {
  const centred = options.variant.postprocess === 'centre';
  if (!centred && !(options.variant.postprocess === 'whiten' && options.catalogueSplits)) return { reported: null };
  const leftOut = (why: string) => ({ reported: { leftOut: why } });
  if (options.localEvidence === false) return leftOut('turned off (--local-evidence no)');
  if (!set.cells) return leftOut('these descriptors come without their photos');
  const { model } = set.cells;
  if (!options.models.some((m) => m.includes(model))) return leftOut(`it uses ${model}'s cells, and no entry has that model`);
  const ids = (rows: readonly number[]) => [...new Set(rows)].map((r) => set.photos[r]!.photoId);
  const queries = folds.flatMap((f) => f.split.test);
  // The field photos the evidence threshold learns from are identified as queries are.
  const field = folds[0]?.field ?? queries;
  const learnedFrom = fieldSample(field);
  const cells = await set.cells.gather({ catalogue: ids(folds.flatMap((f) => f.split.train)), pictures: centred ? 'all' : 'plain', field: ids(field), queries: ids([...queries, ...learnedFrom]) },
    { signal: options.signal, onProgress: options.onProgress });
  return { cells: { ...cells, model }, reported: { model } };
}

/**
 * A fold's local evidence: its catalogue pictures' cells in the space identification learns,
 * whitened on the field photos' cells when queries are centred on field photos, or when the
 * catalogue is whitened (field photos are what brings local evidence to it).
 */
async function foldCells(set: EvalSet, options: EvaluationOptions, fold: Fold, cells: EvaluationCells): Promise<FoldCells> {
  const objectOf = new Map(fold.split.train.map((r) => [set.photos[r]!.photoId, set.photos[r]!.objectId]));
  const pictures = someOf(cells.pictures, objectOf.keys());
  const field = options.variant.fitOn === 'queries' || options.variant.postprocess === 'whiten' ? cells.field : undefined;
  return {
    cells: await CatalogueCells.build(pictures, (id) => objectOf.get(id)!, field),
    queryCells: (row) => cells.queryCells(set.photos[row]!.photoId),
  };
}

/**
 * The classifiers that can learn from these catalogue rows: the instance classifier needs
 * objects with several photos (as in the product); on grocery-dev's one-picture catalogue it
 * fell to 7 % top-1, below the prototypes it starts from.
 */
function trainable(set: EvalSet, catalogue: readonly number[], asked: readonly ClassifierKind[]): ClassifierKind[] {
  if (mostlySeveralPhotos(catalogue.map((r) => set.photos[r]!.objectId))) return [...asked];
  const kinds = asked.filter((k) => k !== 'linear');
  if (kinds.length === 0) {
    throw new UserError('INVALID_ARGUMENT', 'The instance classifier learns how photos of one object vary, but most catalogue objects here have a single photo.',
      'Choose knn or prototype (or all) for this catalogue.');
  }
  return kinds;
}

/** The rows of the field splits asked for, if any. */
function fieldOf(set: EvalSet, options: EvaluationOptions): number[] | undefined {
  if (!options.fieldSplits) return undefined;
  const rows = rowsWhere(set.photos, 'split', options.fieldSplits);
  if (rows.length < 2) throw new UserError('INVALID_ARGUMENT', `The manifest has ${rows.length} row(s) with split ${options.fieldSplits}: too few field photos.`, 'Check the values of its split column.');
  return rows;
}

/** The descriptors as identification would use them on the catalogue the splits name (the paper's folds keep several photos per object). */
function catalogueVariant(set: EvalSet, options: EvaluationOptions): DescriptorVariant {
  if (!options.catalogueSplits) return options.variant;
  return variantForCatalogue(options.variant, rowsWhere(set.photos, 'split', options.catalogueSplits).map((r) => set.photos[r]!.objectId));
}

function baseRows(set: EvalSet, options: EvaluationOptions, seed: number): number[] {
  let rows = set.photos.map((_, r) => r);
  if (options.limitObjects) {
    const ids = new Set([...rowsByObject(set.photos, rows).keys()].slice(0, options.limitObjects));
    rows = rows.filter((r) => ids.has(set.photos[r]!.objectId));
  }
  return options.perObjectPoisson === undefined ? rows : subsamplePerObject(set.photos, rows, options.perObjectPoisson, seed);
}

function foldsFor(set: EvalSet, options: EvaluationOptions, seed: number): Fold[] {
  const rows = baseRows(set, options, seed);
  if (options.catalogueSplits && options.querySplits) return [fieldFold(set, options, rows, seed)];
  if (options.protocol === 'field') {
    throw new UserError('INVALID_ARGUMENT', 'The field protocol needs --catalogue-split and --query-split.', 'E.g. --catalogue-split catalogue,train --query-split val.');
  }
  return (options.minImages ?? [3]).map((minImages) => {
    const kept = objectsWithAtLeast(set.photos, rows, minImages);
    if (kept.length === 0) throw new UserError('INVALID_ARGUMENT', `No object has ${minImages} photos or more.`, 'Lower --min-images.');
    return { seed, minImages, split: randomSplit(kept, seed), photoCounts: counts(set, kept) };
  });
}

/** Catalogue rows against query rows, by the manifest's split column; validation comes out of the catalogue. */
function fieldFold(set: EvalSet, options: EvaluationOptions, rows: number[], seed: number): Fold {
  const inRows = new Set(rows);
  const pick = (values: string[]) => rowsWhere(set.photos, 'split', values).filter((r) => inRows.has(r));
  const [train, test] = [pick(options.catalogueSplits!), pick(options.querySplits!)];
  if (train.length === 0 || test.length === 0) {
    throw new UserError('INVALID_ARGUMENT', `The manifest has no rows with split ${train.length === 0 ? options.catalogueSplits : options.querySplits}.`, 'Check the values of its split column.');
  }
  return { seed, minImages: null, split: { train, val: validationFrom(set.photos, train, 0.1, seed), test }, photoCounts: counts(set, train) };
}

function counts(set: EvalSet, rows: readonly number[]): Map<number, number> {
  return new Map([...rowsByObject(set.photos, rows)].map(([id, g]) => [id, g.length]));
}

async function closedSetFold(set: EvalSet, options: EvaluationOptions, fold: Fold, context: FoldContext, meter: ProgressMeter): Promise<RunResult[]> {
  const { split } = fold;
  const space = classSpace(set.photos, split.train);
  const truth = labelsOf(set.photos, split.test, space);
  const queries = split.test.map((r) => set.photos[r]!);
  const results: RunResult[] = [];
  const probabilities = new Map<ClassifierKind, Float32Array[]>();
  const record = (classifier: ScoredClassifier, model: string, scores: Float32Array) => {
    results.push({ seed: fold.seed, minImages: fold.minImages, classifier, model, ...breakdown(ranksOf(scores, space.objectIds.length, truth), queries, fold.photoCounts) });
  };
  for (const models of options.models) {
    const compared = await comparedDescriptors(set, models, options.variant, { catalogue: split.train, queries: split.test, field: fold.field });
    const { vectors, dims, raw } = compared;
    const local = context.local && models.includes(context.local.model) ? context.local.cells : undefined;
    const own = new Map<ClassifierKind, Float32Array>();
    let locallyRanked: Float32Array | undefined;
    for (const kind of trainable(set, split.train, options.classifiers)) {
      await checkpoint(options.signal);
      const input = { photos: set.photos, vectors, dims, train: split.train, val: split.val, queries: split.test, space };
      const scoring = { temperature: options.temperature, classifier: { standardise: standardiseAfter(options.variant.postprocess), ...options.classifier, seed: fold.seed, signal: options.signal } };
      // Identification ranks a centred catalogue of several backbones by their ensemble; so does its prototype row here.
      const scored = kind === 'prototype' && ranksAsEnsemble(options.variant.postprocess, raw.parts)
        ? await partsEnsemble(input, raw.parts, scoring.temperature) : await scoreQueries(kind, input, scoring);
      const reranked = kind === 'prototype' && local ? await locallyReranked(scored.scores, space.objectIds, new IdentificationOrder(set, options.variant, split.train, compared, local), split.test) : scored.scores;
      record(kind, entryName(models), reranked);
      if (reranked !== scored.scores) locallyRanked = reranked;
      own.set(kind, scored.probabilities);
      if (models.length === 1) probabilities.set(kind, [...(probabilities.get(kind) ?? []), scored.probabilities]);
    }
    const [retrieval, classifier] = [own.get('prototype'), own.get('linear')];
    const classifierAside = locallyRanked && localEvidenceSetsClassifierAside(options.variant.postprocess);
    if (retrieval && classifier) record('fused', entryName(models), classifierAside ? locallyRanked! : fuseProbabilities(retrieval, classifier));
    meter.advance(1, `seed ${fold.seed}${fold.minImages ? `, ≥${fold.minImages} photos` : ''}`);
  }
  // The paper's ensemble: single models' probabilities averaged (a joined entry is a fusion of its own).
  for (const [kind, members] of probabilities) if (members.length > 1) record(kind, 'ensemble', ensemble(members));
  return results;
}

/**
 * Scores in identification's order with local evidence: its candidates, re-ranked, above every
 * other object (each query's row of `scores`, one column per object of `objectIds`).
 */
async function locallyReranked(scores: Float32Array, objectIds: Int32Array, order: IdentificationOrder, queries: readonly number[]): Promise<Float32Array> {
  const column = new Map(Array.from(objectIds, (id, j) => [id, j]));
  const out = scores.slice();
  (await order.rank(queries, FUSION_CANDIDATES)).forEach((matches, q) => {
    for (const m of matches) out[q * objectIds.length + column.get(m.objectId)!] = 2 + FUSION_CANDIDATES - m.rank;
  });
  return out;
}

/** Prototype probabilities of each backbone's slice of the joined vectors, averaged: BackboneEnsemble over every object. */
async function partsEnsemble(input: ScoringInput, parts: readonly PartSlice[], temperature?: number): Promise<{ scores: Float32Array; probabilities: Float32Array }> {
  const members = await Promise.all(parts.map(async (p) =>
    (await scoreQueries('prototype', { ...input, vectors: partRows(input.vectors, input.dims, p), dims: p.dims }, { temperature })).probabilities));
  const mean = ensemble(members);
  return { scores: mean, probabilities: mean };
}

/**
 * Open set: a share of objects leaves the catalogue. Their photos should be answered "not in
 * the catalogue" at a threshold learned from the catalogue alone, while known objects' query
 * photos should still be answered. The decision is identification's: the best object's score,
 * against a threshold cross-fitted in the space as the variant learns it.
 */
async function openSetFold(set: EvalSet, options: EvaluationOptions, fold: Fold, context: FoldContext, meter: ProgressMeter): Promise<OpenSetResult[]> {
  const all = [...fold.split.train, ...fold.split.val, ...fold.split.test];
  const { unknown } = holdOutObjects(set.photos, all, options.holdOut ?? 0.2, fold.seed);
  const unknownSet = new Set(unknown);
  const catalogue = fold.split.train.filter((r) => !unknownSet.has(r));
  // The paper-style fold has few test photos: every photo of a known object outside the
  // catalogue (val too, which nothing here learns from) and every photo of a held-out object is a query.
  const outside = options.catalogueSplits ? fold.split.test : [...fold.split.val, ...fold.split.test];
  const knownQueries = outside.filter((r) => !unknownSet.has(r));
  const unknownQueries = options.catalogueSplits ? outside.filter((r) => unknownSet.has(r)) : unknown;
  const rows = { catalogue, queries: [...knownQueries, ...unknownQueries], field: fold.field };
  const results: OpenSetResult[] = [];
  for (const models of options.models) {
    await checkpoint(options.signal);
    const compared = await comparedDescriptors(set, models, options.variant, rows);
    const local = context.local && models.includes(context.local.model) ? context.local.cells : undefined;
    const order = new IdentificationOrder(set, options.variant, catalogue, compared, local);
    const calibration = await openSetThreshold(set, options.variant, rows, compared, order);
    // As identification decides once field photos bring local evidence.
    const evidence = local ? await evidenceThresholdOf(order, fieldSample(fieldRows(rows))) : undefined;
    const decided = (h: RankedMatch) => (evidence ? evidenceOf(evidence, { score: h.score, found: h.found ?? NaN }) : h.score);
    const threshold = evidence?.threshold ?? calibration.threshold;
    const best = async (queries: readonly number[]) => (await order.rank(queries, 1)).map((m) => m[0]!);
    const known = await best(knownQueries);
    const unknownScores = (await best(unknownQueries)).map(decided);
    const knownScores = known.map(decided);
    const at95 = [...knownScores].sort((a, b) => a - b)[Math.floor(0.05 * knownScores.length)] ?? 1;
    meter.advance(1, `seed ${fold.seed}`);
    results.push({
      seed: fold.seed,
      model: entryName(models),
      threshold,
      calibrationBasis: evidence ? `score and local evidence, impostors from ${evidence.fieldPhotos} field photos' runner-ups` : `${calibration.basis}, impostors from ${calibration.impostorsFrom}`,
      knownQueries: knownQueries.length,
      unknownQueries: unknownQueries.length,
      unknownRejected: share(unknownScores, (s) => s < threshold),
      knownAnswered: share(knownScores, (s) => s >= threshold),
      knownCorrectAnswered: share(known, (h, i) => knownScores[i]! >= threshold && h.objectId === set.photos[knownQueries[i]!]!.objectId),
      knownTop1: share(known, (h, i) => h.objectId === set.photos[knownQueries[i]!]!.objectId),
      unknownRejectedAt95: share(unknownScores, (s) => s < at95),
    });
  }
  return results;
}

/** The field photos identification keeps with their query cells (QUERY_CELL_PHOTOS, evenly spread): what the evidence threshold learns from. */
function fieldSample(field: readonly number[]): number[] {
  return evenIndices(field.length, QUERY_CELL_PHOTOS).map((i) => field[i]!);
}

/** The evidence threshold identification learns from these field photos' runner-up objects. */
async function evidenceThresholdOf(order: IdentificationOrder, field: readonly number[]): Promise<EvidenceThreshold | undefined> {
  return learnEvidenceThreshold((await order.rank(field, 2)).flatMap(([, second]) => (second?.found === undefined ? [] : [{ score: second.score, found: second.found }])));
}

/** The threshold identification learns for this catalogue, in the space as the variant learns it. */
async function openSetThreshold(set: EvalSet, variant: DescriptorVariant, rows: CompareRows, compared: ComparedDescriptors, order: IdentificationOrder): Promise<Calibration> {
  const { catalogue } = rows;
  const { aggregation } = DEFAULT_RECIPE;
  const { raw, postprocessor, vectors, dims } = compared;
  // A whitening learned from the query photos is one fixed space for every fold; centring stays domain-wise, the catalogue's on its own rows.
  // As identification, a fold's whitening starts from the whole catalogue's axes.
  const start = variant.postprocess === 'whiten' ? postprocessor?.axes() : undefined;
  const learn = spaceLearner(variant.postprocess, { prototypes: variant.fitOn === 'catalogue+prototypes', components: WHITENED_COMPONENTS, start },
    { fixed: variant.fitOn === 'queries' && variant.postprocess === 'whiten' ? postprocessor : undefined });
  const labelled = { vectors: gatherRows(raw.vectors, raw.dims, catalogue), objectIds: Int32Array.from(catalogue, (r) => set.photos[r]!.objectId), dims: raw.dims };
  // The field photos (the queries themselves unless others are given), unlabelled: their runner-ups are the impostors.
  const fieldImpostors = variant.fitOn === 'queries' ? order.ranker.runnerUpScores(gatherRows(vectors, dims, fieldRows(rows)), aggregation) : undefined;
  return calibrateCrossFitted(labelled, async (known) => rankingSpace(known, await learn(known), aggregation), { fieldImpostors, dims });
}

function share<T>(items: readonly T[], test: (item: T, i: number) => boolean): number {
  return items.length === 0 ? 0 : items.filter(test).length / items.length;
}

/** Lets the event loop run first, so a cancel sent while the evaluation works (from the window, a signal handler) arrives. */
async function checkpoint(signal?: AbortSignal): Promise<void> {
  await new Promise(setImmediate);
  if (signal?.aborted) throw new UserError('CANCELLED', 'The evaluation was cancelled.', 'Run it again; the descriptors are cached.');
}

function meanAccuracy(items: readonly Accuracy[]): Accuracy {
  const mean = (f: (a: Accuracy) => number) => items.reduce((s, a) => s + f(a), 0) / items.length;
  return { n: mean((a) => a.n), top1: mean((a) => a.top1), top3: mean((a) => a.top3), top5: mean((a) => a.top5), top10: mean((a) => a.top10) };
}

/** Mean of each group over the seeds it appears in. */
function meanGroups(records: readonly Record<string, Accuracy>[]): Record<string, Accuracy> {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return Object.fromEntries(keys.map((k) => [k, meanAccuracy(records.flatMap((r) => (r[k] ? [r[k]] : [])))]));
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.values()];
}

function meanRuns(runs: readonly RunResult[]): Omit<RunResult, 'seed'>[] {
  return groupBy(runs, (r) => `${r.minImages}|${r.classifier}|${r.model}`).map((group) => ({
    minImages: group[0]!.minImages,
    classifier: group[0]!.classifier,
    model: group[0]!.model,
    overall: meanAccuracy(group.map((r) => r.overall)),
    byPhotos: meanGroups(group.map((r) => r.byPhotos)),
    bySubcollection: meanGroups(group.map((r) => r.bySubcollection)),
    unseen: group.reduce((s, r) => s + r.unseen, 0) / group.length,
  }));
}

function meanOpenSet(results: readonly OpenSetResult[]): Omit<OpenSetResult, 'seed'>[] {
  return groupBy(results, (r) => r.model).map((group) => {
    const mean = (f: (r: OpenSetResult) => number) => group.reduce((s, r) => s + f(r), 0) / group.length;
    return {
      model: group[0]!.model,
      calibrationBasis: group[0]!.calibrationBasis,
      threshold: mean((r) => r.threshold),
      knownQueries: mean((r) => r.knownQueries),
      unknownQueries: mean((r) => r.unknownQueries),
      unknownRejected: mean((r) => r.unknownRejected),
      knownAnswered: mean((r) => r.knownAnswered),
      knownCorrectAnswered: mean((r) => r.knownCorrectAnswered),
      knownTop1: mean((r) => r.knownTop1),
      unknownRejectedAt95: mean((r) => r.unknownRejectedAt95),
    };
  });
}

/** The rows a benchmark harness reads. For the open set, top-k is on known objects with no threshold. */
function summarise(protocol: ProtocolName, means: readonly Omit<RunResult, 'seed'>[], open: readonly Omit<OpenSetResult, 'seed'>[]): SummaryRow[] {
  const closed = means.map((m) => ({ protocol, minImages: m.minImages, classifier: m.classifier, model: m.model,
    top1: m.overall.top1, top3: m.overall.top3, top5: m.overall.top5, top10: m.overall.top10, nTest: m.overall.n }));
  const openRows = open.map((o) => ({ protocol, minImages: null, classifier: 'open-set' as const, model: o.model,
    top1: o.knownTop1, top3: NaN, top5: NaN, top10: NaN, nTest: o.knownQueries + o.unknownQueries,
    unknownRejected: o.unknownRejected, knownAnswered: o.knownAnswered }));
  return [...closed, ...openRows];
}
