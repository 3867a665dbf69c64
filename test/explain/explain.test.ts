import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainByOcclusion, explainMatch } from '../../src-main/engine/explain/explain-match';
import { centredCosine, evidenceMap, poolFeaturemap, topCells } from '../../src-main/engine/explain/maps';
import { turbo } from '../../src-main/engine/explain/colour-map';
import { renderOverlay } from '../../src-main/engine/explain/overlay';
import { Describer } from '../../src-main/engine/identify/describe';
import type { DescriptorRecipe } from '../../src-main/engine/identify/recipe';
import { tempDir } from '../helpers/files';
import { COIL, hasCoil, manifestRows } from '../helpers/photos';

const shape = { channels: 4, height: 3, width: 3 };
const cosine = (a: Float32Array, b: Float32Array) => {
  let ab = 0, aa = 0, bb = 0;
  a.forEach((v, i) => { ab += v * b[i]; aa += v * v; bb += b[i] * b[i]; });
  return ab / Math.sqrt(aa * bb);
};

describe('evidence maps', () => {
  // The centre cell carries the target's pattern, the corner cell the opposite one; the rest are alike.
  const target = Float32Array.from([1, 0, 2, 0]);
  const mean = Float32Array.from([0.25, 0.25, 0.25, 0.25]);
  const featuremap = new Float32Array(4 * 9);
  for (let i = 0; i < 9; i++) {
    const pattern = i === 4 ? [2, 0, 4, 0] : i === 0 ? [0, 3, 0, 2] : [1, 1, 1, 1];
    pattern.forEach((v, c) => { featuremap[c * 9 + i] = v; });
  }

  it('credits the cells that look like the match and debits those that argue against it', () => {
    for (const p of [1, 3]) {
      const map = evidenceMap(featuremap, shape, target, { p, mean });
      expect(Array.from(map).indexOf(Math.max(...map))).toBe(4);
      expect(Array.from(map).indexOf(Math.min(...map))).toBe(0);
      expect(map[0]).toBeLessThan(0);
      expect(Array.from(topCells(map, 1 / 9))).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0]);
    }
  });

  it('is a cosine once centred: a photo scores 1 against itself', () => {
    const v = poolFeaturemap(featuremap, shape, 3);
    expect(centredCosine(v, v, mean)).toBeCloseTo(1, 6);
    expect(centredCosine(v, v)).toBeCloseTo(1, 6);
  });

  it('splits the centred cosine among the cells by their share of each channel\'s pooled sum', () => {
    for (const p of [1, 3]) {
      const map = evidenceMap(featuremap, shape, target, { p, mean });
      // By hand: x = v/|v| - mean, t = unit(target/|target| - mean); cell i owns a_ic^p / sum_j a_jc^p of channel c.
      const v = poolFeaturemap(featuremap, shape, p);
      const unit = (a: ArrayLike<number>) => Array.from(a, (y) => y / Math.hypot(...Array.from(a)));
      const t = unit(unit(target).map((y, c) => y - mean[c]));
      const x = unit(v).map((y, c) => y - mean[c]);
      const byHand = Array.from({ length: 9 }, (_, i) => [0, 1, 2, 3].reduce((s, c) => {
        const column = Array.from({ length: 9 }, (_, j) => featuremap[c * 9 + j] ** p);
        return s + (column[i] / column.reduce((a, b) => a + b, 0)) * unit(v)[c] * t[c];
      }, 0) / Math.hypot(...x));
      byHand.forEach((e, i) => expect(map[i]).toBeCloseTo(e, 6));
      // The cells and the centring's part make up the score the explanation reports.
      const centring = mean.reduce((s, m, c) => s + m * t[c], 0) / Math.hypot(...x);
      expect(map.reduce((a, b) => a + b, 0)).toBeCloseTo(centredCosine(v, target, mean) + centring, 6);
      // Uncentred, the cells sum to the plain cosine.
      expect(evidenceMap(featuremap, shape, target, { p }).reduce((a, b) => a + b, 0)).toBeCloseTo(cosine(v, target), 6);
    }
  });

  it('gives the whole of a uniformly matching object credit, not only where it differs from the average', () => {
    // Every cell alike and like the target: leaving one out of the pooling changes nothing,
    // yet each carries the match; a dark cell (all zero) carries none of it.
    const uniform = new Float32Array(4 * 9);
    for (let i = 0; i < 9; i++) if (i !== 8) [1, 0, 2, 0].forEach((v, c) => { uniform[c * 9 + i] = v; });
    const map = evidenceMap(uniform, shape, target, { p: 3 });
    for (let i = 0; i < 8; i++) expect(map[i]).toBeCloseTo(1 / 8, 6);
    expect(map[8]).toBeCloseTo(0, 6);
  });
});

