/**
 * bench:embed's inference-only worker: decodes its share of the photos first, then, on "go",
 * runs them through its own one-thread session and reports when done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadPixels, pixelsToTensor } from '../../src-main/engine/inference/image';
import { EmbeddingModel } from '../../src-main/engine/inference/model';

const { modelId, paths, batch } = workerData as { modelId: string; paths: string[]; batch: number };
const model = await EmbeddingModel.open(modelId, { provider: 'cpu', threads: 1 });
const tensors = new Float32Array(paths.length * model.inputLength);
for (const [i, p] of paths.entries()) pixelsToTensor(await loadPixels(p, model.card.input), model.card.input, tensors, i * model.inputLength);
await model.run(tensors, Math.min(batch, paths.length));
parentPort!.postMessage('ready');
parentPort!.once('message', async () => {
  for (let i = 0; i < paths.length; i += batch) await model.run(tensors.subarray(i * model.inputLength), Math.min(batch, paths.length - i));
  parentPort!.postMessage('done');
});
