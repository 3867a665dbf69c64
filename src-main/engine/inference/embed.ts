import sharp from 'sharp';
import { UserError, isUserError } from '../errors';
import { loadPixels, pixelsToTensor, type LoadOptions } from './image';
import type { EmbeddingModel } from './model';

// One libvips thread per photo: photos decode in parallel on libuv's pool instead, which
// keeps both cores busy while onnxruntime runs the previous batch.
sharp.concurrency(1);

export interface PhotoInput extends LoadOptions {
  path: string;
}

export type PhotoResult =
  | { index: number; path: string; embedding: Float32Array; featuremap?: Float32Array }
  | { index: number; path: string; error: UserError };

export interface EmbedOptions {
  /** Photos per inference call (1 ran fastest per photo on 2 CPU cores; GPUs like 8+). */
  batchSize?: number;
  withFeaturemaps?: boolean;
  signal?: AbortSignal;
}

/**
 * Embeds photos in batches, yielding each batch's results in input order. The next batch
 * is decoded while the current one runs. A photo that cannot be read yields an error
 * result; the others go on.
 */
export async function* embedPhotos(model: EmbeddingModel, photos: PhotoInput[], options: EmbedOptions = {}): AsyncGenerator<PhotoResult[]> {
  const batchSize = Math.max(1, options.batchSize ?? 1);
  const decode = (start: number) => Promise.all(photos.slice(start, start + batchSize).map((p) => decodeOne(model, p)));
  let pending = photos.length > 0 ? decode(0) : undefined;
  for (let start = 0; pending; start += batchSize) {
    const decoded = await pending;
    pending = start + batchSize < photos.length ? decode(start + batchSize) : undefined;
    if (options.signal?.aborted) {
      await pending?.catch(() => undefined);
      throw new UserError('CANCELLED', 'Embedding was cancelled.', 'Photos embedded so far are kept; run it again to continue.');
    }
    yield await runBatch(model, photos, start, decoded, options.withFeaturemaps ?? false);
  }
}

async function decodeOne(model: EmbeddingModel, photo: PhotoInput): Promise<Buffer | UserError> {
  try {
    return await loadPixels(photo.path, model.card.input, photo);
  } catch (e) {
    if (isUserError(e)) return e;
    throw e;
  }
}

async function runBatch(model: EmbeddingModel, photos: PhotoInput[], start: number, decoded: (Buffer | UserError)[], withFeaturemaps: boolean): Promise<PhotoResult[]> {
  const good = decoded.flatMap((d, i) => (d instanceof Buffer ? [i] : []));
  const input = new Float32Array(good.length * model.inputLength);
  good.forEach((i, row) => pixelsToTensor(decoded[i] as Buffer, model.card.input, input, row * model.inputLength));
  const out = good.length > 0 ? await model.run(input, good.length, withFeaturemaps) : undefined;
  const dim = model.card.embeddingDim;
  const mapSize = model.featuremapShape.reduce((a, b) => a * b, 1);
  return decoded.map((d, i): PhotoResult => {
    const index = start + i;
    const path = photos[index].path;
    if (isUserError(d)) return { index, path, error: d };
    const row = good.indexOf(i);
    return {
      index,
      path,
      embedding: out!.embeddings.slice(row * dim, (row + 1) * dim),
      featuremap: out!.featuremaps?.slice(row * mapSize, (row + 1) * mapSize),
    };
  });
}
