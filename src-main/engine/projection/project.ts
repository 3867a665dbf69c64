import { UserError } from '../errors';
import { startEngineWorker } from '../threads';
import type { ProgressListener } from '../jobs/progress';
import { DEFAULT_PARAMETERS, type Projection, type ProjectionMethod, type ProjectionParameters } from './compute';
import type { ProjectionReply, ProjectionRequest } from './projection-worker';

export interface ProjectOptions extends Partial<Omit<ProjectionParameters, 'method'>> {
  method: ProjectionMethod;
  onProgress?: ProgressListener;
  /** Aborting terminates the worker; the promise then rejects with a CANCELLED UserError. */
  signal?: AbortSignal;
}

const cancelled = () => new UserError('CANCELLED', 'Making the map was cancelled.', 'Open the map again to start it over.');

/** Maps row-major descriptors (dims values each) to 2-D in a worker thread. */
export function project(vectors: Float32Array, dims: number, options: ProjectOptions): Promise<Projection> {
  const { onProgress, signal, ...chosen } = options;
  const parameters: ProjectionParameters = { ...DEFAULT_PARAMETERS, ...chosen };
  if (signal?.aborted) return Promise.reject(cancelled());
  const worker = startEngineWorker(import.meta.url, 'projection-worker');
  return new Promise<Projection>((resolve, reject) => {
    const stop = () => {
      void worker.terminate();
      reject(cancelled());
    };
    signal?.addEventListener('abort', stop, { once: true });
    const finish = () => {
      signal?.removeEventListener('abort', stop);
      void worker.terminate();
    };
    worker.on('message', (reply: ProjectionReply) => {
      if (reply.kind === 'progress') return onProgress?.(reply.progress);
      finish();
      if (reply.kind === 'done') resolve({ points: reply.points, model: reply.model });
      else reject(reply.error.code === 'INTERNAL' ? new Error(reply.error.what) : UserError.fromData(reply.error));
    });
    worker.on('error', (e) => {
      finish();
      reject(e);
    });
    // After a reply or a cancel this rejects nothing; before one, the worker died (out of memory).
    worker.on('exit', (code) => reject(new Error(`The projection worker stopped (exit code ${code}) before finishing the map.`)));
    worker.postMessage({ vectors, dims, parameters } satisfies ProjectionRequest);
  });
}
