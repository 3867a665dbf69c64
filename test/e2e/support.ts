import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import sharp from 'sharp';
import { build } from 'vite';
import type { DescriptorRecipe } from '../../src-main/engine/identify/recipe';
import { REPO } from '../helpers/files';
import { COIL, hasCoil, manifestRows, syntheticPhoto } from '../helpers/photos';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const ARTIFACTS = join(REPO, 'test-artifacts');

/** One small, fast model keeps the end-to-end run short; the app's default recipe is tested elsewhere. */
export const FAST_RECIPE: DescriptorRecipe = {
  parts: [{ model: 'mobilenet-v2-140', pooling: 'mean' }], flip: false, postprocess: 'centre', aggregation: 'prototype',
};

/** Builds the renderer exactly as the app ships it, into a folder of the test's own. */
export async function buildRenderer(outDir: string): Promise<void> {
  await build({ configFile: join(REPO, 'vite.config.ts'), configLoader: 'runner', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}

export async function launchChromium(profileDir: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 860 },
  });
  return { context, page: context.pages()[0] ?? await context.newPage() };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

export interface Fixture {
  manifest: string;
  objects: number;
  photos: number;
  /** A view of a catalogued object that is not in the catalogue. */
  heldOut: { path: string; instanceId: string };
  /** A picture of something that is not catalogued at all. */
  stranger: string;
  synthetic: boolean;
}

const OBJECTS = 6;
const VIEWS = [0, 45, 90, 135, 180, 225, 270, 315];
const SERIES = ['Ceramics', 'Metalwork'];

/**
 * A manifest of 6 objects x 8 photos (absolute paths) plus two bad rows: a missing file and a
 * file that is not an image. Real COIL-100 photos when the dataset is present, else generated ones.
 */
export async function writeFixture(dir: string): Promise<Fixture> {
  mkdirSync(dir, { recursive: true });
  const notAnImage = join(dir, 'notes.jpg');
  writeFileSync(notAnImage, 'Condition report: see the paper file.\n');
  const stranger = await strangerPhoto(join(dir, 'stranger.png'));
  const { rows, heldOut } = hasCoil ? coilRows() : await syntheticRows(dir);
  const lines = ['image_path,instance_id,subcategory,title,view_angle_deg', ...rows.map((r) => [r.path, r.id, r.series, r.title, r.angle].join(','))];
  lines.push(`${join(dir, 'missing.png')},obj-x,,Lost photo,0`, `${notAnImage},obj-x,,Notes,0`);
  const manifest = join(dir, 'manifest.csv');
  writeFileSync(manifest, `${lines.join('\n')}\n`);
  return { manifest, objects: OBJECTS, photos: rows.length, heldOut, stranger, synthetic: !hasCoil };
}

type Row = { path: string; id: string; series: string; title: string; angle: number };

function coilRows(): { rows: Row[]; heldOut: Fixture['heldOut'] } {
  const all = manifestRows(COIL);
  const ids = Array.from({ length: OBJECTS }, (_, i) => `coil-${String(i + 2).padStart(3, '0')}`);
  const rows = ids.flatMap((id, i) => all.filter((r) => r.instance_id === id && VIEWS.includes(Number(r.view_angle_deg)))
    .map((r) => ({ path: join(COIL, r.image_path), id, series: SERIES[i % 2], title: `Turntable object ${i + 2}`, angle: Number(r.view_angle_deg) })));
  const held = all.find((r) => r.instance_id === ids[2] && r.view_angle_deg === '20')!;
  return { rows, heldOut: { path: join(COIL, held.image_path), instanceId: ids[2] } };
}

async function syntheticRows(dir: string): Promise<{ rows: Row[]; heldOut: Fixture['heldOut'] }> {
  const rows: Row[] = [];
  const view = async (object: number, angle: number) => {
    const base = await syntheticPhoto(join(dir, `base-${object}.png`), object * 5 + 1);
    const path = join(dir, `obj${object}-${angle}.png`);
    await sharp(base).rotate(angle / 9, { background: '#202020' }).resize(160, 160).png().toFile(path);
    return path;
  };
  for (let object = 0; object < OBJECTS; object++) {
    for (const angle of VIEWS) rows.push({ path: await view(object, angle), id: `syn-${object + 1}`, series: SERIES[object % 2], title: `Generated object ${object + 1}`, angle });
  }
  return { rows, heldOut: { path: await view(2, 20), instanceId: 'syn-3' } };
}

/** Nothing like a catalogued object: a striped poster with text. */
async function strangerPhoto(path: string): Promise<string> {
  const stripes = Array.from({ length: 12 }, (_, i) => `<rect x="${i * 20}" width="10" height="240" fill="hsl(${i * 30},90%,55%)"/>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240"><rect width="240" height="240" fill="#f4f1e8"/>${stripes}
    <text x="20" y="130" font-size="40" font-family="sans-serif" fill="#111">SALE 50%</text></svg>`;
  await sharp(Buffer.from(svg)).png().toFile(path);
  return path;
}

const WAIT_MS = 20_000;

export async function visible(locator: Locator): Promise<void> {
  await locator.first().waitFor({ state: 'visible', timeout: WAIT_MS });
}

/** Waits until the rendered text (whitespace collapsed) contains `text`. */
export async function containsText(locator: Locator, text: string, timeout = WAIT_MS): Promise<void> {
  await expect.poll(async () => (await locator.allInnerTexts()).join(' ').replace(/\s+/g, ' '), { timeout }).toContain(text);
}

export async function counts(locator: Locator, n: number): Promise<void> {
  await expect.poll(() => locator.count(), { timeout: WAIT_MS }).toBe(n);
}

/** What paintedPixels reads of a canvas (the tests' type-check has no DOM library). */
interface Canvas2D {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

/** Pixels of a 2-D canvas that are painted (not transparent): an overlay that drew something. */
export async function paintedPixels(canvas: Locator): Promise<number> {
  return canvas.evaluate((element) => {
    const c = element as unknown as Canvas2D;
    const context = c.getContext('2d');
    if (!context || c.width === 0) return 0;
    const { data } = context.getImageData(0, 0, c.width, c.height);
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return painted;
  });
}

/** Pixels of the Explore map's WebGL canvas, as shown on screen, that differ from its background. */
export async function mapPixels(page: Page): Promise<number> {
  await page.mouse.move(0, 0);
  const { data, info } = await sharp(await page.getByTestId('map-canvas').screenshot()).raw().toBuffer({ resolveWithObject: true });
  const [r, g, b] = [data[0], data[1], data[2]]; // The corner is background: the map keeps a margin round the points.
  let drawn = 0;
  for (let i = 0; i < data.length; i += info.channels) if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) > 60) drawn++;
  return drawn;
}

/** Moves the pointer outwards from the query mark until a point's tooltip shows. */
export async function hoverSomePoint(page: Page): Promise<void> {
  const mark = (await page.getByTestId('query-mark').boundingBox())!;
  const [cx, cy] = [mark.x + mark.width / 2, mark.y + mark.height / 2];
  const tooltip = page.getByTestId('map-tooltip');
  for (let r = 0; r < 200; r += 6) {
    for (let a = 0; a < 2 * Math.PI; a += Math.max(0.3, 6 / Math.max(r, 1))) {
      await page.mouse.move(cx + r * Math.cos(a), cy + r * Math.sin(a));
      if (await tooltip.isVisible()) return;
    }
  }
  throw new Error('No point of the map showed a tooltip near the query.');
}

/** The bytes of the file a click downloads. */
export async function downloaded(page: Page, click: () => Promise<void>): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  return readFileSync((await download.path())!);
}
