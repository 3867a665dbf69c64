import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhotoResult } from '../../src-main/engine/inference/embed';
import { loadPixels, pixelsToTensor } from '../../src-main/engine/inference/image';
import { EmbeddingModel } from '../../src-main/engine/inference/model';
import { EmbeddingPool } from '../../src-main/engine/inference/pool';
import { gem } from '../../src-main/engine/search/postprocess';
import { samplePhotos, syntheticPhoto } from '../helpers/photos';

const ID = 'mobilenet-v2-140';
const dir = mkdtempSync(join(tmpdir(), 'pool-'));

async function collect(gen: AsyncGenerator<PhotoResult[]>): Promise<PhotoResult[]> {
  const all: PhotoResult[] = [];
  for await (const batch of gen) all.push(...batch);
  return all;
}

describe('embedding pool (inference in worker threads)', () => {
  let pool: EmbeddingPool;
  let photos: string[];
  let reference: Float32Array;

  beforeAll(async () => {
    photos = [...await samplePhotos(dir, 3), ...await Promise.all([7, 8, 9].map((i) => syntheticPhoto(join(dir, `s${i}.png`), i)))];
    pool = await EmbeddingPool.open(ID, { provider: 'cpu', workers: 2 });
    const model = await EmbeddingModel.open(ID, { provider: 'cpu' });
    const input = new Float32Array(photos.length * model.inputLength);
    for (const [i, p] of photos.entries()) pixelsToTensor(await loadPixels(p, model.card.input), model.card.input, input, i * model.inputLength);
    reference = (await model.run(input, photos.length)).embeddings.slice();
    await model.close();
  });
  afterAll(() => pool.close());

  it('gives, in input order, the embeddings the model gives directly, whatever the batch size', async () => {
    expect(pool.workerCount).toBe(2);
    expect(pool.provider).toBe('cpu');
    for (const batchSize of [1, 4]) {
      const results = await collect(pool.embed(photos.map((path) => ({ path })), { batchSize }));
      expect(results.map((r) => r.path)).toEqual(photos);
      results.forEach((r, i) => {
        if (!('embedding' in r)) throw new Error(`photo ${i} failed`);
        const expected = reference.subarray(i * 1792, (i + 1) * 1792);
        const err = Math.hypot(...r.embedding.map((v, j) => v - expected[j])) / Math.hypot(...expected);
        expect(err).toBeLessThan(1e-5);
      });
    }
  });

  it('pools feature maps by GeM in the worker when asked, as the main thread would', async () => {
    const [mapped] = await pool.embedOnce([{ path: photos[0] }], { withFeaturemaps: true });
    const [pooled] = await pool.embedOnce([{ path: photos[0] }], { gem: 3 });
    if (!('featuremap' in mapped) || !('embedding' in pooled)) throw new Error('photo failed');
    expect(pooled.featuremap).toBeUndefined();
    const expected = gem(mapped.featuremap!, 1792, 7, 7, 3);
    expect(Math.max(...pooled.embedding.map((v, i) => Math.abs(v - expected[i])))).toBeLessThan(1e-6);
  });

  it('reports a bad photo by name and embeds the others of its batch', async () => {
    const bad = join(dir, 'bad.jpg');
    writeFileSync(bad, 'not a photo');
    const results = await collect(pool.embed([photos[0], bad, photos[1]].map((path) => ({ path })), { batchSize: 3 }));
    expect(results.map((r) => ('error' in r ? r.error.code : 'ok'))).toEqual(['ok', 'NOT_AN_IMAGE', 'ok']);
    expect('error' in results[1] && results[1].error.message).toContain('bad.jpg');
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const many = Array.from({ length: 40 }, (_, i) => ({ path: photos[i % photos.length] }));
    let seen = 0;
    const run = async () => {
      for await (const batch of pool.embed(many, { signal: controller.signal })) {
        seen += batch.length;
        controller.abort();
      }
    };
    await expect(run()).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(seen).toBe(1);
  });

  it('runs in the calling thread when asked, as accelerators do, with the same embeddings and errors', async () => {
    const inline = await EmbeddingPool.open(ID, { provider: 'cpu', workers: 0 });
    try {
      expect(inline.workerCount).toBe(1);
      const bad = join(dir, 'bad-inline.jpg');
      writeFileSync(bad, 'not a photo');
      const results = await collect(inline.embed([...photos, bad].map((path) => ({ path })), { batchSize: 4 }));
      expect(results.map((r) => ('error' in r ? r.error.code : 'ok'))).toEqual([...photos.map(() => 'ok'), 'NOT_AN_IMAGE']);
      results.slice(0, photos.length).forEach((r, i) => {
        const expected = reference.subarray(i * 1792, (i + 1) * 1792);
        if ('embedding' in r) expect(Math.hypot(...r.embedding.map((v, j) => v - expected[j])) / Math.hypot(...expected)).toBeLessThan(1e-5);
      });
    } finally {
      await inline.close();
    }
  });

  it('refuses to start on a model that cannot be opened', async () => {
    await expect(EmbeddingPool.open('no-such-model')).rejects.toMatchObject({ code: 'MODEL_UNKNOWN' });
  });
});
