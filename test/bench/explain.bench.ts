/**
 * npm run bench:explain — do the compare panel's saliency maps mean something? Product
 * requirement: erasing the 20 % most salient pixels of the query must lower the match score
 * more than erasing 20 % at random, on average over the dev datasets.
 *
 * Pairs of photos of the same object from ../shared/datasets: COIL (two views 20 degrees
 * apart) and grocery (a field photo, train or val, against the product's catalogue picture).
 * For each pair and each map of the query (evidence map: one forward pass, centred on the mean
 * as the compare panel does; occlusion map: the thorough mode, product settings; two seeded
 * random maps: uniform noise on the evidence map's 17 x 17 grid, and on a 4 x 4 grid, whose top
 * cells are a few blobs like an occlusion map's rather than many scattered spots; scattered
 * erasing adds many blurred-to-sharp edges and so costs more score by itself), the model
 * input's pixels are ranked by the map (bilinear between cell centres) and
 *   deletion:  the top 0, 5, ..., 100 % are erased, most salient first (lower area is better);
 *   insertion: from a fully erased query, the top 0, 5, ..., 100 % are restored (higher is better).
 * Erasing is the product's (EraseGrid, as occlusion erases): the erased pixels start from a heavy
 * blur of the photo (sigma = a tenth of the input side) and relax towards their neighbours, so a
 * lone erased pixel takes its surroundings' value (linear imputation, as ROAD, Rong et al. 2022).
 * With the blur alone, random scattered pixels became speckle that cost more score than any
 * map's pixels (before this, the random baselines won on COIL); with imputation, insertion from
 * scattered pixels leaks the photo back (a sparse sample interpolates well), so random insertion
 * is strong instead.
 * The score is the one the explanation reports: the cosine of the query's and the match's
 * descriptors of the recipe's first part (InceptionV3 mixed5, GeM), centred on the mean
 * descriptor of the dataset's catalogue-like photos (stored flip-averaged, as the catalogue
 * does); the plain cosine, which occlusion itself measures, is reported too.
 *
 * Usage: tsx test/bench/explain.bench.ts [pairs per dataset = 8] [step in % = 5]
 * About 20-30 s a pair on two cores (occlusion's 101 passes, 193 for the curves).
 * Writes the full curves and maps to test-artifacts/explain-curves.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { curveArea, pixelOrder, saliencyMask } from '../../src-main/engine/explain/deletion';
import { explainByOcclusion, explainMatch } from '../../src-main/engine/explain/explain-match';
import { centredCosine } from '../../src-main/engine/explain/maps';
import { Describer } from '../../src-main/engine/identify/describe';
import { DEFAULT_RECIPE, GEM_P, type DescriptorRecipe } from '../../src-main/engine/identify/recipe';
import type { PhotoInput, PhotoResult } from '../../src-main/engine/inference/embed';
import { seededStream, shuffled } from '../../src-main/engine/random';
import { DATASETS, manifestRows } from '../helpers/photos';

const [pairsArg = process.env.BENCH_PAIRS ?? '8', stepArg = '5'] = process.argv.slice(2);
const PAIRS = Number(pairsArg);
const STEP = Number(stepArg);
const SEED = Number(process.env.BENCH_SEED ?? 1);
if (!Number.isInteger(PAIRS) || PAIRS < 1 || !Number.isInteger(STEP) || 100 % STEP !== 0 || 20 % STEP !== 0) {
  console.error('usage: tsx test/bench/explain.bench.ts [pairs per dataset >= 1] [step in %: 1, 2, 4, 5, 10 or 20]');
  process.exit(2);
}
const FRACTIONS = Array.from({ length: 100 / STEP + 1 }, (_, i) => (i * STEP) / 100);
const AT20 = FRACTIONS.indexOf(0.2);
const METHODS = ['evidence', 'occlusion', 'random-pixels', 'random', 'random-coarse'] as const;
type Method = (typeof METHODS)[number];
const RANDOMS = ['random-pixels', 'random', 'random-coarse'] as const;
type RandomMethod = (typeof RANDOMS)[number];
/** The coarse random map's grid: its top 20 % is one or two blobs, as smooth as an occlusion map's (patch 3 of 12). */
const COARSE = 4;
const SCORES = ['centred', 'plain'] as const;
type ScoreKind = (typeof SCORES)[number];

interface Pair { query: PhotoInput; match: PhotoInput }
interface DatasetPlan { name: string; dir: string; pairs: Pair[]; reference: PhotoInput[]; describe: string }

