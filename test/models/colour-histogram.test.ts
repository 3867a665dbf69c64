import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPixels, pixelsToTensor } from '../../src-main/engine/inference/image';
import { EmbeddingModel } from '../../src-main/engine/inference/model';
import { samplePhotos } from '../helpers/photos';

/** Each cell's share of every colour, counted pixel by pixel in JavaScript: [photo][colour][cell]. */
function countedShares(input: Float32Array, photos: number, size: number, bins: number, grid: number): Float32Array {
  const colours = bins ** 3;
  const cell = size / grid;
  const out = new Float32Array(photos * colours * grid * grid);
  const level = (v: number) => Math.min(bins - 1, Math.floor((v * bins) / 256));
  for (let n = 0; n < photos; n++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const o = ((n * size + y) * size + x) * 3;
        const colour = (level(input[o]!) * bins + level(input[o + 1]!)) * bins + level(input[o + 2]!);
        out[(n * colours + colour) * grid * grid + Math.floor(y / cell) * grid + Math.floor(x / cell)]! += 1 / (cell * cell);
      }
    }
  }
  return out;
}

describe('the colour histogram model', () => {
  it('gives each cell\'s colour shares, and the root of the whole photo\'s, as counted pixel by pixel', async () => {
    const model = await EmbeddingModel.open('colour-histogram', { provider: 'cpu' });
    const photos = await samplePhotos(mkdtempSync(join(tmpdir(), 'colour-')), 2);
    const input = new Float32Array(photos.length * model.inputLength);
    for (const [i, p] of photos.entries()) pixelsToTensor(await loadPixels(p, model.card.input), model.card.input, input, i * model.inputLength);
    const { embeddings, featuremaps } = await model.run(input, photos.length, { featuremaps: true });
    await model.close();
    const [colours, grid] = [216, 8];
    const expected = countedShares(input, photos.length, 64, 6, grid);
    expect(featuremaps!.length).toBe(expected.length);
    featuremaps!.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    for (let n = 0; n < photos.length; n++) {
      const whole = Array.from({ length: colours }, (_, c) => expected.subarray((n * colours + c) * grid * grid, (n * colours + c + 1) * grid * grid).reduce((a, b) => a + b, 0) / (grid * grid));
      whole.forEach((share, c) => expect(embeddings[n * colours + c]).toBeCloseTo(Math.sqrt(share), 5));
    }
    // Different photos have different colours, or the comparison proves little.
    expect(embeddings.slice(0, colours)).not.toEqual(embeddings.slice(colours));
  });
});
