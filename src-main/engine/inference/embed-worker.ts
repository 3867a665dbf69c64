/**
 * One inference worker: its own onnxruntime session, so that a run (which blocks the thread
 * that calls it) never stalls the caller, and several workers share the cores.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { SessionSettings } from './session';
import { embedBatch, type BatchOutputs, type PhotoInput } from './embed';
import { EmbeddingModel } from './model';
import { isUserError, type UserErrorData } from '../errors';

export interface WorkerInit extends SessionSettings {
  modelId: string;
  modelsDir?: string;
}

export type WorkerRequest = { job: number; photos: PhotoInput[]; outputs: BatchOutputs };

type ErrorData = UserErrorData | { code: 'INTERNAL'; what: string; hint: string };

export type WorkerReply =
  | { kind: 'ready'; provider: string; skipped: { provider: string; reason: string }[] }
  | { kind: 'failed'; error: ErrorData }
  | { kind: 'done'; job: number; results: ({ path: string; embedding: Float32Array; featuremap?: Float32Array; cells?: Float32Array } | { path: string; error: ErrorData })[] };

/** Errors cross to the caller as data; anything not a UserError is a bug, passed on as such. */
const toData = (e: unknown): ErrorData => (isUserError(e) ? e.toData() : { code: 'INTERNAL', what: (e as Error).message, hint: '' });

const init = workerData as WorkerInit;
const port = parentPort!;
try {
  const model = await EmbeddingModel.open(init.modelId, init);
  port.postMessage({ kind: 'ready', provider: model.provider, skipped: model.skippedProviders } satisfies WorkerReply);
  port.on('message', async ({ job, photos, outputs }: WorkerRequest) => {
    try {
      const results = (await embedBatch(model, photos, outputs)).map((r) => ('error' in r ? { path: r.path, error: r.error.toData() } : r));
      const transfer = results.flatMap((r) => ('embedding' in r ? [r.embedding, r.featuremap, r.cells].flatMap((a) => (a ? [a.buffer] : [])) : []));
      port.postMessage({ kind: 'done', job, results } satisfies WorkerReply, transfer as ArrayBuffer[]);
    } catch (e) {
      port.postMessage({ kind: 'failed', error: toData(e) } satisfies WorkerReply);
    }
  });
} catch (e) {
  port.postMessage({ kind: 'failed', error: toData(e) } satisfies WorkerReply);
}
