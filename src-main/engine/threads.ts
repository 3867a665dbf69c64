import { Worker } from 'node:worker_threads';

/**
 * Starts the engine worker `name` (embed-worker, projection-worker, …) with `data`. Compiled
 * builds put every worker beside the code that starts it, as `name`.js; from the sources, a
 * small bootstrap registers tsx in the new thread first, since a worker does not inherit the
 * parent's loader.
 */
export function startEngineWorker(caller: string, name: string, data: object = {}): Worker {
  if (!caller.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, caller), { workerData: data });
  return new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData: { ...data, entry: new URL(`./${name}.ts`, caller).href },
  });
}
