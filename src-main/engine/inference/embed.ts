import sharp from 'sharp';
import { UserError, isUserError } from '../errors';
import { loadPixels, pixelsToTensor, type LoadOptions } from './image';
import type { EmbeddingModel } from './model';

// One libvips thread per photo: photos decode in parallel on libuv's pool instead.
sharp.concurrency(1);

export interface PhotoInput extends LoadOptions {
  path: string;
}

export type EmbeddedPhoto = { path: string; embedding: Float32Array; featuremap?: Float32Array };
export type PhotoResult = EmbeddedPhoto | { path: string; error: UserError };

async function decode(model: EmbeddingModel, photo: PhotoInput): Promise<Buffer | UserError> {
  try {
    return await loadPixels(photo.path, model.card.input, photo);
  } catch (e) {
    if (isUserError(e)) return e;
    throw e;
  }
}

/**
 * Decodes the photos in parallel and runs them through the model in one call. A photo that
 * cannot be read gets an error result; the others go on.
 */
export async function embedBatch(model: EmbeddingModel, photos: PhotoInput[], withFeaturemaps = false): Promise<PhotoResult[]> {
  const decoded = await Promise.all(photos.map((p) => decode(model, p)));
  const rows = new Map<number, number>();
  decoded.forEach((d, i) => { if (!isUserError(d)) rows.set(i, rows.size); });
  const input = new Float32Array(rows.size * model.inputLength);
  for (const [i, row] of rows) pixelsToTensor(decoded[i] as Buffer, model.card.input, input, row * model.inputLength);
  const out = rows.size > 0 ? await model.run(input, rows.size, withFeaturemaps) : undefined;
  const dim = model.card.embeddingDim;
  const mapSize = model.featuremapShape.reduce((a, b) => a * b, 1);
  return decoded.map((d, i): PhotoResult => {
    const { path } = photos[i];
    if (isUserError(d)) return { path, error: d };
    const row = rows.get(i)!;
    return {
      path,
      embedding: out!.embeddings.slice(row * dim, (row + 1) * dim),
      featuremap: out!.featuremaps?.slice(row * mapSize, (row + 1) * mapSize),
    };
  });
}
