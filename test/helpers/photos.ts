import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { parseCsv } from '../../src-main/engine/catalogue/csv';

/** The evaluation datasets beside the checkout; tests that need them skip when absent. */
export const DATASETS = join(import.meta.dirname, '..', '..', '..', 'shared', 'datasets');
export const COIL = join(DATASETS, 'coil100-dev');
export const hasCoil = existsSync(join(COIL, 'manifest.csv'));

/** Rows of a dataset manifest, read by the product's own CSV parser. */
export function manifestRows(dir: string): Record<string, string>[] {
  const path = join(dir, 'manifest.csv');
  const [header, ...records] = parseCsv(readFileSync(path, 'utf8'), path);
  return records.map((r) => Object.fromEntries(r.fields.map((v, i) => [header.fields[i], v])));
}

/**
 * Real photos when the datasets are present; otherwise a few synthetic ones: coloured
 * shapes on textured backgrounds, different enough for a model to tell apart.
 */
export async function samplePhotos(dir: string, count: number): Promise<string[]> {
  if (hasCoil) {
    return manifestRows(COIL).filter((r) => r.instance_id !== 'obj1').slice(0, count * 7).filter((_, i) => i % 7 === 0)
      .map((r) => join(COIL, r.image_path));
  }
  mkdirSync(dir, { recursive: true });
  return Promise.all(Array.from({ length: count }, (_, i) => syntheticPhoto(join(dir, `synthetic-${i}.png`), i)));
}

export async function syntheticPhoto(path: string, seed: number, size = 160): Promise<string> {
  const hue = (seed * 67) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">
    <rect width="100%" height="100%" fill="hsl(${(hue + 180) % 360},30%,20%)"/>
    <circle cx="${40 + (seed * 13) % 80}" cy="${50 + (seed * 29) % 60}" r="${25 + (seed % 4) * 8}" fill="hsl(${hue},80%,55%)"/>
    <rect x="${(seed * 37) % 90}" y="${(seed * 17) % 90}" width="50" height="${20 + (seed % 5) * 10}" fill="hsl(${(hue + 90) % 360},70%,60%)"/>
  </svg>`;
  await sharp(Buffer.from(svg)).png().toFile(path);
  return path;
}

/** A view of synthetic object `seed`: the same scene turned by `view` x 7 degrees and scaled a little. */
export async function syntheticView(path: string, seed: number, view: number): Promise<string> {
  const base = await syntheticPhoto(join(tmpdir(), `artefact-lens-scene-${seed}.png`), seed, 160);
  mkdirSync(dirname(path), { recursive: true });
  await sharp(base).rotate(view * 7, { background: '#222' }).resize(140 + view * 10).png().toFile(path);
  return path;
}
