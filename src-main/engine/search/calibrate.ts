import type { EvidenceThreshold } from '../identify/evidence-threshold';
import { mulberry32, shuffled } from '../random';

/**
 * "Not in the catalogue" threshold learned from the catalogue itself (calibrateCrossFitted).
 *
 * cross-fitted: genuine scores (photos of catalogued objects) and impostor scores (photos of
 * objects left out of the catalogue) are each measured in a space learned without them. The
 * threshold keeps at least `genuineAcceptRate` of genuine matches; when the impostors'
 * `impostorQuantile` lies below that, it sits midway between the two. The impostor scores
 * estimate how often an object that is not catalogued would still be accepted.
 *
 * nearest-other-only: when every object has a single photo there are no genuine scores; the
 * threshold is then a high quantile of the impostors'. It only bounds false accepts and says
 * nothing about missed matches, so it is a weaker estimate.
 *
 * Impostor scores come from the catalogue (its objects left out in turn) or, when the user gave
 * field photos, from those: each one's runner-up object (ObjectRanker.runnerUpScores), measured
 * in the domain queries come from.
 */
export interface Calibration {
  threshold: number;
  /** Share of genuine scores at or above the threshold; null when unknown. */
  genuineAcceptRate: number | null;
  /** Share of impostor (other-object) best scores at or above the threshold. */
  impostorAcceptRate: number;
  basis: 'cross-fitted' | 'nearest-other-only';
  impostorsFrom: 'held-out objects' | 'field photos';
  /** Scores it was learned from: genuine (0 without) and impostor. */
  genuineScores: number;
  impostorScores: number;
  /**
   * Learned from the catalogue's photos while field photos are learned too: how many field
   * photos there are and the share whose best object reaches the threshold. Photos taken
   * elsewhere score lower than the catalogue's own held-out ones (grocery-dev: half of val's
   * photos answered where 95 % of the held-out photos reach it), which the user should know.
   */
  fieldPhotos?: { count: number; reaching: number };
  /**
   * With field photos learned and local evidence re-ranking: the decision's threshold on the
   * score and local evidence together, which replaces `threshold` (EvidenceThreshold).
   */
  evidence?: EvidenceThreshold;
}

export interface CalibrationOptions {
  /** Share of genuine matches to keep accepting (default 0.95). */
  genuineAcceptRate?: number;
  /** Quantile of impostor scores the threshold keeps above, or sits at when there are no genuine scores (default 0.99). */
  impostorQuantile?: number;
}

/** Fewer genuine pairs than this and their quantile is too noisy to set a threshold. */
const MIN_GENUINE = 10;

/** Fewer field photos than this say too little about how high an impostor can score; the catalogue's are used instead. */
export const MIN_FIELD_IMPOSTORS = 20;

/** Catalogue rows, row-major, with the object of each. */
export interface LabelledRows {
  vectors: Float32Array;
  objectIds: Int32Array;
  dims: number;
}

/** A comparison space learned from some rows of a catalogue. */
export interface FittedSpace {
  /** Brings other raw rows (row-major) into the space. */
  map(vectors: Float32Array): Promise<Float32Array>;
  /** The score each mapped query gets against the rows the space was learned from: what the threshold applies to. */
  topScores(queries: Float32Array): number[];
  /** Dimensions it compares in. */
  dims: number;
}

export interface CrossFitOptions extends CalibrationOptions {
  /** Groups of objects held out in turn, each scored as uncatalogued (default 4). */
  impostorFolds?: number;
  /**
   * Genuine scores wanted: rounds, each holding out one more photo (in a seeded order) of every object that keeps
   * another, go on until there are this many (default 200; at most 10 rounds).
   */
  genuineScores?: number;
  /** Catalogues beyond this many photos are calibrated on a seeded sample of whole objects (default 1500). */
  maxRows?: number;
  seed?: number;
  /** Folds fitted at once (give `fit` a worker: the fits are plain JS). */
  concurrency?: number;
  /** Impostor scores measured on field photos, used instead of the held-out objects' (whose folds are then skipped) when there are enough. */
  fieldImpostors?: number[];
  /**
   * Dimensions of the space queries are ranked in. A fold's whitening keeps fewer when the
   * catalogue has fewer photos than the whitening keeps dimensions, and cosines spread like
   * 1/√d, so its scores are brought to this space's by √(fold's / these). On COIL's open set
   * (about 220 against 259, 30 seeds) known photos answered rose from 91.0 to 93.7 %, unknown
   * ones rejected fell from 96.6 to 94.3 %: the threshold keeps nearer the share it is set for.
   */
  dims?: number;
}

