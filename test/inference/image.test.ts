import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src-main/engine/errors';
import { loadPixels, pixelsToTensor, probeImage } from '../../src-main/engine/inference/image';
import type { InputSpec } from '../../src-main/engine/models/card';
import { writePngHeader } from '../helpers/files';

const dir = mkdtempSync(join(tmpdir(), 'image-'));
const spec = (over: Partial<InputSpec> = {}): InputSpec => ({
  name: 'input', layout: 'NHWC', width: 8, height: 8, colourOrder: 'RGB', range: [0, 255], resize: 'squash', ...over,
});

/** Left half red, right half blue. */
const halves = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#0000ff' } })
  .composite([{ input: { create: { width: width / 2, height, channels: 3, background: '#ff0000' } }, left: 0, top: 0 }]);

async function expectUserError(promise: Promise<unknown>, code: string, mentions: string) {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  expect((error as UserError).code).toBe(code);
  expect((error as UserError).message).toContain(mentions);
  expect((error as UserError).hint.length).toBeGreaterThan(10);
}

describe('bad photos get a specific error naming the file', () => {
  const jpeg = join(dir, 'good.jpg');
  beforeAll(async () => {
    await halves(64, 64).jpeg().toFile(jpeg);
  });

  it('missing file', () => expectUserError(probeImage(join(dir, 'nope.jpg')), 'FILE_NOT_FOUND', 'nope.jpg'));

  it('zero-byte file', () => {
    writeFileSync(join(dir, 'empty.jpg'), '');
    return expectUserError(loadPixels(join(dir, 'empty.jpg'), spec()), 'FILE_EMPTY', 'empty.jpg');
  });

  it('a text file named .jpg', () => {
    writeFileSync(join(dir, 'notes.jpg'), 'accession EG.1234, bought 1921');
    return expectUserError(loadPixels(join(dir, 'notes.jpg'), spec()), 'NOT_AN_IMAGE', 'notes.jpg');
  });

  it('a truncated JPEG', () => {
    const bytes = readFileSync(jpeg);
    writeFileSync(join(dir, 'cut.jpg'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    return expectUserError(loadPixels(join(dir, 'cut.jpg'), spec()), 'IMAGE_CORRUPT', 'cut.jpg');
  });

  it('a 30000 x 30000 PNG is refused from its header, before decoding', async () => {
    const path = join(dir, 'huge.png');
    writePngHeader(path, 30000, 30000);
    await expectUserError(probeImage(path), 'IMAGE_TOO_LARGE', '30000 x 30000');
    await expectUserError(loadPixels(path, spec()), 'IMAGE_TOO_LARGE', 'huge.png');
  });
});

describe('decoding as the model card says', () => {
  it('applies EXIF orientation before anything else', async () => {
    const path = join(dir, 'rotated.jpg');
    // Stored landscape (red left, blue right); EXIF 6 = display rotated 90 degrees clockwise.
    await halves(64, 32).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(path);
    expect(await probeImage(path)).toMatchObject({ width: 32, height: 64, format: 'jpeg' });
    const px = await loadPixels(path, spec({ width: 4, height: 8 }));
    const at = (x: number, y: number) => Array.from(px.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3));
    // Upright, red is on top and blue at the bottom.
    expect(at(1, 0)[0]).toBeGreaterThan(200);
    expect(at(1, 7)[2]).toBeGreaterThan(200);
  });

  it('flattens transparency onto white', async () => {
    const path = join(dir, 'clear.png');
    await sharp({ create: { width: 16, height: 16, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toFile(path);
    const px = await loadPixels(path, spec());
    expect(Math.min(...px)).toBe(255);
  });

  it('reads WebP, TIFF, GIF and greyscale photos as RGB', async () => {
    for (const [name, make] of [
      ['p.webp', (s: Sharp) => s.webp()],
      ['p.tiff', (s: Sharp) => s.tiff()],
      ['p.gif', (s: Sharp) => s.gif()],
      ['grey.png', (s: Sharp) => s.greyscale().png()],
    ] as const) {
      const path = join(dir, name);
      await make(halves(32, 32)).toFile(path);
      const px = await loadPixels(path, spec());
      expect(px.length).toBe(8 * 8 * 3);
    }
  });

  it('crops, flips and resizes', async () => {
    const path = join(dir, 'halves.png');
    await halves(64, 32).png().toFile(path);
    const left = await loadPixels(path, spec(), { crop: { x: 0, y: 0, width: 0.5, height: 1 } });
    expect(Array.from(left.subarray(0, 3))).toEqual([255, 0, 0]);
    expect(Array.from(left.subarray(left.length - 3))).toEqual([255, 0, 0]);
    const flipped = await loadPixels(path, spec());
    const mirrored = await loadPixels(path, spec(), { flip: true });
    expect(Array.from(flipped.subarray(0, 3))).toEqual([255, 0, 0]);
    expect(Array.from(mirrored.subarray(0, 3))).toEqual([0, 0, 255]);
    await expect(loadPixels(path, spec(), { crop: { x: 0.8, y: 0, width: 0.5, height: 1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('fills the cells of an erase grid from the blur and their surroundings, and leaves the rest', async () => {
    const path = join(dir, 'erase.png');
    await halves(64, 64).png().toFile(path);
    const px = await loadPixels(path, spec(), { erase: { columns: 2, rows: 2, cells: Uint8Array.from([0, 1, 0, 0]) } });
    const at = (x: number, y: number) => Array.from(px.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
    expect(at(4, 1)[0]).toBeGreaterThan(40); // top right, by the edge: red bleeds into the blue
    expect(at(4, 1)[2]).toBeLessThan(230);
    expect(at(6, 6)[2]).toBeGreaterThan(250); // bottom right: still blue
    expect(at(1, 1)[0]).toBeGreaterThan(250); // top left: still red
  });

  it('erases a lone pixel into its surroundings, so scattered erasing adds no speckle', async () => {
    // 8-pixel black and white squares: the blur is grey everywhere, but a pixel in the middle of a square is surrounded by its own colour.
    const size = 64;
    const raw = Buffer.alloc(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) raw.fill(((x >> 3) + (y >> 3)) % 2 ? 255 : 0, (y * size + x) * 3, (y * size + x) * 3 + 3);
    const path = join(dir, 'squares.png');
    await sharp(raw, { raw: { width: size, height: size, channels: 3 } }).png().toFile(path);
    const cells = new Uint8Array(size * size);
    const centres = Array.from({ length: 64 }, (_, k) => ((k >> 3) * 8 + 4) * size + (k % 8) * 8 + 4);
    for (const p of centres) cells[p] = 1;
    const square = spec({ width: size, height: size });
    const [original, erased] = await Promise.all([loadPixels(path, square), loadPixels(path, square, { erase: { columns: size, rows: size, cells } })]);
    for (const p of centres) expect(Math.abs(erased[p * 3]! - original[p * 3]!)).toBeLessThan(8);
  });

  it('lays out tensors in the card\'s layout, colour order and scale', () => {
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0]); // two pixels: red, green
    const two = { width: 2, height: 1 };
    const out = new Float32Array(6);
    pixelsToTensor(rgb, spec({ ...two, range: [-1, 1] }), out);
    expect(Array.from(out)).toEqual([1, -1, -1, -1, 1, -1]);
    pixelsToTensor(rgb, spec({ ...two, layout: 'NCHW', colourOrder: 'BGR' }), out);
    expect(Array.from(out)).toEqual([0, 0, 0, 255, 255, 0]);
    pixelsToTensor(rgb, spec({ ...two, layout: 'NCHW', range: [0, 1], mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 1] }), out);
    expect(Array.from(out)).toEqual([1, -1, -2, 2, -0.5, -0.5]);
  });
});
