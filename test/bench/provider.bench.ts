/**
 * npm run bench:provider — the accelerator identification would use (`auto`, or BENCH_PROVIDER)
 * against the CPU, per backbone: which provider opened and why others were passed over, whether
 * its embeddings and feature maps (GeM pooling reads them) equal the CPU's, and photos/s
 * (inference alone with feature maps fetched, photos decoded beforehand) at several batch sizes;
 * then photos/s end to end as a catalogue is embedded (decode, flip, pooling, on the worker pool). On a machine with no accelerator it says so and measures nothing.
 */
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPixels, pixelsToTensor } from '../../src-main/engine/inference/image';
import { Describer } from '../../src-main/engine/identify/describe';
import { DEFAULT_RECIPE } from '../../src-main/engine/identify/recipe';
import { EmbeddingModel } from '../../src-main/engine/inference/model';
import { providerOrder, type ProviderName } from '../../src-main/engine/inference/session';
import { listModelCards } from '../../src-main/engine/models/registry';
import { samplePhotos } from '../helpers/photos';

const PHOTOS = Number(process.env.BENCH_PHOTOS ?? 64);
const wanted = (process.env.BENCH_PROVIDER ?? 'auto') as ProviderName | 'auto';
const cores = cpus().length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Median photos/s over three passes through every photo, in batches of `batch`. */
async function rate(model: EmbeddingModel, tensors: Float32Array, n: number, batch: number): Promise<number> {
  const pass = async () => {
    for (let i = 0; i < n; i += batch) await model.run(tensors.subarray(i * model.inputLength), Math.min(batch, n - i), { featuremaps: true });
  };
  await pass();
  const rates: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    await pass();
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

/** Largest difference between two embeddings of one photo, relative to the larger norm, and their cosine. */
function agreement(a: Float32Array, b: Float32Array, dim: number): { maxRelative: number; minCosine: number } {
  let maxRelative = 0;
  let minCosine = 1;
  for (let r = 0; r < a.length / dim; r++) {
    let d2 = 0, aa = 0, bb = 0, ab = 0;
    for (let j = r * dim; j < (r + 1) * dim; j++) {
      d2 += (a[j] - b[j]) ** 2;
      aa += a[j] ** 2;
      bb += b[j] ** 2;
      ab += a[j] * b[j];
    }
    maxRelative = Math.max(maxRelative, Math.sqrt(d2 / Math.max(aa, bb)));
    minCosine = Math.min(minCosine, ab / Math.sqrt(aa * bb));
  }
  return { maxRelative, minCosine };
}

let accelerated = false;
const paths = await samplePhotos(join(tmpdir(), 'artefact-lens-bench-provider'), PHOTOS);
console.log(`bench:provider — ${paths.length} photos, ${cores} cores, asked for ${wanted}; auto tries ${providerOrder().join(', ')}`);
for (const card of listModelCards()) {
  const model = await EmbeddingModel.open(card.id, { provider: wanted });
  for (const s of model.skippedProviders) console.log(`${card.id}: ${s.provider} passed over: ${s.reason}`);
  if (model.provider === 'cpu') {
    console.log(`${card.id}: no accelerator opened on this machine; nothing to compare.`);
    await model.close();
    continue;
  }
  accelerated = true;
  const cpu = await EmbeddingModel.open(card.id, { provider: 'cpu', threads: cores });
  const tensors = new Float32Array(paths.length * cpu.inputLength);
  for (const [i, p] of paths.entries()) pixelsToTensor(await loadPixels(p, card.input), card.input, tensors, i * cpu.inputLength);
  const batch = Math.min(8, paths.length);
  const [ours, theirs] = [await model.run(tensors, batch, { featuremaps: true }), await cpu.run(tensors, batch, { featuremaps: true })];
  const mapLength = cpu.featuremapShape.reduce((a, b) => a * b, 1);
  for (const [what, a, b, dim] of [['embeddings', ours.embeddings, theirs.embeddings, card.embeddingDim], ['feature maps', ours.featuremaps!, theirs.featuremaps!, mapLength]] as const) {
    const { maxRelative, minCosine } = agreement(a, b, dim);
    console.log(`${card.id}: ${what}, ${model.provider} against cpu over ${batch} photos: largest relative difference ${maxRelative.toExponential(2)}, lowest cosine ${minCosine.toFixed(7)}`);
  }
  for (const b of [1, 8, 32].filter((b) => b <= paths.length)) {
    const fast = await rate(model, tensors, paths.length, b);
    const slow = await rate(cpu, tensors, paths.length, b);
    console.log(`${card.id}: batch ${String(b).padStart(2)}  ${model.provider} ${fast.toFixed(1).padStart(7)} photos/s  cpu ${slow.toFixed(1).padStart(7)} photos/s  ratio ${(fast / slow).toFixed(2)}`);
  }
  await Promise.all([model.close(), cpu.close()]);
}

/** Photos/s of embedding every photo as the catalogue job does (batch 4; a query: 1), after a warm-up. */
async function endToEnd(provider: ProviderName | 'auto', shape: { batchSize?: number } = {}): Promise<string> {
  const describer = await Describer.open(DEFAULT_RECIPE, { provider });
  const photos = paths.map((path) => ({ path }));
  const rates: string[] = [];
  for (const part of DEFAULT_RECIPE.parts) {
    for await (const _ of describer.describePart(part, photos.slice(0, 8), { batchSize: shape.batchSize }));
    const t0 = performance.now();
    for await (const _ of describer.describePart(part, photos, { batchSize: shape.batchSize }));
    rates.push(`${part.model} ${(paths.length / ((performance.now() - t0) / 1000)).toFixed(1)} photos/s`);
  }
  const pool = describer.pool(DEFAULT_RECIPE.parts[0]!.model);
  await describer.close();
  return `end to end (flip, recipe pooling), ${pool.provider}, ${pool.workerCount} worker${pool.workerCount > 1 ? 's' : ''}, batch ${shape.batchSize ?? 1}: ${rates.join(', ')}`;
}

if (accelerated) {
  for (const batchSize of [1, 4, 16]) console.log(await endToEnd(wanted, { batchSize }));
  console.log(await endToEnd('cpu', { batchSize: 4 }));
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
