import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { curveArea, pixelOrder, saliencyMask } from '../../src-main/engine/explain/deletion';
import { loadPixels } from '../../src-main/engine/inference/image';
import type { InputSpec } from '../../src-main/engine/models/card';
import { tempDir } from '../helpers/files';

describe('pixel order of a saliency map', () => {
  it('ranks the pixels of the hottest cell first and the coldest last', () => {
    // 3 x 2 map on a 6 x 4 image: every cell covers 2 x 2 pixels.
    const map = [0.1, 0.9, 0.2, 0.3, 0.0, 0.5];
    const order = pixelOrder(map, 3, 2, 6, 4);
    expect(order).toHaveLength(24);
    expect(new Set(order).size).toBe(24);
    const cellOf = (p: number) => Math.floor((p % 6) / 2) + 3 * Math.floor(Math.floor(p / 6) / 2);
    // The hot cell's four pixels lead; a pixel of the cold cell (value 0) comes last.
    expect([...order.slice(0, 4)].map(cellOf)).toEqual([1, 1, 1, 1]);
    expect(cellOf(order[23])).toBe(4);
  });

  it('interpolates between cell centres: inside a cell, pixels nearer a hotter neighbour rank higher', () => {
    // 2 x 1 map, cold left, hot right, on an 8 x 1 image: the order runs right to left
    // between the cell centres (pixels 1.5 and 5.5); past them the map is flat (ties keep order).
    expect([...pixelOrder([0, 1], 2, 1, 8, 1)]).toEqual([6, 7, 5, 4, 3, 2, 0, 1]);
    // One hot cell in the middle of a 3 x 3 map: the image's centre pixel is the most salient.
    const order = pixelOrder([0, 0, 0, 0, 1, 0, 0, 0, 0], 3, 3, 9, 9);
    expect(order[0]).toBe(4 * 9 + 4);
  });

  it('refuses a map of the wrong size', () => {
    expect(() => pixelOrder([1, 2, 3], 2, 2, 4, 4)).toThrow(/needs 4 values/);
  });
});

describe('deletion and insertion masks', () => {
  const order = Uint32Array.from([5, 2, 7, 0, 1, 3, 4, 6, 8, 9]);

  it('deletion erases the top fraction; insertion erases everything else', () => {
    expect([...saliencyMask(order, 0.3, 'deletion')]).toEqual([0, 0, 1, 0, 0, 1, 0, 1, 0, 0]);
    expect([...saliencyMask(order, 0.3, 'insertion')]).toEqual([1, 1, 0, 1, 1, 0, 1, 0, 1, 1]);
    expect(saliencyMask(order, 0, 'deletion').every((v) => v === 0)).toBe(true);
    expect(saliencyMask(order, 1, 'deletion').every((v) => v === 1)).toBe(true);
    expect(saliencyMask(order, 0, 'insertion').every((v) => v === 1)).toBe(true);
    expect(saliencyMask(order, 1, 'insertion').every((v) => v === 0)).toBe(true);
  });

  it('area under a curve is its mean height over [0, 1]', () => {
    expect(curveArea([0, 0.5, 1], [1, 1, 1])).toBeCloseTo(1, 10);
    expect(curveArea([0, 0.5, 1], [1, 0.5, 0])).toBeCloseTo(0.5, 10);
    expect(curveArea([0, 0.25, 1], [0, 1, 1])).toBeCloseTo(0.875, 10);
    expect(() => curveArea([0, 1], [1])).toThrow();
  });
});

describe('a deletion mask erases where the map is hot', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());
  const spec: InputSpec = { name: '', layout: 'NHWC', width: 40, height: 40, colourOrder: 'RGB', range: [0, 255], resize: 'squash' };

  it('changes only the most salient pixels of the model input', async () => {
    // A checkerboard photo, so that the erase blur changes every pixel it touches.
    const size = 80;
    const raw = Buffer.alloc(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) raw.fill(((x >> 2) + (y >> 2)) % 2 ? 230 : 20, (y * size + x) * 3, (y * size + x) * 3 + 3);
    const photo = join(tmp.dir, 'checker.png');
    await sharp(raw, { raw: { width: size, height: size, channels: 3 } }).png().toFile(photo);
    // 4 x 4 map, hot in the top-left quarter.
    const map = Float32Array.from({ length: 16 }, (_, i) => (i % 4 < 2 && i < 8 ? 1 : 0));
    const order = pixelOrder(map, 4, 4, spec.width, spec.height);
    const cells = saliencyMask(order, 0.2, 'deletion');
    const original = await loadPixels(photo, spec);
    const erased = await loadPixels(photo, spec, { erase: { columns: spec.width, rows: spec.height, cells } });
    let changed = 0;
    for (let p = 0; p < spec.width * spec.height; p++) {
      const differs = [0, 1, 2].some((c) => original[p * 3 + c] !== erased[p * 3 + c]);
      if (differs) changed++;
      if (differs) expect(cells[p]).toBe(1);
      if (cells[p]) expect(p % spec.width < 20 && p < 20 * spec.width).toBe(true);
    }
    expect(changed).toBeGreaterThan(0.9 * 0.2 * spec.width * spec.height);
  });
});
