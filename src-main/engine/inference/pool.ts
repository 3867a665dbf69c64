import { cpus } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { UserError, type UserErrorData } from '../errors';
import type { ModelCard } from '../models/card';
import { DEFAULT_MODELS_DIR, findModelCard } from '../models/registry';
import { decodeBatch, runBatch, type BatchOutputs, type PhotoInput, type PhotoResult } from './embed';
import type { WorkerInit, WorkerReply, WorkerRequest } from './embed-worker';
import { EmbeddingModel } from './model';
import { providerOrder, type ProviderName, type SessionSettings } from './session';
import { startEngineWorker } from '../threads';

export interface PoolSettings extends SessionSettings {
  modelsDir?: string;
  /**
   * Inference workers; default one per core on the CPU. 0 runs the model in the calling
   * thread instead, as accelerators always do (see InlineRunner).
   */
  workers?: number;
}

export interface EmbedOptions extends BatchOutputs {
  /** Photos per inference call. */
  batchSize?: number;
  signal?: AbortSignal;
}

type OpenedSkips = { provider: ProviderName; reason: string }[];
type ErrorData = UserErrorData | { code: 'INTERNAL'; what: string; hint: string };
const revive = (e: ErrorData): Error => (e.code === 'INTERNAL' ? new Error(e.what) : UserError.fromData(e));

/** Where a pool's batches run: a worker thread, or the calling thread. */
interface Runner {
  inFlight: number;
  embed(job: number, photos: PhotoInput[], outputs: BatchOutputs): Promise<PhotoResult[]>;
  terminate(): Promise<unknown>;
}

