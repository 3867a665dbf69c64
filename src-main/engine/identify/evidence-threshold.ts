import { MIN_FIELD_IMPOSTORS, quantile } from '../search/calibrate';

/** What a match brings to the decision: its global score and its pictures' found share (rerankByCells), NaN without readable cells. */
export interface Evidence {
  score: number;
  found: number;
}

/**
 * "Not in the catalogue" once field photos are learned and local evidence re-ranks, decided on
 * both kinds of evidence: each standardised on the field photos' runner-up objects (impostors in
 * the queries' own domain), summed, and the threshold set at a high quantile of those
 * runner-ups' sums. A catalogue's own held-out photos cannot set it: they score far above photos
 * taken on other visits.
 */
export interface EvidenceThreshold {
  score: { mean: number; sd: number };
  found: { mean: number; sd: number };
  /** On the summed standardised evidence. */
  threshold: number;
  /** Field photos whose runner-ups it was learned from, and the share of those runner-ups that reach it. */
  fieldPhotos: number;
  impostorAcceptRate: number;
}

/**
 * Impostors the threshold keeps out. Grocery-dev, catalogue + train → val, open set, known
 * photos answered / unknown ones rejected over 15 seeds: 54.3 / 82.6 % (at 0.9: 61.4 / 77.8 %);
 * the score alone against the catalogue-learned threshold, 46.0 / 80.3 %, against its field
 * runner-ups' 95 % quantile, 50.0 / 79.9 %; found shares weighed twice, 48.1 / 86.0 %.
 */
const IMPOSTOR_QUANTILE = 0.95;

function spread(values: readonly number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, sd: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) || 1 };
}

/** Learned from the field photos' runner-up objects; undefined with fewer than MIN_FIELD_IMPOSTORS that have both kinds. */
export function learnEvidenceThreshold(runnerUps: readonly Evidence[]): EvidenceThreshold | undefined {
  const usable = runnerUps.filter((e) => Number.isFinite(e.score) && Number.isFinite(e.found));
  if (usable.length < MIN_FIELD_IMPOSTORS) return undefined;
  const standard = { score: spread(usable.map((e) => e.score)), found: spread(usable.map((e) => e.found)), fieldPhotos: usable.length, impostorAcceptRate: 0, threshold: 0 };
  const sums = usable.map((e) => evidenceOf(standard, e));
  const threshold = quantile(sums, IMPOSTOR_QUANTILE);
  return { ...standard, threshold, impostorAcceptRate: sums.filter((v) => v >= threshold).length / sums.length };
}

/** The summed standardised evidence; a match without readable cells counts its global score for both. */
export function evidenceOf(t: EvidenceThreshold, e: Evidence): number {
  const score = (e.score - t.score.mean) / t.score.sd;
  return score + (Number.isFinite(e.found) ? (e.found - t.found.mean) / t.found.sd : score);
}

/**
 * The global score a match with this found share needs to reach the threshold: what the score
 * bar marks, so that "below the threshold" keeps reading on the score's own scale.
 */
export function scoreNeeded(t: EvidenceThreshold, found: number): number {
  if (!Number.isFinite(found)) return t.score.mean + t.score.sd * t.threshold / 2;
  return t.score.mean + t.score.sd * (t.threshold - (found - t.found.mean) / t.found.sd);
}
