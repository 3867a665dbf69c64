import { stat } from 'node:fs/promises';
import sharp, { type FitEnum, type Metadata, type Region } from 'sharp';
import { UserError } from '../errors';
import type { InputSpec } from '../models/card';

/** Refuse anything larger before decoding it: a 100 MP photo already takes ~300 MB raw. */
export const MAX_IMAGE_PIXELS = 100_000_000;

/** A region of the (orientation-corrected) photo, as fractions of its width and height. */
export interface CropBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Cells of a grid laid over the model's input (after crop and flip) whose detail is taken away
 * (filled from a heavy blur of the photo and their surroundings, see relax): how occlusion and
 * deletion tests remove parts of a photo. Unlike a flat grey, the fill adds no sharp edges that
 * the model would respond to.
 */
export interface EraseGrid {
  columns: number;
  rows: number;
  /** rows x columns, row-major; non-zero = erase. */
  cells: Uint8Array;
}

export interface LoadOptions {
  crop?: CropBox;
  /** Mirror left-right (test-time augmentation). */
  flip?: boolean;
  erase?: EraseGrid;
}

export interface ImageInfo {
  format: string;
  /** Size after EXIF orientation is applied. */
  width: number;
  height: number;
}

// sharp signals a non-image and a damaged image only through message text.
const NOT_AN_IMAGE = /unsupported image format|bad seek|Input buffer contains unsupported/i;

function describe(path: string, cause: unknown): UserError {
  const text = cause instanceof Error ? cause.message : String(cause);
  if (/exceeds pixel limit/i.test(text)) return tooLarge(path);
  if (NOT_AN_IMAGE.test(text)) {
    return new UserError('NOT_AN_IMAGE', `${path} is not an image this tool can read.`,
      'Use a JPEG, PNG, WebP, TIFF, GIF or AVIF photo.', { cause });
  }
  return new UserError('IMAGE_CORRUPT', `${path} is damaged or incomplete (${text.split('\n')[0]}).`,
    'Copy the photo again from its source, or re-save it in an image editor.', { cause });
}

function tooLarge(path: string, width?: number, height?: number): UserError {
  const size = width && height ? ` (${width} x ${height} pixels)` : '';
  return new UserError('IMAGE_TOO_LARGE', `${path} is too large to analyse${size}; the limit is ${MAX_IMAGE_PIXELS / 1e6} megapixels.`,
    'Scale the photo down, or crop the object, and try again.');
}

async function checkFile(path: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (cause) {
    throw new UserError('FILE_NOT_FOUND', `${path} does not exist or cannot be opened.`,
      'Check the path and that the drive holding it is connected.', { cause });
  }
  if (size === 0) {
    throw new UserError('FILE_EMPTY', `${path} is an empty file (0 bytes).`,
      'The copy probably failed; copy the photo again from its source.');
  }
}

/** Reads only the header: format and oriented size; refuses non-images and oversize photos. */
export async function probeImage(path: string): Promise<ImageInfo> {
  await checkFile(path);
  let meta: Metadata;
  try {
    meta = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw describe(path, cause);
  }
  if (!meta.width || !meta.height || !meta.format) throw describe(path, new Error('no image size in header'));
  if (meta.width * meta.height > MAX_IMAGE_PIXELS) throw tooLarge(path, meta.width, meta.height);
  const swapped = (meta.orientation ?? 1) >= 5;
  return {
    format: meta.format,
    width: swapped ? meta.height : meta.width,
    height: swapped ? meta.width : meta.height,
  };
}

const FIT: Record<InputSpec['resize'], keyof FitEnum> = {
  squash: 'fill',
  'centre-crop': 'cover',
  letterbox: 'contain',
};

/**
 * Decodes a photo the way the model card says (EXIF orientation, sRGB, transparency flattened
 * onto white, crop, resize) and returns its pixels as interleaved 8-bit RGB of the card's size.
 */
