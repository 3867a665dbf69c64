/**
 * npm run bench:identify — end-to-end identification latency (decode + embed + search +
 * rank) with the default recipe on a catalogue of ../shared/datasets/coil100-dev: every
 * object photographed every 10 degrees; queries are views in between. The catalogue is
 * kept in the user cache folder, so only the first run pays for embedding it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Catalogue } from '../../src-main/engine/catalogue/catalogue';
import { runImport } from '../../src-main/engine/catalogue/import';
import { planFromManifest } from '../../src-main/engine/catalogue/import-manifest';
import { Describer } from '../../src-main/engine/identify/describe';
import { Identifier } from '../../src-main/engine/identify/identifier';
import { DEFAULT_RECIPE } from '../../src-main/engine/identify/recipe';
import { embedCatalogue } from '../../src-main/engine/jobs/embed-catalogue';
import { COIL, hasCoil, manifestRows } from '../helpers/photos';

if (!hasCoil) {
  console.log(`bench:identify skipped: ${COIL} is absent.`);
  process.exit(0);
}

const QUERIES = Number(process.env.BENCH_QUERIES ?? 40);
const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'artefact-lens', 'bench');
mkdirSync(cache, { recursive: true });
const rows = manifestRows(COIL);
const manifest = join(cache, 'coil-every-10-degrees.csv');
writeFileSync(manifest, ['image_path,instance_id,subcategory',
  ...rows.filter((r) => Number(r.view_angle_deg) % 10 === 0).map((r) => `${join(COIL, r.image_path)},${r.instance_id},`)].join('\n'));
const queries = rows.filter((r) => Number(r.view_angle_deg) % 10 === 5);
const picked = Array.from({ length: QUERIES }, (_, i) => queries[Math.floor((i * queries.length) / QUERIES)]);

const catalogue = Catalogue.open(join(cache, 'coil-every-10-degrees.sqlite'), { create: true });
await runImport(catalogue, planFromManifest(manifest));
const describer = await Describer.open(DEFAULT_RECIPE, { workers: Number(process.env.BENCH_WORKERS ?? 0) || undefined, threads: Number(process.env.BENCH_THREADS ?? 1) });
const parts = DEFAULT_RECIPE.parts.map((p) => `${p.model}:${p.pooling}`).join(' + ');
console.log(`bench:identify — ${catalogue.stats().photos} catalogue photos, recipe ${parts}, flip ${DEFAULT_RECIPE.flip}, ${DEFAULT_RECIPE.postprocess}, ${DEFAULT_RECIPE.aggregation}`);
console.log(`provider ${describer.pool(DEFAULT_RECIPE.parts[0].model).provider}, ${describer.pool(DEFAULT_RECIPE.parts[0].model).workerCount} workers per model`);
let lastLine = 0;
const summary = await embedCatalogue(catalogue, describer, {
  onProgress: (p) => {
    if (Date.now() - lastLine < 5000) return;
    lastLine = Date.now();
    console.log(`  embedding the catalogue (first run only): ${p.done}/${p.total}, ${p.perSecond.toFixed(1)}/s`);
  },
});
if (summary.embedded > 0) console.log(`  embedded ${summary.embedded} descriptors`);

const identifier = new Identifier(catalogue, describer);
let t = performance.now();
await identifier.prepare();
console.log(`prepare (load embeddings, fit whitening and threshold, build index): ${((performance.now() - t) / 1000).toFixed(1)} s`);

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const p95 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(v.length * 0.95))];
const total: number[] = [];
const describeOnly: number[] = [];
let correct = 0;
let answered = 0;
let calibration = '';
for (const q of picked) {
  const photo = [{ path: join(COIL, q.image_path) }];
  t = performance.now();
  await describer.describe(photo);
  describeOnly.push(performance.now() - t);
  t = performance.now();
  const answer = await identifier.identify(photo);
  total.push(performance.now() - t);
  if (answer.results[0].instanceId === q.instance_id) correct++;
  if (!answer.notInCatalogue) answered++;
  calibration = `threshold ${answer.threshold.toFixed(3)} (${answer.calibration.basis}, ${answer.calibration.genuineScores} genuine and ${answer.calibration.impostorScores} impostor scores)`;
}
console.log(`identify, ${picked.length} queries: p50 ${median(total).toFixed(0)} ms, p95 ${p95(total).toFixed(0)} ms ` +
  `(decode + embed alone: p50 ${median(describeOnly).toFixed(0)} ms); top-1 ${correct}/${picked.length}; answered ${answered}/${picked.length} at ${calibration}`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
await describer.close();
catalogue.close();
