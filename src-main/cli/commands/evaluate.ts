import { writeFileSync } from 'node:fs';
import { UserError } from '../../engine/errors';
import { prepareEvaluationSet } from '../../engine/evaluation/dataset';
import { DEFAULT_VARIANT, recipeVariant, type DescriptorVariant } from '../../engine/evaluation/descriptors';
import { describeDescriptors, evaluate, type EvaluationOptions, type ProtocolName } from '../../engine/evaluation/protocols';
import { renderHtmlReport, summaryText, type EvaluationReport } from '../../engine/evaluation/report';
import { CLASSIFIERS, type ClassifierKind } from '../../engine/evaluation/scoring';
import { DEFAULT_RECIPE } from '../../engine/identify/recipe';
import type { Progress } from '../../engine/jobs/progress';
import { modelBytes } from '../../engine/models/registry';
import { optionalString, requiredString, type Command, type OptionValues } from '../command';
import { sessionSettings, SESSION_OPTIONS } from './session-options';

/** Each backbone on its own (and their ensemble), as the paper compared them, and joined, as identification describes photos. */
const DEFAULT_MODELS = [...DEFAULT_RECIPE.parts.map((p) => p.model), DEFAULT_RECIPE.parts.map((p) => p.model).join('+')].join(',');

function invalid(option: string, value: string, hint: string): UserError {
  return new UserError('INVALID_ARGUMENT', `--${option} ${value} is not valid.`, hint);
}

function oneOf<T extends string>(values: OptionValues, option: string, allowed: readonly T[], fallback: T): T {
  const value = optionalString(values, option) ?? fallback;
  if (!allowed.includes(value as T)) throw invalid(option, value, `Use one of ${allowed.join(', ')}.`);
  return value as T;
}

/** "1,2" or "1-10" (or both mixed) as whole numbers. */
function integers(values: OptionValues, option: string, fallback: string, minimum: number): number[] {
  const text = optionalString(values, option) ?? fallback;
  const out = text.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map((s) => Number(s.trim()));
    if (!Number.isInteger(from) || !Number.isInteger(to) || from! < minimum || to! < from!) throw invalid(option, text, `Give whole numbers of at least ${minimum}, e.g. 1,2,3 or 1-10.`);
    return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
  });
  return [...new Set(out)];
}

function positiveNumber(values: OptionValues, option: string): number | undefined {
  const text = optionalString(values, option);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) throw invalid(option, text, 'Give a positive number.');
  return n;
}

function list(values: OptionValues, option: string): string[] | undefined {
  return optionalString(values, option)?.split(',').map((s) => s.trim()).filter(Boolean);
}

function classifiers(values: OptionValues): ClassifierKind[] {
  const given = list(values, 'classifier') ?? ['all'];
  if (given.includes('all')) return [...CLASSIFIERS];
  for (const c of given) if (!CLASSIFIERS.includes(c as ClassifierKind)) throw invalid('classifier', c, `Use ${CLASSIFIERS.join(', ')} or all.`);
  return given as ClassifierKind[];
}

/** "mean", "gem" or "model:gem,model:mean" (models not named keep mean). */
function pooling(values: OptionValues): DescriptorVariant['pooling'] {
  const out: DescriptorVariant['pooling'] = { default: 'mean' };
  for (const item of list(values, 'pooling') ?? []) {
    const [a, b] = item.split(':');
    const choice = b ?? a;
    if (choice !== 'mean' && choice !== 'gem') throw invalid('pooling', item, 'Use mean, gem, or MODEL:gem,MODEL:mean.');
    out[b ? a! : 'default'] = choice;
  }
  return out;
}

/** The identification recipe's descriptors (default) or the raw ones the paper compared, with any choice given on top. */
function variant(values: OptionValues): DescriptorVariant {
  const base = oneOf(values, 'descriptors', ['recipe', 'raw'] as const, 'recipe') === 'recipe' ? recipeVariant(DEFAULT_RECIPE) : DEFAULT_VARIANT;
  return {
    pooling: values.pooling === undefined ? base.pooling : pooling(values),
    flip: base.flip || values.flip === true,
    postprocess: oneOf(values, 'postprocess', ['none', 'centre', 'whiten'] as const, base.postprocess),
    fitOn: oneOf(values, 'fit-on', ['catalogue', 'catalogue+prototypes', 'queries'] as const, base.fitOn),
  };
}

function options(values: OptionValues): Omit<EvaluationOptions, 'signal' | 'onProgress'> {
  const protocol = oneOf(values, 'protocol', ['paper', 'field', 'open'] as const, 'paper' as ProtocolName);
  const hidden = positiveNumber(values, 'hidden');
  return {
    protocol,
    models: (list(values, 'model') ?? DEFAULT_MODELS.split(',')).map((entry) => entry.split('+')),
    classifiers: classifiers(values),
    seeds: integers(values, 'seed', '1', 0),
    minImages: integers(values, 'min-images', protocol === 'paper' ? '3,4,5,6' : '3', 1),
    perObjectPoisson: positiveNumber(values, 'per-object-poisson'),
    catalogueSplits: list(values, 'catalogue-split'),
    querySplits: list(values, 'query-split'),
    fieldSplits: list(values, 'field-split'),
    holdOut: positiveNumber(values, 'hold-out'),
    limitObjects: positiveNumber(values, 'limit-objects'),
    temperature: positiveNumber(values, 'temperature'),
    classifier: hidden ? { hidden: Math.round(hidden) } : {},
    variant: variant(values),
    localEvidence: oneOf(values, 'local-evidence', ['yes', 'no'] as const, 'yes') === 'yes',
  };
}