/**
 * The threshold for a space the catalogue's own photos shaped: a whitening learns how they vary
 * and spreads them apart more than any new photo, so a threshold learned from them in that space
 * (leave-one-out) sits too low and lets most uncatalogued objects through. Each held-out set is
 * therefore scored in a space learned without it, as a query will be: impostors are the photos
 * of a group of objects left out entirely (an uncatalogued object), genuine ones a photo of each
 * object left out while its other photos stay. The threshold then follows the rule above
 * (fromScores). Costs one fit per fold: 5 on a catalogue of 200 objects or more, up to 14 on
 * one of few objects, whose rounds give few genuine scores each. Catalogues past 1,500 photos
 * are sampled: the fits stay exact, and a space learned from fewer rows scores differently
 * (800 rows put COIL's threshold at 0.150, 1,500 at 0.212, for a catalogue of 1,784).
 */
export async function calibrateCrossFitted(rows: LabelledRows, fit: (rows: LabelledRows) => Promise<FittedSpace>, options: CrossFitOptions = {}): Promise<Calibration> {
  const random = mulberry32(options.seed ?? 1);
  const sample = objectSample(rows, options.maxRows ?? 1500, random);
  const objects = shuffled([...new Set(sample.objectIds)], random);
  const field = options.fieldImpostors && options.fieldImpostors.length >= MIN_FIELD_IMPOSTORS ? options.fieldImpostors : undefined;
  const groups = field ? 0 : options.impostorFolds ?? 4;
  const impostorFolds = Array.from({ length: groups }, (_, g) => {
    const out = new Set(objects.filter((_, i) => i % groups === g));
    return (row: number) => out.has(sample.objectIds[row]!);
  });
  const rank = photoRanks(sample.objectIds, random);
  const count = (row: number) => rank.counts.get(sample.objectIds[row]!)!;
  const genuineFolds: ((row: number) => boolean)[] = [];
  const wanted = options.genuineScores ?? 200;
  const largest = Math.max(...rank.counts.values());
  for (let f = 0, held = 0; f < Math.min(largest - 1, 10) && held < wanted; f++) {
    // The f-th photo of each object that keeps at least one other.
    genuineFolds.push((row) => rank.of[row] === f && count(row) > f + 1);
    held += [...rank.counts.values()].filter((n) => n > f + 1).length;
  }
  const scores = await inTurns([...impostorFolds, ...genuineFolds], options.concurrency ?? 1, (held) => heldOutScores(sample, held, fit, options.dims));
  const impostor = field ?? scores.slice(0, groups).flat();
  const genuine = scores.slice(groups).flat();
  const impostorsFrom = field ? 'field photos' : 'held-out objects';
  if (genuine.length < MIN_GENUINE) return { ...impostorsOnly(impostor, options), impostorsFrom };
  return { ...fromScores(genuine, impostor, options), impostorsFrom };
}

/** `work` on every item, at most `limit` at a time; results in the items' order. */
async function inTurns<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}

/** Scores of the rows `held` picks, in a space fitted on all the others, brought to a space of `dims` dimensions (CrossFitOptions.dims). */
async function heldOutScores(rows: LabelledRows, held: (row: number) => boolean, fit: (rows: LabelledRows) => Promise<FittedSpace>, dims?: number): Promise<number[]> {
  const all = Array.from(rows.objectIds.keys());
  const [out, kept] = [all.filter(held), all.filter((r) => !held(r))];
  if (out.length === 0 || kept.length < 2) return [];
  const space = await fit(subset(rows, kept));
  const scale = dims ? Math.sqrt(space.dims / dims) : 1;
  return space.topScores(await space.map(subset(rows, out).vectors)).map((s) => s * scale);
}

function subset(rows: LabelledRows, picked: readonly number[]): LabelledRows {
  const vectors = new Float32Array(picked.length * rows.dims);
  picked.forEach((r, i) => vectors.set(rows.vectors.subarray(r * rows.dims, (r + 1) * rows.dims), i * rows.dims));
  return { vectors, objectIds: Int32Array.from(picked, (r) => rows.objectIds[r]!), dims: rows.dims };
}

/** Whole objects, in seeded order, until about `maxRows` photos. */
function objectSample(rows: LabelledRows, maxRows: number, random: () => number): LabelledRows {
  if (rows.objectIds.length <= maxRows) return rows;
  const byObject = new Map<number, number[]>();
  rows.objectIds.forEach((id, r) => byObject.set(id, [...(byObject.get(id) ?? []), r]));
  const picked: number[] = [];
  for (const id of shuffled([...byObject.keys()], random)) {
    if (picked.length >= maxRows) break;
    picked.push(...byObject.get(id)!);
  }
  return subset(rows, picked);
}

/**
 * Each row's place among its object's rows (0, 1, …), in a seeded random order, and each
 * object's row count. Not the import order: its first photo (often the catalogue picture)
 * would be held out in every calibration.
 */