class InferenceWorker implements Runner {
  private readonly pending = new Map<number, { resolve: (r: PhotoResult[]) => void; reject: (e: Error) => void }>();
  private failure?: Error;
  inFlight = 0;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.kind === 'done') {
        this.inFlight--;
        const job = this.pending.get(reply.job)!;
        this.pending.delete(reply.job);
        job.resolve(reply.results.map((r) => ('error' in r ? { path: r.path, error: revive(r.error) as UserError } : r)));
      } else if (reply.kind === 'failed') {
        this.fail(revive(reply.error));
      }
    });
    worker.on('error', (e) => this.fail(e));
  }

  static start(init: WorkerInit): Promise<{ worker: InferenceWorker; provider: ProviderName; skipped: { provider: ProviderName; reason: string }[] }> {
    const raw = startEngineWorker(import.meta.url, 'embed-worker', init);
    return new Promise((resolve, reject) => {
      raw.once('error', reject);
      raw.once('message', (reply: WorkerReply) => {
        if (reply.kind === 'ready') {
          resolve({ worker: new InferenceWorker(raw), provider: reply.provider as ProviderName, skipped: reply.skipped as { provider: ProviderName; reason: string }[] });
        } else {
          void raw.terminate();
          reject(reply.kind === 'failed' ? revive(reply.error) : new Error('inference worker answered before it was ready'));
        }
      });
    });
  }

  private fail(e: Error): void {
    this.failure = e;
    for (const job of this.pending.values()) job.reject(e);
    this.pending.clear();
  }

  embed(job: number, photos: PhotoInput[], outputs: BatchOutputs): Promise<PhotoResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    this.inFlight++;
    return new Promise((resolve, reject) => {
      this.pending.set(job, { resolve, reject });
      this.worker.postMessage({ job, photos, outputs } satisfies WorkerRequest);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * A model run in the calling thread. Accelerators run here: WebGPU sessions in several worker
 * threads corrupted the heap on an H200 (two workers on one model crashed at once; closing the
 * workers of one model pair and opening another crashed on exit), while one thread holding
 * every session, one run at a time, ran clean. Runs are short on a GPU, so holding the thread
 * costs little; photos still decode off it.
 */
class InlineRunner implements Runner {
  /** One accelerator run at a time in the whole process, whichever model. */
  private static running: Promise<unknown> = Promise.resolve();
  inFlight = 0;

  constructor(private readonly model: EmbeddingModel) {}

  async embed(_job: number, photos: PhotoInput[], outputs: BatchOutputs): Promise<PhotoResult[]> {
    this.inFlight++;
    try {
      // Decoding waits for no run: the next batches decode while the accelerator runs this one.
      const decoded = await decodeBatch(this.model, photos);
      const result = InlineRunner.running.then(() => runBatch(this.model, decoded, outputs));
      InlineRunner.running = result.catch(() => undefined);
      return await result;
    } finally {
      this.inFlight--;
    }
  }

  terminate(): Promise<void> {
    return InlineRunner.running.then(() => this.model.close());
  }
}

/**
 * Embeds photos on a pool of inference workers, each with its own onnxruntime session.
 * onnxruntime-node's run blocks the thread that calls it; in workers it blocks neither the
 * caller nor the decoding of the next photos, which overlaps with inference.
 */
export class EmbeddingPool {
  private nextJob = 0;

  private constructor(
    readonly card: ModelCard,
    readonly provider: ProviderName,
    readonly skippedProviders: OpenedSkips,
    private readonly workers: Runner[],
  ) {}

  static async open(modelId: string, settings: PoolSettings = {}): Promise<EmbeddingPool> {
    const card = findModelCard(modelId, settings.modelsDir ?? DEFAULT_MODELS_DIR);
    const wanted = settings.provider ?? 'auto';
    if (settings.workers === 0 || (wanted !== 'cpu' && (wanted !== 'auto' || providerOrder().length > 1))) {
      const model = await EmbeddingModel.open(modelId, { ...settings, threads: settings.threads ?? 0 });
      if (model.provider !== 'cpu' || settings.workers === 0) return new EmbeddingPool(card, model.provider, model.skippedProviders, [new InlineRunner(model)]);
      // No accelerator opened after all: the CPU runs faster on a worker per core.
      await model.close();
      return EmbeddingPool.openWorkers(card, { ...settings, provider: 'cpu' }, model.skippedProviders);
    }
    return EmbeddingPool.openWorkers(card, settings, []);
  }

  private static async openWorkers(card: ModelCard, settings: PoolSettings, skippedBefore: OpenedSkips): Promise<EmbeddingPool> {
    const init: WorkerInit = { modelId: card.id, modelsDir: settings.modelsDir, provider: settings.provider, threads: settings.threads ?? 1 };
    const first = await InferenceWorker.start(init);
    const count = settings.workers ?? cpus().length;
    const rest = await Promise.all(Array.from({ length: count - 1 }, () => InferenceWorker.start({ ...init, provider: first.provider })));
    return new EmbeddingPool(card, first.provider, [...skippedBefore, ...first.skipped], [first.worker, ...rest.map((r) => r.worker)]);
  }

  get workerCount(): number {
    return this.workers.length;
  }

  /** Embeds one set of photos (e.g. a query) in a single call. */
  embedOnce(photos: PhotoInput[], outputs: BatchOutputs = {}): Promise<PhotoResult[]> {
    return this.leastBusy().embed(this.nextJob++, photos, outputs);
  }

  /**
   * Yields results batch by batch in input order, keeping every worker two batches deep so
   * no core waits. Cancelling stops after the batches already running.
   */
  async *embed(photos: PhotoInput[], options: EmbedOptions = {}): AsyncGenerator<PhotoResult[]> {
    const size = Math.max(1, options.batchSize ?? 1);
    const queue: Promise<PhotoResult[]>[] = [];
    let next = 0;
    const fill = () => {
      while (next < photos.length && queue.length < this.workers.length * 2) {
        queue.push(this.embedOnce(photos.slice(next, next + size), { withFeaturemaps: options.withFeaturemaps, withCells: options.withCells, gem: options.gem }));
        next += size;
      }
    };
    fill();
    try {
      while (queue.length > 0) {
        const results = await queue.shift()!;
        if (options.signal?.aborted) {
          throw new UserError('CANCELLED', 'Embedding was cancelled.', 'Photos embedded so far are kept; run it again to continue.');
        }
        fill();
        yield results;
      }
    } finally {
      await Promise.allSettled(queue);
    }
  }

  private leastBusy(): Runner {
    return this.workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