function progressLine(p: Progress): string {
  const eta = p.etaSeconds === null ? '' : `, ${Math.ceil(p.etaSeconds)} s left`;
  return `${p.phase}: ${p.done}/${p.total}${eta}`;
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'Measure identification accuracy on a labelled manifest (the paper\'s protocol, field photos, or open set).',
  usage: '--manifest FILE.csv --protocol paper|field|open [--min-images 3,4,5,6] [--per-object-poisson L] [--seed S[,S…]] '
    + '[--classifier knn|prototype|linear|all] [--model ID[+ID][,ID…]] [--catalogue-split A[,B]] [--query-split C] [--json OUT.json] [--html OUT.html]',
  options: {
    manifest: { type: 'string', value: 'FILE.csv', description: 'Labelled photos: image_path, instance_id, subcategory, and for field/open a split column.' },
    protocol: { type: 'string', value: 'NAME', description: 'paper: random 80/10/10 photo split; field: --catalogue-split against --query-split; open: objects held out of the catalogue.' },
    'min-images': { type: 'string', value: 'N,…', description: 'Paper protocol: keep objects with at least N photos, one run per N (default 3,4,5,6).' },
    'per-object-poisson': { type: 'string', value: 'L', description: 'First keep 3 + Poisson(L) photos per object (at most 20), drawn with the seed.' },
    seed: { type: 'string', value: 'S,…', description: 'Seeds, e.g. 1,2,3 or 1-10; figures are given per seed and as the mean (default 1).' },
    classifier: { type: 'string', value: 'KIND', description: 'knn, prototype, linear (trained instance classifier), or all (default). With prototype and linear, a "fused" row ranks as identification does once a classifier is trained.' },
    model: { type: 'string', value: 'IDS', description: `Models, comma-separated; join models into one descriptor with + (default ${DEFAULT_MODELS}). Two single models or more give an ensemble too.` },
    'catalogue-split': { type: 'string', value: 'A[,B]', description: 'Field/open: split values that form the catalogue, e.g. catalogue,train.' },
    'query-split': { type: 'string', value: 'C', description: 'Field/open: split values of the query photos, e.g. val.' },
    'field-split': { type: 'string', value: 'F', description: 'Field/open: split values of unlabelled field photos, used as identification uses them: queries are centred on them when the catalogue has mostly one photo per object, local evidence is weighed on their cells, and the threshold learns from them (default: the query photos themselves).' },
    descriptors: { type: 'string', value: 'BASE', description: 'recipe (default): as identification describes photos (its pooling, flip, whitening on catalogue + prototypes); raw: mean pooling, no flip, no post-processing, as the paper. The options below change one part of it.' },
    pooling: { type: 'string', value: 'P', description: 'mean, gem, or per model: inception-v3-mixed5:gem,mobilenet-v2-140:mean.' },
    flip: { type: 'boolean', description: 'Average each descriptor with the mirrored photo\'s.' },
    postprocess: { type: 'string', value: 'MODE', description: 'none, centre or whiten.' },
    'fit-on': { type: 'string', value: 'SET', description: 'What post-processing learns from: catalogue, catalogue+prototypes, or queries (unlabelled query photos: domain centring).' },
    'local-evidence': { type: 'string', value: 'yes|no', description: 'Re-rank by local evidence (feature-map cells) where identification does: a catalogue of mostly one photo per object, and with --catalogue-split any catalogue, the query photos standing for field photos (default yes; the photos\' cells are described on each run).' },
    'hold-out': { type: 'string', value: 'SHARE', description: 'Open set: share of objects left out of the catalogue (default 0.2).' },
    'limit-objects': { type: 'string', value: 'N', description: 'Use only the first N objects (quick runs).' },
    hidden: { type: 'string', value: 'WIDTH', description: 'Give the instance classifier a hidden layer of this width (e.g. 2048).' },
    temperature: { type: 'string', value: 'T', description: 'Softmax temperature turning cosines into probabilities for ensembles (default 0.05).' },
    json: { type: 'string', value: 'OUT.json', description: 'Write every figure (per seed and mean) and the summary as JSON.' },
    html: { type: 'string', value: 'OUT.html', description: 'Write a self-contained HTML report with tables and charts.' },
    ...SESSION_OPTIONS,
  },
  async run(values, io, signal) {
    const manifest = requiredString(values, 'manifest');
    const settings = options(values);
    const started = performance.now();
    const models = [...new Set(settings.models.flat())];
    const onProgress = (p: Progress) => io.progress(progressLine(p));
    const set = await prepareEvaluationSet(manifest, models, { settings: sessionSettings(values), signal, onProgress }).finally(() => io.progress(''));
    const result = await evaluate(set, { ...settings, signal, onProgress });
    io.progress('');
    const report: EvaluationReport = {
      ...result,
      manifest,
      dataset: { photos: set.photos.length, objects: new Set(set.photos.map((p) => p.objectId)).size, unreadable: set.unreadable },
      settings: { ...settings, variant: result.variant, descriptors: describeDescriptors(result), models: settings.models.map((m) => m.join('+')) },
      modelBytes: modelBytes(models),
      seconds: (performance.now() - started) / 1000,
    };
    io.out(summaryText(report));
    const json = optionalString(values, 'json');
    if (json) writeFileSync(json, `${JSON.stringify(report, null, 1)}\n`);
    const html = optionalString(values, 'html');
    if (html) writeFileSync(html, renderHtmlReport(report));
  },
};