export async function loadPixels(path: string, spec: InputSpec, options: LoadOptions = {}): Promise<Buffer> {
  // The header is read separately only when a crop needs the photo's size: decoding enforces
  // the pixel limit by itself, and the extra read costs a tenth of a small photo's decoding.
  await checkFile(path);
  const region = options.crop && cropRegion(options.crop, await probeImage(path));
  try {
    let img = sharp(path, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error', pages: 1 })
      .rotate()
      .toColourspace('srgb')
      .flatten({ background: '#ffffff' });
    if (region) img = img.extract(region);
    if (options.flip) img = img.flop();
    const { data } = await img
      .resize(spec.width, spec.height, { fit: FIT[spec.resize], background: '#ffffff' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (options.erase) await eraseCells(data, spec.width, spec.height, options.erase);
    return data;
  } catch (cause) {
    throw describe(path, cause);
  }
}

async function eraseCells(rgb: Buffer, width: number, height: number, grid: EraseGrid): Promise<void> {
  const sigma = Math.max(width, height) / 10;
  const blurred = await sharp(rgb, { raw: { width, height, channels: 3 } }).blur(sigma).raw().toBuffer();
  const erased: number[] = [];
  for (let y = 0; y < height; y++) {
    const row = Math.min(grid.rows - 1, Math.floor((y * grid.rows) / height)) * grid.columns;
    for (let x = 0; x < width; x++) {
      if (grid.cells[row + Math.min(grid.columns - 1, Math.floor((x * grid.columns) / width))]) erased.push(y * width + x);
    }
  }
  const values = Float32Array.from(rgb);
  for (const p of erased) for (let c = 0; c < 3; c++) values[p * 3 + c] = blurred[p * 3 + c];
  relax(values, width, height, erased);
  for (const p of erased) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(values[p * 3 + c]);
}

/** Gauss-Seidel sweeps of the erased pixels towards their neighbours' weighted mean. */
const SWEEPS = 32;
/** Neighbour weights: 1/6 beside, 1/12 diagonal (a discrete Laplacian's). */
const SIDE = 1 / 6;
const CORNER = 1 / 12;

/**
 * Linear imputation (as ROAD, Rong et al. 2022, removes pixels): each erased pixel, starting
 * from the blur, relaxes towards the weighted mean of its eight neighbours. An erased pixel
 * among kept ones becomes its surroundings, so scattered erasing leaves no speckle for the
 * model to react to; a large erased area keeps the blur inside and joins its border smoothly.
 * Either way what is erased is the detail, not the shape of the mask.
 */
function relax(values: Float32Array, width: number, height: number, erased: readonly number[]): void {
  const stride = width * 3;
  // Border pixels are left at the blur: they would need their own weights, and hold little.
  const inner = Int32Array.from(erased.filter((p) => {
    const x = p % width;
    return x > 0 && x < width - 1 && p >= width && p < width * (height - 1);
  }), (p) => p * 3);
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    for (let k = 0; k < inner.length; k++) {
      for (let i = inner[k], end = i + 3; i < end; i++) {
        values[i] = SIDE * (values[i - 3] + values[i + 3] + values[i - stride] + values[i + stride])
          + CORNER * (values[i - stride - 3] + values[i - stride + 3] + values[i + stride - 3] + values[i + stride + 3]);
      }
    }
  }
}

function cropRegion(c: CropBox, info: ImageInfo): Region {
  const valid = [c.x, c.y, c.width, c.height].every((v) => Number.isFinite(v) && v >= 0 && v <= 1)
    && c.width > 0 && c.height > 0 && c.x + c.width <= 1.0001 && c.y + c.height <= 1.0001;
  if (!valid) {
    throw new UserError('INVALID_ARGUMENT', `The crop box ${JSON.stringify(c)} is not inside the photo.`,
      'Give x, y, width and height as fractions between 0 and 1 of the photo.');
  }
  const left = Math.min(info.width - 1, Math.round(c.x * info.width));
  const top = Math.min(info.height - 1, Math.round(c.y * info.height));
  return {
    left,
    top,
    width: Math.max(1, Math.min(info.width - left, Math.round(c.width * info.width))),
    height: Math.max(1, Math.min(info.height - top, Math.round(c.height * info.height))),
  };
}

/** Writes one photo's RGB pixels into `out` at `offset` in the card's layout, order and scale. */
export function pixelsToTensor(rgb: Uint8Array, spec: InputSpec, out: Float32Array, offset = 0): void {
  const plane = spec.width * spec.height;
  const [lo, hi] = spec.range;
  const scale = (hi - lo) / 255;
  const order = spec.colourOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const mean = spec.mean ?? [0, 0, 0];
  const std = spec.std ?? [1, 1, 1];
  for (let c = 0; c < 3; c++) {
    const src = order[c];
    const a = scale / std[c];
    const b = (lo - mean[c]) / std[c];
    if (spec.layout === 'NHWC') {
      for (let p = 0; p < plane; p++) out[offset + p * 3 + c] = rgb[p * 3 + src] * a + b;
    } else {
      const base = offset + c * plane;
      for (let p = 0; p < plane; p++) out[base + p] = rgb[p * 3 + src] * a + b;
    }
  }
}
