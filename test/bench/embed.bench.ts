/**
 * npm run bench:embed — photos/s on ../shared/datasets/coil100-dev for each backbone:
 * inference alone (photos decoded beforehand: one session using every core, and one
 * one-thread session per core in worker threads, as the pool runs them) against end to end
 * (decode + resize + inference on the worker pool), with CPU use and peak memory.
 */
import { cpus } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { loadPixels, pixelsToTensor } from '../../src-main/engine/inference/image';
import { EmbeddingModel } from '../../src-main/engine/inference/model';
import { EmbeddingPool } from '../../src-main/engine/inference/pool';
import { listModelCards } from '../../src-main/engine/models/registry';
import { startEngineWorker } from '../../src-main/engine/threads';
import { COIL, hasCoil, manifestRows } from '../helpers/photos';

if (!hasCoil) {
  console.log(`bench:embed skipped: ${COIL} is absent.`);
  process.exit(0);
}

const PHOTOS = Number(process.env.BENCH_PHOTOS ?? 120);
const paths = manifestRows(COIL).filter((_, i) => i % 11 === 0).slice(0, PHOTOS).map((r) => join(COIL, r.image_path));
const cores = cpus().length;

/** Photos/s of `work` and the share of all cores the process kept busy meanwhile. */
async function rate(work: () => Promise<unknown>): Promise<{ perSecond: number; busy: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu0);
  return { perSecond: paths.length / seconds, busy: (used.user + used.system) / 1e6 / seconds / cores };
}

/** One worker per core, each with its share of the photos decoded and ready to run. */
async function inferenceWorkers(modelId: string, batch: number): Promise<Worker[]> {
  const workers = Array.from({ length: cores }, (_, k) =>
    startEngineWorker(import.meta.url, 'infer-worker', { modelId, batch, paths: paths.filter((_, i) => i % cores === k) }));
  await Promise.all(workers.map((w) => new Promise((ready, fail) => {
    w.once('message', ready);
    w.once('error', fail);
  })));
  return workers;
}

const row = (...cells: (string | number)[]) => console.log(cells.map((c, i) => String(c)[i === 0 ? 'padEnd' : 'padStart'](i === 0 ? 22 : 11)).join(''));

console.log(`bench:embed — ${paths.length} COIL-100 photos (128 x 128 PNG), ${cores} cores, onnxruntime CPU provider`);
for (const card of listModelCards()) {
  row('', 'workers', 'threads', 'batch', 'photos/s', 'cpu busy');
  let best = 0;
  for (const batch of [1, 8]) {
    const model = await EmbeddingModel.open(card.id, { provider: 'cpu', threads: cores });
    const tensors = new Float32Array(paths.length * model.inputLength);
    for (const [i, p] of paths.entries()) pixelsToTensor(await loadPixels(p, card.input), card.input, tensors, i * model.inputLength);
    await model.run(tensors, batch);
    const r = await rate(async () => {
      for (let i = 0; i < paths.length; i += batch) await model.run(tensors.subarray(i * model.inputLength), Math.min(batch, paths.length - i));
    });
    best = Math.max(best, r.perSecond);
    row(`${card.id} infer only`, '-', cores, batch, r.perSecond.toFixed(1), `${(r.busy * 100).toFixed(0)}%`);
    await model.close();
    const workers = await inferenceWorkers(card.id, batch);
    const w = await rate(() => Promise.all(workers.map((worker) => new Promise((done) => {
      worker.once('message', done);
      worker.postMessage('go');
    }))));
    best = Math.max(best, w.perSecond);
    row(`${card.id} infer only`, cores, 1, batch, w.perSecond.toFixed(1), `${(w.busy * 100).toFixed(0)}%`);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  for (const [workers, threads, batch] of [[cores, 1, 1], [cores, 1, 4], [1, cores, 1], [1, cores, 8]]) {
    const pool = await EmbeddingPool.open(card.id, { provider: 'cpu', workers, threads });
    const photos = paths.map((path) => ({ path }));
    for await (const _ of pool.embed(photos.slice(0, workers * 2), { batchSize: batch }));
    const r = await rate(async () => {
      for await (const _ of pool.embed(photos, { batchSize: batch }));
    });
    row(`${card.id} end to end`, workers, threads, batch, r.perSecond.toFixed(1), `${(r.busy * 100).toFixed(0)}%`,
      `${((r.perSecond / best) * 100).toFixed(0)}% of the best inference-only rate`);
    await pool.close();
  }
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