function photoRanks(objectIds: Int32Array, random: () => number): { of: Int32Array; counts: Map<number, number> } {
  const counts = new Map<number, number>();
  const of = new Int32Array(objectIds.length);
  for (const row of shuffled([...objectIds.keys()], random)) {
    const k = counts.get(objectIds[row]!) ?? 0;
    counts.set(objectIds[row]!, k + 1);
    of[row] = k;
  }
  return { of, counts };
}

/** With no genuine scores to learn from: a high quantile of the impostors'. */
function impostorsOnly(impostor: number[], options: CalibrationOptions): Omit<Calibration, 'impostorsFrom'> {
  const threshold = quantile(impostor, options.impostorQuantile ?? 0.99);
  return { threshold, genuineAcceptRate: null, impostorAcceptRate: shareAtLeast(impostor, threshold), basis: 'nearest-other-only', genuineScores: 0, impostorScores: impostor.length };
}

/** The threshold rule, from genuine and impostor scores. */
function fromScores(genuine: number[], impostor: number[], options: CalibrationOptions): Omit<Calibration, 'impostorsFrom'> {
  const genuineFloor = conformalFloor(genuine, options.genuineAcceptRate ?? 0.95);
  const impostorCeiling = quantile(impostor, options.impostorQuantile ?? 0.99);
  // Where the two populations are apart, sit midway: a catalogue's held-out photos are few and
  // often harder than a query's nearest view, so the genuine floor alone rejects too many.
  const threshold = impostorCeiling < genuineFloor ? (impostorCeiling + genuineFloor) / 2 : genuineFloor;
  return {
    threshold,
    genuineAcceptRate: shareAtLeast(genuine, threshold),
    impostorAcceptRate: shareAtLeast(impostor, threshold),
    basis: 'cross-fitted',
    genuineScores: genuine.length,
    impostorScores: impostor.length,
  };
}

/** What a threshold was learned from and how it did there, in a sentence for the person reading an answer. */
export function describeCalibration(c: Calibration): string {
  const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
  if (c.evidence) {
    return `Threshold learned from ${c.evidence.fieldPhotos} field photos on the score and local evidence together (how much of the object's photos is found in this one): `
      + `${pct(c.evidence.impostorAcceptRate)} of their matches with objects they do not show reach it, so the score needed falls as more of the object is found. `
      + 'Photos taken elsewhere of catalogued objects are still answered "not in the catalogue" at times; compare the candidates.';
  }
  if (c.impostorsFrom === 'field photos') {
    return `Threshold learned from ${c.impostorScores} field photos: ${pct(c.impostorAcceptRate)} of their scores against objects they do not show reach it.`;
  }
  if (c.genuineAcceptRate !== null) {
    const field = c.fieldPhotos && ` Of the ${c.fieldPhotos.count} field photos learned, ${pct(c.fieldPhotos.reaching)} reach it: photos taken elsewhere `
      + 'score lower than the catalogue\'s own, so one answered "not in the catalogue" may still show a catalogued object; compare its candidates.';
    return `Threshold learned from the catalogue's own photos: ${pct(c.genuineAcceptRate)} of held-out photos of catalogued objects reach it, `
      + `and ${pct(c.impostorAcceptRate)} of photos of objects left out of the catalogue.${field ?? ''}`;
  }
  return `Threshold learned from the catalogue's own pictures: ${pct(c.impostorAcceptRate)} of them score this high against another object. `
    + 'Photos taken elsewhere usually score lower than that; learning field photos (Catalogue, Field photos) fits the threshold to them.';
}

/**
 * True when the best match should be reported as "not in the catalogue": below the
 * threshold, or (with a margin) too close to the runner-up object to tell apart.
 */
export function decide(topScore: number, secondScore: number | undefined, threshold: number, margin = 0): boolean {
  if (topScore < threshold) return true;
  return secondScore !== undefined && margin > 0 && topScore - secondScore < margin;
}

/**
 * The k-th lowest score, k = ⌊(n + 1)(1 − rate)⌋: a new score from the same population reaches
 * it with probability at least `rate` (split conformal), where the plain quantile (which keeps
 * `rate` of these n) keeps about 1/n fewer of new ones. COIL's open set (140 genuine scores a seed,
 * 30 seeds, known photos' val and test): answered 94.5 → 94.9 %, unknown rejected 94.5 → 93.8 %.
 */
export function conformalFloor(values: number[], rate: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.floor((sorted.length + 1) * (1 - rate)) - 1)]!;
}

/** Lower empirical quantile: at least (1 − q) of the values are at or above it. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 1; // nothing to learn from: accept nothing automatically
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))]!;
}

function shareAtLeast(values: number[], threshold: number): number {
  return values.length === 0 ? 0 : values.filter((v) => v >= threshold).length / values.length;
}