function coilPlan(dir: string): DatasetPlan {
  const random = seededStream(SEED, 'explain bench coil pairs');
  const byObject = new Map<string, Record<string, string>[]>();
  // Object 1 exists only as 32 x 32 photos.
  for (const r of manifestRows(dir)) if (r.instance_id !== 'coil-001') byObject.set(r.instance_id, [...(byObject.get(r.instance_id) ?? []), r]);
  const objects = shuffled([...byObject.keys()].sort(), random);
  const photo = (r: Record<string, string>) => ({ path: join(dir, r.image_path) });
  const pairs = Array.from({ length: PAIRS }, (_, k) => {
    const views = byObject.get(objects[k % objects.length])!;
    const query = views[Math.floor(random() * views.length)];
    const angle = (a: number) => views.find((v) => Number(v.view_angle_deg) === ((a % 360) + 360) % 360);
    const q = Number(query.view_angle_deg);
    const match = angle(q + 20) ?? angle(q - 20) ?? views.find((v) => v !== query)!;
    return { query: photo(query), match: photo(match) };
  });
  // The catalogue-like photos the centring mean comes from: the first view of every object.
  const reference = [...byObject.values()].map((views) => photo(views[0]));
  return { name: 'coil100-dev', dir, pairs, reference, describe: 'two views 20 degrees apart' };
}

function groceryPlan(dir: string): DatasetPlan {
  const random = seededStream(SEED, 'explain bench grocery pairs');
  const rows = manifestRows(dir);
  const photo = (r: Record<string, string>) => ({ path: join(dir, r.image_path) });
  const catalogue = new Map(rows.filter((r) => r.split === 'catalogue').map((r) => [r.instance_id, r]));
  const products = shuffled([...catalogue.keys()].sort(), random);
  const field = new Map(products.map((p) => [p, shuffled(rows.filter((r) => r.instance_id === p && (r.split === 'train' || r.split === 'val')), random)]));
  const pairs = Array.from({ length: PAIRS }, (_, k) => {
    const product = products[k % products.length];
    const photos = field.get(product)!;
    return { query: photo(photos[Math.floor(k / products.length) % photos.length]), match: photo(catalogue.get(product)!) };
  });
  return { name: 'grocery-dev', dir, pairs, reference: [...catalogue.values()].map(photo), describe: 'field photo (train/val) against the catalogue picture' };
}

const plans: DatasetPlan[] = [];
for (const [name, plan] of [['coil100-dev', coilPlan], ['grocery-dev', groceryPlan]] as const) {
  const dir = join(DATASETS, name);
  if (existsSync(join(dir, 'manifest.csv'))) plans.push(plan(dir));
  else console.log(`bench:explain: ${dir} is absent; ${name} skipped.`);
}
if (plans.length === 0) {
  console.log(`bench:explain skipped: no dev datasets under ${DATASETS}.`);
  process.exit(0);
}

const started = performance.now();
const part = DEFAULT_RECIPE.parts[0]; // The part the explanations explain.
const recipe: DescriptorRecipe = { ...DEFAULT_RECIPE, parts: [part] };
const describer = await Describer.open(recipe, { provider: 'cpu', threads: 1, workers: Number(process.env.BENCH_WORKERS ?? 0) || undefined });
const pool = describer.pool(part.model);
const { width, height } = pool.card.input;
const gemP = part.pooling === 'gem' ? GEM_P : undefined;
console.log(`bench:explain — ${part.model}:${part.pooling}, ${pool.workerCount} workers (${pool.provider}); ${PAIRS} pairs per dataset; ` +
  `curves at every ${STEP} % of the ${width} x ${height} input's pixels; seed ${SEED}`);

const seconds = () => (performance.now() - started) / 1000;
const embedding = (r: PhotoResult) => {
  if ('error' in r) throw r.error;
  return r.embedding;
};

/** The catalogue's mean descriptor as catalogueMean computes it: column mean of the stored (unit, flip-averaged) descriptors. */
async function referenceMean(photos: PhotoInput[]): Promise<Float32Array> {
  const sum = new Float64Array(pool.card.embeddingDim);
  for await (const batch of describer.describePart(part, photos, { batchSize: 2 })) {
    for (const d of batch) {
      if ('error' in d) throw d.error;
      d.vector.forEach((v, j) => { sum[j] += v; });
    }
  }
  return Float32Array.from(sum, (s) => s / photos.length);
}

interface Curves { deletion: Record<ScoreKind, number[]>; insertion: Record<ScoreKind, number[]> }
interface PairResult {
  query: string;
  match: string;
  /** The score explainMatch reports (centred), as a check of this bench's own. */
  explainScore: number;
  occlusionBaseScore: number;
  maps: Record<Method, { columns: number; rows: number; values: number[] }>;
  curves: Record<Method, Curves>;
  seconds: number;
}

