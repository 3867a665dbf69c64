/**
 * Compares descriptor techniques on the evaluation datasets (cached descriptors; the first run
 * embeds). Usage: tsx test/bench/evaluate.bench.ts coil|grocery-field|grocery-catalogue [seeds]
 * Writes test-artifacts/evaluation-variants-<name>.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareEvaluationSet } from '../../src-main/engine/evaluation/dataset';
import { describeVariant, recipeVariant, type DescriptorVariant } from '../../src-main/engine/evaluation/descriptors';
import { DEFAULT_RECIPE } from '../../src-main/engine/identify/recipe';
import { evaluate, type EvaluationOptions, type SummaryRow } from '../../src-main/engine/evaluation/protocols';
import { DATASETS } from '../helpers/photos';

const I = 'inception-v3-mixed5';
const M = 'mobilenet-v2-140';
const PROTOCOLS: Record<string, { manifest: string; options: Partial<EvaluationOptions> }> = {
  coil: { manifest: 'coil100-dev', options: { protocol: 'paper', perObjectPoisson: 2.7, minImages: [3] } },
  'grocery-field': { manifest: 'grocery-dev', options: { protocol: 'field', catalogueSplits: ['catalogue', 'train'], querySplits: ['val'] } },
  'grocery-catalogue': { manifest: 'grocery-dev', options: { protocol: 'field', catalogueSplits: ['catalogue'], querySplits: ['val'] } },
};

const best = { default: 'mean', [I]: 'gem' } as DescriptorVariant['pooling'];
const VARIANTS: DescriptorVariant[] = [
  { pooling: { default: 'mean' }, flip: false, postprocess: 'none', fitOn: 'catalogue' },
  { pooling: { default: 'gem' }, flip: false, postprocess: 'none', fitOn: 'catalogue' },
  { pooling: best, flip: false, postprocess: 'none', fitOn: 'catalogue' },
  { pooling: best, flip: true, postprocess: 'none', fitOn: 'catalogue' },
  { pooling: best, flip: true, postprocess: 'centre', fitOn: 'catalogue' },
  { pooling: best, flip: true, postprocess: 'whiten', fitOn: 'catalogue' },
  { pooling: best, flip: true, postprocess: 'whiten', fitOn: 'catalogue+prototypes' },
  { pooling: best, flip: true, postprocess: 'centre', fitOn: 'queries' },
  { pooling: best, flip: true, postprocess: 'whiten', fitOn: 'queries' },
];

const [name = 'grocery-field', seedText = '1'] = process.argv.slice(2);
const { manifest, options } = PROTOCOLS[name]!;
const seeds = seedText.split(',').map(Number);
const set = await prepareEvaluationSet(join(DATASETS, manifest, 'manifest.csv'), [I, M], { onProgress: (p) => process.stderr.write(`\r${p.phase} ${p.done}/${p.total}`) });
const rows: (SummaryRow & { variant: string; seconds: number })[] = [];
// The descriptors compared alone; then, for the field photos, identification's own with its local evidence.
const runs = [...VARIANTS.map((variant) => ({ variant, localEvidence: false })), ...name === 'coil' ? [] : [{ variant: recipeVariant(DEFAULT_RECIPE), localEvidence: true }]];
for (const { variant, localEvidence } of runs) {
  for (const models of [[[I], [M]], [[I, M]]]) {
    const started = performance.now();
    const result = await evaluate(set, { ...options, models, classifiers: ['knn', 'prototype'], seeds, variant, localEvidence } as EvaluationOptions);
    const seconds = (performance.now() - started) / 1000;
    const label = describeVariant(result.variant) + (localEvidence ? ', local evidence' : '');
    rows.push(...result.summary.map((s) => ({ ...s, variant: label, seconds })));
    console.log(label, models.map((m) => m.join('+')).join(' '), `${seconds.toFixed(1)} s`);
  }
}
mkdirSync('test-artifacts', { recursive: true });
writeFileSync(`test-artifacts/evaluation-variants-${name}.json`, JSON.stringify(rows, null, 1));
const pct = (v: number) => (100 * v).toFixed(1);
const table = ['| descriptors | classifier | model | top-1 | top-5 | n |', '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.variant} | ${r.classifier} | ${r.model} | ${pct(r.top1)} | ${pct(r.top5)} | ${r.nTest} |`)];
writeFileSync(`test-artifacts/evaluation-variants-${name}.md`, `# ${name}, seeds ${seeds.join(',')}\n\n${table.join('\n')}\n`);
console.log(table.join('\n'));
