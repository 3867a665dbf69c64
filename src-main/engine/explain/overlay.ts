import sharp from 'sharp';
import type { PhotoInput } from '../inference/embed';
import { loadPixels, probeImage } from '../inference/image';

/** Longest side of an exported overlay. */
const EXPORT_SIZE = 1024;

/**
 * Turbo colour map (Mikhailov 2019, polynomial approximation): dark blue for low, through
 * green and yellow, to dark red for high; readable on photos and in greyscale print.
 */
export function turbo(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const r = 0.13572138 + x * (4.6153926 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))));
  const g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))));
  const b = 0.1066733 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))));
  return [r, g, b].map((v) => Math.round(255 * Math.min(1, Math.max(0, v)))) as [number, number, number];
}

/** The map scaled to 0..1 over its own range (a flat map stays at 0). */
export function normaliseMap(map: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of map) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return map.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
}

/**
 * The photo (as the model saw it: oriented, cropped) with the map stretched over it, in the
 * turbo colours at `opacity`, as a PNG to put in a report.
 */
export async function renderOverlay(photo: PhotoInput, map: Float32Array, columns: number, rows: number, opacity = 0.5): Promise<Buffer> {
  const info = await probeImage(photo.path);
  const shown = { width: info.width * (photo.crop?.width ?? 1), height: info.height * (photo.crop?.height ?? 1) };
  const scale = Math.min(1, EXPORT_SIZE / Math.max(shown.width, shown.height));
  const width = Math.max(1, Math.round(shown.width * scale));
  const height = Math.max(1, Math.round(shown.height * scale));
  const pixels = await loadPixels(photo.path, { name: '', layout: 'NHWC', width, height, colourOrder: 'RGB', range: [0, 255], resize: 'squash' }, { crop: photo.crop });
  const levels = Buffer.from(normaliseMap(map).map((v) => Math.round(v * 255)));
  const smooth = await sharp(levels, { raw: { width: columns, height: rows, channels: 1 } }).resize(width, height, { kernel: 'cubic', fit: 'fill' }).raw().toBuffer();
  const out = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const colour = turbo(smooth[i] / 255);
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round((1 - opacity) * pixels[i * 3 + c] + opacity * colour[c]);
  }
  return sharp(out, { raw: { width, height, channels: 3 } }).png().toBuffer();
}