async function runPair(pair: Pair, index: number, mean: Float32Array, dataset: string): Promise<PairResult> {
  const t = performance.now();
  const evidence = await explainMatch(describer, pair.query, pair.match, { part, mean });
  const occlusion = await explainByOcclusion(describer, pair.query, pair.match, { part });
  const noise = seededStream(SEED + index, `explain bench random map ${dataset}`);
  const maps: PairResult['maps'] = {
    evidence: { columns: evidence.columns, rows: evidence.rows, values: Array.from(evidence.query) },
    occlusion: { columns: occlusion.grid, rows: occlusion.grid, values: Array.from(occlusion.map) },
    random: { columns: evidence.columns, rows: evidence.rows, values: Array.from({ length: evidence.columns * evidence.rows }, noise) },
    'random-coarse': { columns: COARSE, rows: COARSE, values: Array.from({ length: COARSE * COARSE }, noise) },
    'random-pixels': { columns: width, rows: height, values: Array.from({ length: width * height }, noise) },
  };
  const erase = (cells: Uint8Array): PhotoInput => ({ ...pair.query, erase: { columns: width, rows: height, cells } });
  const inner = FRACTIONS.slice(1, -1);
  // The match (the target), the query whole and fully erased (shared end points), then each map's inner points.
  const inputs: PhotoInput[] = [pair.match, pair.query, erase(new Uint8Array(width * height).fill(1))];
  for (const method of METHODS) {
    const order = pixelOrder(maps[method].values, maps[method].columns, maps[method].rows, width, height);
    for (const mode of ['deletion', 'insertion'] as const) for (const f of inner) inputs.push(erase(saliencyMask(order, f, mode)));
  }
  const descriptors: Float32Array[] = [];
  for await (const batch of pool.embed(inputs, { batchSize: 1, gem: gemP })) descriptors.push(...batch.map(embedding));
  const [target, whole, erased, ...rest] = descriptors;
  const score: Record<ScoreKind, (d: Float32Array) => number> = {
    centred: (d) => centredCosine(d, target, mean),
    plain: (d) => centredCosine(d, target),
  };
  const curves = {} as Record<Method, Curves>;
  METHODS.forEach((method, m) => {
    const points = (mode: number) => rest.slice((2 * m + mode) * inner.length, (2 * m + mode + 1) * inner.length);
    const curve = (kind: ScoreKind, first: Float32Array, middle: Float32Array[], last: Float32Array) => [first, ...middle, last].map(score[kind]);
    curves[method] = {
      deletion: { centred: curve('centred', whole, points(0), erased), plain: curve('plain', whole, points(0), erased) },
      insertion: { centred: curve('centred', erased, points(1), whole), plain: curve('plain', erased, points(1), whole) },
    };
  });
  return {
    query: pair.query.path, match: pair.match.path, explainScore: evidence.score, occlusionBaseScore: occlusion.baseScore,
    // One value a pixel is too much for the JSON; the seed reproduces it.
    maps: { ...maps, 'random-pixels': { ...maps['random-pixels'], values: [] } }, curves, seconds: (performance.now() - t) / 1000,
  };
}

interface Stat { mean: number; median: number }
const stat = (v: number[]): Stat => {
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length / 2;
  return { mean: v.reduce((a, b) => a + b, 0) / v.length, median: s.length % 2 ? s[Math.floor(mid)] : (s[mid - 1] + s[mid]) / 2 };
};
interface SummaryRow {
  dataset: string;
  score: ScoreKind;
  method: Method;
  pairs: number;
  whole: Stat;
  fullyErased: Stat;
  deleted20: Stat;
  /** Mean over pairs of (a random map's score at 20 % deleted - this map's): how much more this map's deletion costs. */
  extraDrop20: Record<RandomMethod, number>;
  deletionArea: Stat;
  insertionArea: Stat;
  /** Share of pairs where this map's score at 20 % deleted is below a random map's. */
  beatsRandom20: Record<RandomMethod, number>;
}

function summarise(dataset: string, results: PairResult[]): SummaryRow[] {
  return SCORES.flatMap((kind) => METHODS.map((method) => {
    const del = results.map((r) => r.curves[method].deletion[kind]);
    const ins = results.map((r) => r.curves[method].insertion[kind]);
    const random20 = (m: RandomMethod) => results.map((r) => r.curves[m].deletion[kind][AT20]);
    const versus = (f: (random: number[]) => number) => Object.fromEntries(RANDOMS.map((m) => [m, f(random20(m))])) as Record<RandomMethod, number>;
    return {
      dataset, score: kind, method, pairs: results.length,
      whole: stat(del.map((c) => c[0])),
      fullyErased: stat(del.map((c) => c.at(-1)!)),
      deleted20: stat(del.map((c) => c[AT20])),
      extraDrop20: versus((random) => stat(del.map((c, i) => random[i] - c[AT20])).mean),
      deletionArea: stat(del.map((c) => curveArea(FRACTIONS, c))),
      insertionArea: stat(ins.map((c) => curveArea(FRACTIONS, c))),
      beatsRandom20: versus((random) => del.filter((c, i) => c[AT20] < random[i]).length / results.length),
    };
  }));
}