describe('overlay export', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('draws the map in turbo colours over the photo at the photo\'s size', async () => {
    const photo = join(tmp.dir, 'grey.png');
    await sharp({ create: { width: 300, height: 200, channels: 3, background: '#808080' } }).png().toFile(photo);
    // Hot in the top-left quarter of an 8 x 8 map, cold elsewhere.
    const map = Float32Array.from({ length: 64 }, (_, i) => (i % 8 < 4 && i < 32 ? 1 : 0));
    const png = await renderOverlay({ path: photo }, map, 8, 8, 1);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([300, 200]);
    const near = (at: number, colour: number[]) => colour.forEach((v, c) => expect(Math.abs(data[at + c] - v)).toBeLessThan(12));
    near(0, turbo(1));
    near((info.width * info.height - 1) * 3, turbo(0));
  });
});

/** Pairs of views 20 degrees apart of several COIL objects: a query and the photo it matched. */
describe.skipIf(!hasCoil)('explanations of real matches', () => {
  const recipe: DescriptorRecipe = { parts: [{ model: 'inception-v3-mixed5', pooling: 'gem' }], flip: false, postprocess: 'none', aggregation: 'best' };
  let describer: Describer;
  const rows = manifestRows(COIL);
  const pairs = ['coil-003', 'coil-008', 'coil-013', 'coil-021', 'coil-034', 'coil-046'].map((id) => {
    const views = rows.filter((r) => r.instance_id === id);
    return { query: { path: join(COIL, views[2].image_path) }, match: { path: join(COIL, views[6].image_path) } };
  });

  beforeAll(async () => { describer = await Describer.open(recipe, { provider: 'cpu' }); });
  afterAll(() => describer.close());

  it('gives both photos an evidence map on the model\'s feature-map grid', async () => {
    const e = await explainMatch(describer, pairs[0].query, pairs[0].match);
    expect([e.columns, e.rows, e.query.length, e.match.length]).toEqual([17, 17, 289, 289]);
    expect(e.score).toBeGreaterThan(0.5);
    expect(Math.max(...e.query)).toBeGreaterThan(0);
  });

  it('means something: erasing the 20 % of the photo that occlusion marks costs more similarity than erasing 20 % at random', async () => {
    const pool = describer.pool('inception-v3-mixed5');
    const iv3 = { channels: 768, height: 17, width: 17 };
    const grid = 8;
    const share = Math.round(0.2 * grid * grid);
    let salientDrop = 0;
    let randomDrop = 0;
    for (const [k, { query, match }] of pairs.entries()) {
      const occlusion = await explainByOcclusion(describer, query, match, { grid, patch: 2 });
      const [m] = await pool.embedOnce([match], { withFeaturemaps: true });
      const target = poolFeaturemap((m as { featuremap: Float32Array }).featuremap, iv3, 3);
      const random = new Uint8Array(grid * grid);
      for (let i = 0; i < share; i++) random[(i * 23 + k * 7) % (grid * grid)] = 1; // 23 is prime to 64: distinct cells
      const erase = (cells: Uint8Array) => ({ ...query, erase: { columns: grid, rows: grid, cells } });
      const [base, salient, scattered] = (await pool.embedOnce([query, erase(topCells(occlusion.map, 0.2)), erase(random)], { withFeaturemaps: true }))
        .map((r) => cosine(poolFeaturemap((r as { featuremap: Float32Array }).featuremap, iv3, 3), target));
      salientDrop += base - salient;
      randomDrop += base - scattered;
    }
    expect(salientDrop / pairs.length).toBeGreaterThan(randomDrop / pairs.length);
  });

  it('maps occlusion sensitivity on a grid, with progress', async () => {
    const seen: number[] = [];
    const r = await explainByOcclusion(describer, pairs[1].query, pairs[1].match, { grid: 4, patch: 2, onProgress: (p) => seen.push(p.done) });
    expect(r.map).toHaveLength(16);
    expect(seen.at(-1)).toBe(1 + 9);
    expect(r.baseScore).toBeGreaterThan(0.5);
    expect(Math.max(...r.map)).toBeGreaterThan(0);
  });
});
