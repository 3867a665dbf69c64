import type { PhotoInput } from '../inference/embed';
import { EmbeddingPool, type PoolSettings } from '../inference/pool';
import { UserError } from '../errors';
import { concatDescriptors, gem } from '../search/postprocess';
import { normaliseInPlace } from '../search/vectors';
import { GEM_P, type DescriptorPart, type DescriptorRecipe } from './recipe';

export type Described = { path: string; vector: Float32Array } | { path: string; error: UserError };

/**
 * Turns photos into descriptors as a recipe says: one embedding pool per backbone, GeM or
 * mean pooling, optional flip averaging, then the parts joined.
 */
export class Describer {
  private constructor(readonly recipe: DescriptorRecipe, private readonly pools: Map<string, EmbeddingPool>) {}

  static async open(recipe: DescriptorRecipe, settings: PoolSettings = {}): Promise<Describer> {
    const pools = new Map<string, EmbeddingPool>();
    try {
      for (const part of recipe.parts) {
        if (!pools.has(part.model)) pools.set(part.model, await EmbeddingPool.open(part.model, settings));
      }
    } catch (e) {
      await Promise.all([...pools.values()].map((p) => p.close()));
      throw e;
    }
    return new Describer(recipe, pools);
  }

  pool(model: string): EmbeddingPool {
    return this.pools.get(model)!;
  }

  /** Descriptors of one part for many photos, batch by batch in input order. */
  async *describePart(part: DescriptorPart, photos: PhotoInput[], options: { batchSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<Described[]> {
    const pool = this.pool(part.model);
    const views = this.recipe.flip ? 2 : 1;
    // Each photo and its mirror image travel in the same batch.
    const inputs = photos.flatMap((p) => (this.recipe.flip ? [p, { ...p, flip: true }] : [p]));
    const batchSize = (options.batchSize ?? 1) * views;
    const withFeaturemaps = part.pooling === 'gem';
    const [channels, h, w] = pool.card.outputs.featuremap.shape.slice(1);
    for await (const batch of pool.embed(inputs, { batchSize, withFeaturemaps, signal: options.signal })) {
      const out: Described[] = [];
      for (let i = 0; i < batch.length; i += views) {
        const failed = batch.slice(i, i + views).find((r) => 'error' in r);
        if (failed && 'error' in failed) {
          out.push(failed);
          continue;
        }
        const vector = new Float32Array(withFeaturemaps ? channels : pool.card.embeddingDim);
        for (const r of batch.slice(i, i + views)) {
          if (!('embedding' in r)) continue;
          const view = withFeaturemaps ? gem(r.featuremap!, channels, h, w, GEM_P) : r.embedding;
          normaliseInPlace(view);
          for (let j = 0; j < vector.length; j++) vector[j] += view[j];
        }
        normaliseInPlace(vector);
        out.push({ path: batch[i].path, vector });
      }
      yield out;
    }
  }

  /** The joined descriptor of each photo (a query): all parts, each weighted. */
  async describe(photos: PhotoInput[]): Promise<Described[]> {
    const perPart: Described[][] = [];
    for (const part of this.recipe.parts) {
      const all: Described[] = [];
      for await (const batch of this.describePart(part, photos, { batchSize: photos.length })) all.push(...batch);
      perPart.push(all);
    }
    return photos.map((p, i) => {
      const failed = perPart.map((d) => d[i]).find((d) => 'error' in d);
      if (failed) return failed;
      return {
        path: p.path,
        vector: concatDescriptors(perPart.map((d, k) => ({ vector: (d[i] as { vector: Float32Array }).vector, weight: this.recipe.parts[k].weight }))),
      };
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}
