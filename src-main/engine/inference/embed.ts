import sharp from 'sharp';
import { UserError, isUserError } from '../errors';
import { gem } from '../search/postprocess';
import { loadPixels, pixelsToTensor, type LoadOptions } from './image';
import type { EmbeddingModel } from './model';

// One libvips thread per photo: photos decode in parallel on libuv's pool instead.
sharp.concurrency(1);

export interface PhotoInput extends LoadOptions {
  path: string;
}

export type EmbeddedPhoto = { path: string; embedding: Float32Array; featuremap?: Float32Array; cells?: Float32Array };
export type PhotoResult = EmbeddedPhoto | { path: string; error: UserError };

async function decode(model: EmbeddingModel, photo: PhotoInput): Promise<Buffer | UserError> {
  try {
    return await loadPixels(photo.path, model.card.input, photo);
  } catch (e) {
    if (isUserError(e)) return e;
    throw e;
  }
}

export interface BatchOutputs {
  /** Return each photo's feature map too. */
  withFeaturemaps?: boolean;
  /** Return each photo's cells' map too (the card's `cells`, or its feature map). */
  withCells?: boolean;
  /** Replace the model's pooled embedding by the GeM (this exponent) of its feature map. */
  gem?: number;
}

/** Photos decoded and laid out as the model's input; those that could not be read keep their error. */
export interface DecodedBatch {
  photos: PhotoInput[];
  decoded: (Buffer | UserError)[];
  /** Input row of each readable photo, by its index in `photos`. */
  rows: Map<number, number>;
  input: Float32Array;
}

/** Decodes the photos in parallel (on libuv's pool) into one input tensor. */
export async function decodeBatch(model: EmbeddingModel, photos: PhotoInput[]): Promise<DecodedBatch> {
  const decoded = await Promise.all(photos.map((p) => decode(model, p)));
  const rows = new Map<number, number>();
  decoded.forEach((d, i) => { if (!isUserError(d)) rows.set(i, rows.size); });
  const input = new Float32Array(rows.size * model.inputLength);
  for (const [i, row] of rows) pixelsToTensor(decoded[i] as Buffer, model.card.input, input, row * model.inputLength);
  return { photos, decoded, rows, input };
}

/** Runs a decoded batch through the model in one call and pools each photo's result. */
export async function runBatch(model: EmbeddingModel, { photos, decoded, rows, input }: DecodedBatch, outputs: BatchOutputs = {}): Promise<PhotoResult[]> {
  const { withFeaturemaps = false, withCells = false, gem: gemP } = outputs;
  const out = rows.size > 0 ? await model.run(input, rows.size, { featuremaps: withFeaturemaps || gemP !== undefined, cells: withCells }) : undefined;
  const dim = model.card.embeddingDim;
  const [channels, height, width] = model.featuremapShape;
  const mapSize = channels * height * width;
  const featuremap = (row: number) => out!.featuremaps!.slice(row * mapSize, (row + 1) * mapSize);
  const cellsSize = model.cellsShape.reduce((a, b) => a * b, 1);
  return decoded.map((d, i): PhotoResult => {
    const { path } = photos[i];
    if (isUserError(d)) return { path, error: d };
    const row = rows.get(i)!;
    return {
      path,
      // Pooling here, in the CPU's worker, spares sending a query's feature maps across threads.
      embedding: gemP === undefined ? out!.embeddings.slice(row * dim, (row + 1) * dim) : gem(featuremap(row), channels, height, width, gemP),
      featuremap: withFeaturemaps ? featuremap(row) : undefined,
      cells: withCells ? out!.cells!.slice(row * cellsSize, (row + 1) * cellsSize) : undefined,
    };
  });
}

/** Decodes the photos and runs them through the model in one call. A photo that cannot be read gets an error result; the others go on. */
export async function embedBatch(model: EmbeddingModel, photos: PhotoInput[], outputs: BatchOutputs = {}): Promise<PhotoResult[]> {
  return runBatch(model, await decodeBatch(model, photos), outputs);
}
