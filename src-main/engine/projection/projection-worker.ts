/**
 * Computes one map off the caller's thread: the optimisation runs for seconds to a minute
 * and cannot be interrupted from inside, so cancelling terminates this worker.
 */
import { parentPort } from 'node:worker_threads';
import { isUserError, type UserErrorData } from '../errors';
import type { Progress } from '../jobs/progress';
import { computeProjection, type ProjectionModel, type ProjectionParameters } from './compute';

export interface ProjectionRequest {
  vectors: Float32Array;
  dims: number;
  parameters: ProjectionParameters;
}

type ErrorData = UserErrorData | { code: 'INTERNAL'; what: string; hint: string };

export type ProjectionReply =
  | { kind: 'progress'; progress: Progress }
  | { kind: 'done'; points: Float32Array; model: ProjectionModel }
  | { kind: 'failed'; error: ErrorData };

const port = parentPort!;
port.once('message', async ({ vectors, dims, parameters }: ProjectionRequest) => {
  try {
    const { points, model } = await computeProjection(vectors, dims, parameters, (progress) => port.postMessage({ kind: 'progress', progress } satisfies ProjectionReply));
    port.postMessage({ kind: 'done', points, model } satisfies ProjectionReply, [points.buffer, model.reduced.buffer] as ArrayBuffer[]);
  } catch (e) {
    const error: ErrorData = isUserError(e) ? e.toData() : { code: 'INTERNAL', what: (e as Error).message, hint: '' };
    port.postMessage({ kind: 'failed', error } satisfies ProjectionReply);
  }
});
