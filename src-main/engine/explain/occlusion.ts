import type { PhotoInput } from '../inference/embed';
import type { EmbeddingPool } from '../inference/pool';
import { ProgressMeter, type ProgressListener } from '../jobs/progress';
import { dot } from '../search/vectors';
import { poolFeaturemap, type FeatureMapShape } from './maps';

export interface OcclusionOptions {
  /** The grid the patch moves on, in cells per side. */
  grid?: number;
  /** Patch side, in grid cells. */
  patch?: number;
  /** Pooling exponent of the descriptor (1: mean, 3: GeM). */
  p?: number;
  batchSize?: number;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

export interface OcclusionResult {
  /** grid x grid, row-major: mean drop of the match score when the cell is covered. */
  map: Float32Array;
  grid: number;
  /** The match score of the whole photo. */
  baseScore: number;
}

function cosine(a: Float32Array, b: Float32Array): number {
  return dot(a, 0, b, 0, a.length) / (Math.sqrt(dot(a, 0, a, 0, a.length) * dot(b, 0, b, 0, b.length)) || 1);
}

/** Every position of a patch x patch square on the grid, as erase grids. */
function patches(grid: number, patch: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let y = 0; y + patch <= grid; y++) {
    for (let x = 0; x + patch <= grid; x++) {
      const cells = new Uint8Array(grid * grid);
      for (let dy = 0; dy < patch; dy++) cells.fill(1, (y + dy) * grid + x, (y + dy) * grid + x + patch);
      out.push(cells);
    }
  }
  return out;
}

/**
 * Occlusion sensitivity, the thorough explanation: a grey patch slides over the photo and each
 * cell gets the mean drop in similarity to `target` of the positions that covered it.
 */
export async function occlusionMap(pool: EmbeddingPool, photo: PhotoInput, target: Float32Array, options: OcclusionOptions = {}): Promise<OcclusionResult> {
  const grid = options.grid ?? 12;
  const patch = options.patch ?? 3;
  const shape: FeatureMapShape = { channels: pool.card.outputs.featuremap.shape[1], height: pool.card.outputs.featuremap.shape[2], width: pool.card.outputs.featuremap.shape[3] };
  const masks = patches(grid, patch);
  const inputs: PhotoInput[] = [photo, ...masks.map((cells) => ({ ...photo, erase: { columns: grid, rows: grid, cells } }))];
  const meter = new ProgressMeter(inputs.length, options.onProgress, 'occlusion');
  const scores: number[] = [];
  for await (const batch of pool.embed(inputs, { batchSize: options.batchSize ?? 4, withFeaturemaps: true, signal: options.signal })) {
    for (const r of batch) {
      if ('error' in r) throw r.error;
      scores.push(cosine(poolFeaturemap(r.featuremap!, shape, options.p ?? 1), target));
    }
    meter.advance(batch.length);
  }
  const [baseScore, ...occluded] = scores;
  const drop = new Float32Array(grid * grid);
  const covered = new Float32Array(grid * grid);
  masks.forEach((cells, k) => cells.forEach((on, i) => {
    if (!on) return;
    drop[i] += baseScore - occluded[k];
    covered[i]++;
  }));
  return { map: drop.map((d, i) => d / covered[i]), grid, baseScore };
}