const output: Record<string, unknown> = {};
const summary: SummaryRow[] = [];
try {
  for (const plan of plans) {
    console.log(`\n${plan.name}: ${plan.pairs.length} pairs, ${plan.describe}; centring mean from ${plan.reference.length} photos`);
    const mean = await referenceMean(plan.reference);
    const results: PairResult[] = [];
    for (const [i, pair] of plan.pairs.entries()) {
      const r = await runPair(pair, i, mean, plan.name);
      results.push(r);
      const at20 = METHODS.map((m) => `${m} ${r.curves[m].deletion.centred[AT20].toFixed(3)}`).join(', ');
      console.log(`  ${i + 1}/${plan.pairs.length} ${r.seconds.toFixed(0)} s (${seconds().toFixed(0)} s in all): score ${r.curves.random.deletion.centred[0].toFixed(3)}` +
        ` (explainMatch ${r.explainScore.toFixed(3)}); at 20 % deleted: ${at20}`);
    }
    const rows = summarise(plan.name, results);
    summary.push(...rows);
    output[plan.name] = { pairs: results, summary: rows, centringReference: plan.reference.map((p) => p.path) };
  }
} finally {
  await describer.close();
}

const f3 = (v: number) => v.toFixed(3);
const ms = (s: Stat) => `${f3(s.mean)} / ${f3(s.median)}`;
for (const kind of SCORES) {
  console.log(`\n${kind === 'centred' ? 'Centred cosine (the score the explanation reports)' : 'Plain cosine (what occlusion measures)'}; mean / median over pairs`);
  console.log('| dataset | map | pairs | whole | fully erased | 20 % deleted | deletion AUC (lower better) | insertion AUC (higher better) | extra drop @20 % vs random / random-coarse (mean) | beats random / random-coarse @20 % (pairs) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of summary.filter((s) => s.score === kind)) {
    const versus = (f: (m: RandomMethod) => string) => RANDOMS.map((m) => (m === r.method ? '—' : f(m))).join(' / ');
    const extra = versus((m) => f3(r.extraDrop20[m]));
    const beats = versus((m) => `${(100 * r.beatsRandom20[m]).toFixed(0)} %`);
    console.log(`| ${r.dataset} | ${r.method} | ${r.pairs} | ${ms(r.whole)} | ${ms(r.fullyErased)} | ${ms(r.deleted20)} | ${ms(r.deletionArea)} | ${ms(r.insertionArea)} | ${extra} | ${beats} |`);
  }
}
const verdicts = SCORES.flatMap((kind) => plans.flatMap((plan) => (['evidence', 'occlusion'] as const).map((method) => {
  const row = (m: Method) => summary.find((s) => s.dataset === plan.name && s.score === kind && s.method === m)!;
  const against = RANDOMS.map((m) => `${row(method).deleted20.mean < row(m).deleted20.mean ? 'beats' : 'does NOT beat'} ${m} (${f3(row(m).deleted20.mean)})`);
  return `${kind} ${plan.name} ${method}: mean score at 20 % deleted ${f3(row(method).deleted20.mean)}: ${against.join(', ')}`;
})));
console.log(`\n${verdicts.join('\n')}`);

mkdirSync('test-artifacts', { recursive: true });
writeFileSync(join('test-artifacts', 'explain-curves.json'), JSON.stringify({
  settings: {
    model: part.model, pooling: part.pooling, pairsPerDataset: PAIRS, stepPercent: STEP, seed: SEED, input: { width, height },
    removal: 'EraseGrid at pixel resolution, as occlusion erases: erased pixels start from a Gaussian blur of the photo (sigma = max(width, height) / 10) and are imputed from their neighbours (32 Gauss-Seidel sweeps)',
    insertionStart: 'the query fully erased (the whole blurred photo)',
    ranking: 'each map interpolated bilinearly between cell centres onto the model input; ties in pixel order',
    scores: { centred: 'cosine centred on the mean of the reference photos\' unit flip-averaged descriptors (as explainMatch in the compare panel)', plain: 'uncentred cosine (as occlusionMap)' },
    maps: {
      evidence: 'explainMatch query map, centred', occlusion: 'explainByOcclusion, product defaults (grid 12, patch 3)',
      'random-pixels': 'seeded uniform noise per pixel (values not stored)', random: 'seeded uniform noise on the evidence map grid', 'random-coarse': `seeded uniform noise on a ${COARSE} x ${COARSE} grid`,
    },
  },
  fractions: FRACTIONS,
  summary,
  datasets: output,
  seconds: seconds(),
}));
console.log(`\ncurves: test-artifacts/explain-curves.json; ${seconds().toFixed(0)} s in all; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
