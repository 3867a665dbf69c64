import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPixels, pixelsToTensor } from '../../src-main/engine/inference/image';
import { EmbeddingModel } from '../../src-main/engine/inference/model';
import { findModelCard } from '../../src-main/engine/models/registry';
import { readTfjsArtifacts } from '../../src-main/engine/models/tfjs/bundle';
import { samplePhotos } from '../helpers/photos';

/**
 * The converters are proved right against the original TFJS models run by tfjs itself
 * (its own weight decoding, its own kernels): a transposed axis or a padding off by one
 * would give plausible-looking but useless embeddings.
 */
const TOLERANCE = 1e-4;
const nsfwModels = join(dirname(createRequire(import.meta.url).resolve('nsfwjs')), '..', 'models');

/** ||actual - expected|| / ||expected||: the relative error of the whole output. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i] - expected[i]) ** 2;
    norm += expected[i] ** 2;
  }
  return Math.sqrt(diff / norm);
}

/**
 * Largest single difference relative to the largest value: catches a local fault (a border
 * padded wrongly) that the whole-output error would average away. Float32 rounding through
 * MobileNet's 50 layers with ReLU6 reaches ~2e-4 here; a wrong pad reaches 1e-2 and more.
 */
function worstElementError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

/** The original model's feature map, its mean, and the cells' map (the card's cellsAt, or the feature map). */
async function reference(id: string, input: Float32Array, n: number): Promise<{ featuremap: Float32Array; embedding: Float32Array; cells: Float32Array }> {
  const card = findModelCard(id);
  const converter = card.converter as { kind: 'tfjs-layers' | 'tfjs-graph'; modelDir: string; options: Record<string, unknown> };
  const { model, weightSpecs, weightData } = readTfjsArtifacts(join(nsfwModels, converter.modelDir.split('/').pop()!));
  const artifacts = { modelTopology: model.modelTopology as object, weightSpecs, weightData: new Uint8Array(weightData).buffer };
  const x = tf.tensor4d(input, [n, card.input.height, card.input.width, 3]);
  const names = [String(converter.options.stopAt), String(converter.options.cellsAt ?? converter.options.stopAt)];
  let nhwc: tf.Tensor4D[];
  if (converter.kind === 'tfjs-layers') {
    const full = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    nhwc = tf.model({ inputs: full.inputs, outputs: names.map((l) => full.getLayer(l).output as tf.SymbolicTensor) }).predict(x) as tf.Tensor4D[];
  } else {
    const graph = await tf.loadGraphModel(tf.io.fromMemory({ ...artifacts, format: 'graph-model' } as tf.io.ModelArtifacts));
    nhwc = graph.execute(x, names) as tf.Tensor4D[];
  }
  const nchw = (t: tf.Tensor4D) => tf.transpose(t, [0, 3, 1, 2]).dataSync() as Float32Array;
  return { featuremap: nchw(nhwc[0]!), embedding: tf.mean(nhwc[0]!, [1, 2]).dataSync() as Float32Array, cells: nchw(nhwc[1]!) };
}

describe.each(['inception-v3-mixed5', 'mobilenet-v2-140'])('ONNX model %s', (id) => {
  let photos: string[];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    photos = await samplePhotos(mkdtempSync(join(tmpdir(), 'parity-')), 2);
  });

  it('matches the original TFJS model on real photos within 1e-4', async () => {
    const model = await EmbeddingModel.open(id, { provider: 'cpu' });
    const input = new Float32Array(photos.length * model.inputLength);
    for (const [i, p] of photos.entries()) pixelsToTensor(await loadPixels(p, model.card.input), model.card.input, input, i * model.inputLength);
    const ours = await model.run(input, photos.length, { featuremaps: true, cells: true });
    const theirs = await reference(id, input, photos.length);
    expect(ours.featuremaps!.length).toBe(theirs.featuremap.length);
    expect(relativeError(ours.featuremaps!, theirs.featuremap)).toBeLessThan(TOLERANCE);
    expect(relativeError(ours.embeddings, theirs.embedding)).toBeLessThan(TOLERANCE);
    expect(worstElementError(ours.featuremaps!, theirs.featuremap)).toBeLessThan(1e-3);
    expect(ours.cells!.length).toBe(theirs.cells.length);
    expect(relativeError(ours.cells!, theirs.cells)).toBeLessThan(TOLERANCE);
    expect(worstElementError(ours.cells!, theirs.cells)).toBeLessThan(1e-3);
    // Different photos must give different descriptors, or the comparison proves nothing.
    const dim = model.card.embeddingDim;
    expect(relativeError(ours.embeddings.slice(0, dim), ours.embeddings.slice(dim))).toBeGreaterThan(0.05);
    await model.close();
  }, 600_000); // tfjs's pure-JS kernels take ~40 s for InceptionV3 alone on two cores
});
