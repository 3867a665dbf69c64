import { describe, expect, it } from 'vitest';
import { evidenceOf, learnEvidenceThreshold, scoreNeeded, type Evidence } from '../../src-main/engine/identify/evidence-threshold';
import { mulberry32 } from '../../src-main/engine/random';

/** `n` draws of (score, found) around the given means, independent, with a spread of 0.05 each. */
function draws(n: number, score: number, found: number, seed: number): Evidence[] {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: n }, () => ({ score: score + 0.05 * normal(), found: found + 0.05 * normal() }));
}

describe('the threshold on the score and local evidence together', () => {
  it('keeps out all but 5 % of impostors, and answers genuine matches that either kind of evidence alone would lose', () => {
    const impostors = draws(1000, 0.2, 0.3, 1);
    const t = learnEvidenceThreshold(impostors)!;
    expect(t.fieldPhotos).toBe(1000);
    expect(t.impostorAcceptRate).toBeGreaterThan(0.03);
    expect(t.impostorAcceptRate).toBeLessThanOrEqual(0.06);
    // New impostors from the same population: about 5 % get through.
    const fresh = draws(2000, 0.2, 0.3, 2).filter((e) => evidenceOf(t, e) >= t.threshold).length / 2000;
    expect(fresh).toBeGreaterThan(0.03);
    expect(fresh).toBeLessThan(0.07);
    // Genuine matches a little above the impostors on both kinds: the sum separates them better than either kind.
    const genuine = draws(2000, 0.27, 0.37, 3);
    const answered = genuine.filter((e) => evidenceOf(t, e) >= t.threshold).length / 2000;
    const [scores, found] = [impostors.map((e) => e.score), impostors.map((e) => e.found)].map((v) => [...v].sort((a, b) => a - b)[950]!);
    expect(answered).toBeGreaterThan(genuine.filter((e) => e.score >= scores!).length / 2000 + 0.1);
    expect(answered).toBeGreaterThan(genuine.filter((e) => e.found >= found!).length / 2000 + 0.1);
  });

  it('gives, for a found share, the score that reaches the threshold: more found, less score needed', () => {
    const t = learnEvidenceThreshold(draws(100, 0.2, 0.3, 4))!;
    for (const e of draws(200, 0.25, 0.32, 5)) expect(e.score >= scoreNeeded(t, e.found)).toBe(evidenceOf(t, e) >= t.threshold);
    expect(scoreNeeded(t, 0.4)).toBeLessThan(scoreNeeded(t, 0.3));
    // A match whose pictures could not be read is judged by its score alone, counted for both kinds.
    const unread = { score: 0.3, found: NaN };
    expect(unread.score >= scoreNeeded(t, NaN)).toBe(evidenceOf(t, unread) >= t.threshold);
    expect(evidenceOf(t, unread)).toBeCloseTo(2 * (0.3 - t.score.mean) / t.score.sd, 10);
  });

  it('learns nothing from fewer than 20 field photos with both kinds of evidence', () => {
    const few = draws(19, 0.2, 0.3, 6);
    expect(learnEvidenceThreshold(few)).toBeUndefined();
    expect(learnEvidenceThreshold([...few, { score: 0.2, found: NaN }])).toBeUndefined();
    expect(learnEvidenceThreshold([...few, { score: 0.2, found: 0.3 }])).toBeDefined();
  });
});
