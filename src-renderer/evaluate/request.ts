import type { DescriptorChoice, EvaluationRequest } from '../../src-main/contract';
import type { ProtocolName } from '../../src-main/engine/evaluation/protocols';
import type { ClassifierKind } from '../../src-main/engine/evaluation/scoring';

/** The Evaluate form as the person fills it in. */
export interface EvaluationForm {
  manifest: string;
  protocol: ProtocolName;
  thresholds: number[];
  /** "1", "1,2,3" or "1-10". */
  seeds: string;
  classifiers: ClassifierKind[];
  backbones: string[];
  /** Score each chosen backbone on its own. */
  each: boolean;
  /** Score the chosen backbones joined into one descriptor. */
  joined: boolean;
  /** Field protocol: split values, comma-separated. */
  catalogueSplits: string;
  querySplits: string;
  descriptors: DescriptorChoice;
}

export const THRESHOLDS = [3, 4, 5, 6] as const;

/** Whole numbers from "1,2" or "1-10" (mixed as wished); null if the text is not such a list. */
export function parseSeeds(text: string): number[] | null {
  const seeds = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^\s*(\d{1,6})\s*(?:-\s*(\d{1,6})\s*)?$/.exec(part);
    if (!match) return null;
    const [from, to] = [Number(match[1]), Number(match[2] ?? match[1])];
    if (to < from || to - from >= 100) return null;
    for (let s = from; s <= to; s++) seeds.add(s);
  }
  return seeds.size > 100 ? null : [...seeds];
}

const splits = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

/** Each backbone on its own, then all of them joined; with two single backbones or more the engine scores their ensemble too. */
export function modelEntries(form: Pick<EvaluationForm, 'backbones' | 'each' | 'joined'>): string[][] {
  const entries = form.each ? form.backbones.map((b) => [b]) : [];
  if (form.joined && form.backbones.length > 1) entries.push([...form.backbones]);
  return entries;
}

/** The request the form describes, or what is missing from it, in the curator's words. */
export function evaluationRequest(form: EvaluationForm): { request: EvaluationRequest } | { missing: string } {
  const seeds = parseSeeds(form.seeds);
  const models = modelEntries(form);
  if (!form.manifest) return { missing: 'Choose the manifest of labelled photos to evaluate on.' };
  if (!seeds) return { missing: 'Give the seeds as whole numbers, e.g. 1 or 1,2,3 or 1-10 (at most 100).' };
  if (form.protocol !== 'field' && form.thresholds.length === 0) return { missing: 'Tick at least one number of photos per object.' };
  if (form.classifiers.length === 0) return { missing: 'Tick at least one classifier.' };
  if (models.length === 0) return { missing: form.backbones.length === 0 ? 'Tick at least one model.' : 'Tick "each on its own", or "joined" with two models or more.' };
  const [catalogueSplits, querySplits] = [splits(form.catalogueSplits), splits(form.querySplits)];
  if (form.protocol === 'field' && (catalogueSplits.length === 0 || querySplits.length === 0)) {
    return { missing: 'The field protocol needs the split values of the catalogue photos and of the query photos.' };
  }
  const useSplits = form.protocol !== 'paper' && catalogueSplits.length > 0 && querySplits.length > 0;
  return {
    request: {
      manifest: form.manifest, protocol: form.protocol, seeds, classifiers: form.classifiers, models, descriptors: { ...form.descriptors },
      // The open set is measured once, on objects with at least the fewest photos ticked.
      minImages: form.protocol === 'paper' ? [...form.thresholds].sort((a, b) => a - b) : [Math.min(...form.thresholds, THRESHOLDS.at(-1)!)],
      ...(useSplits ? { catalogueSplits, querySplits } : {}),
    },
  };
}
