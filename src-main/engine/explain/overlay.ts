import sharp from 'sharp';
import type { PhotoInput } from '../inference/embed';
import { loadPixels, probeImage } from '../inference/image';
import { normaliseMap, turbo } from './colour-map';

/** Longest side of an exported overlay. */
const EXPORT_SIZE = 1024;

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
