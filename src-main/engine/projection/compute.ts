import { UserError } from '../errors';
import { mulberry32 } from '../random';
import { ProgressMeter, type ProgressListener } from '../jobs/progress';
import { normaliseRows } from '../search/vectors';
import { chordDistance, neighbourGraph, queryNeighbours, rowIndex } from './neighbours';
import { fitPca, projectAllRows, projectRows, type PcaModel } from './pca';
import { tsne } from './tsne';
import { umap, umapEpochs } from './umap';

export type ProjectionMethod = 'pca' | 'tsne' | 'umap';

export interface ProjectionParameters {
  method: ProjectionMethod;
  seed: number;
  /** UMAP's n_neighbors (the point itself included). */
  neighbours: number;
  perplexity: number;
  /** UMAP's min_dist: how tightly it packs neighbours. */
  minDist: number;
}

export const DEFAULT_PARAMETERS: Omit<ProjectionParameters, 'method'> = { seed: 42, neighbours: 15, perplexity: 30, minDist: 0.1 };

/** What is needed to put new descriptors on a map. */
export interface ProjectionModel {
  method: ProjectionMethod;
  dims: number;
  /** PCA of the unit-length descriptors: the map itself for 'pca'; for t-SNE and UMAP, the space neighbours are found in. */
  pca: PcaModel;
  /** t-SNE and UMAP: the mapped rows in that space, unit length, where a query's neighbours are found; empty for 'pca'. */
  reduced: Float32Array;
}

export interface Projection {
  /** n × 2, row i for input row i. */
  points: Float32Array;
  model: ProjectionModel;
}

/**
 * t-SNE and UMAP find neighbours by cosine after PCA to this many dimensions: it keeps the
 * neighbourhoods (the leading components carry the structure; the tail is mostly noise)
 * and makes the exact n² neighbour search 15–50× cheaper than on 768 or 2560 values.
 */
const REDUCED_DIMS = 50;
const TSNE_ITERATIONS = 750;
const REPORT_EVERY = 10;
/** A query's position is the inverse-square-distance mean of this many nearest mapped rows. */
const PLACEMENT_NEIGHBOURS = 10;

/** Maps row-major descriptors (dims values each) to 2-D on this thread, its matrix products on onnxruntime's. */
export async function computeProjection(vectors: Float32Array, dims: number, parameters: ProjectionParameters, onProgress?: ProgressListener): Promise<Projection> {
  const n = checkedCount(vectors, dims);
  const unit = normaliseRows(vectors.slice(), dims);
  const random = mulberry32(parameters.seed);
  if (parameters.method === 'pca') {
    const pca = await fitPca(unit, dims, 2, random);
    new ProgressMeter(1, onProgress).advance(1, 'reducing');
    return { points: await projectAllRows(pca, unit), model: { method: 'pca', dims, pca, reduced: new Float32Array(0) } };
  }
  const steps = parameters.method === 'tsne' ? TSNE_ITERATIONS : umapEpochs(n);
  const meter = new ProgressMeter(steps, onProgress);
  meter.advance(0, 'reducing');
  const pca = await fitPca(unit, dims, Math.min(REDUCED_DIMS, dims), random);
  const reduced = normaliseRows(await projectAllRows(pca, unit), pca.components);
  meter.advance(0, 'neighbours');
  const advance = () => meter.advance(REPORT_EVERY, 'optimising');
  const model: ProjectionModel = { method: parameters.method, dims, pca, reduced };
  if (parameters.method === 'tsne') {
    const perplexity = Math.min(parameters.perplexity, (n - 1) / 3);
    const graph = await neighbourGraph(reduced, pca.components, Math.min(n - 1, Math.floor(3 * perplexity)));
    return { points: tsne(graph, n, { perplexity, iterations: steps, random, onIterations: advance, reportEvery: REPORT_EVERY }), model };
  }
  // umap-js wants more points than its neighbourhood, which counts the point itself.
  const graph = await neighbourGraph(reduced, pca.components, Math.min(n - 2, Math.max(1, parameters.neighbours - 1)));
  return { points: umap(graph, { random, minDist: parameters.minDist, epochs: steps, onEpochs: advance, reportEvery: REPORT_EVERY }), model };
}

function checkedCount(vectors: Float32Array, dims: number): number {
  // No embedded photos at all comes as zero values of zero dimensions.
  const n = vectors.length === 0 ? 0 : vectors.length / dims;
  if (!Number.isInteger(n)) {
    throw new UserError('MODEL_MISMATCH', `${vectors.length} values are not a whole number of ${dims}-value descriptors.`, 'Map descriptors of one model and recipe at a time.');
  }
  if (n < 3) {
    throw new UserError('CATALOGUE_NOT_EMBEDDED', `A map needs at least 3 embedded photos; there are ${n}.`, 'Import and embed more catalogue photos first.');
  }
  return n;
}

/**
 * Puts query descriptors (row-major, the map's dims each) on the map: by the PCA itself for
 * 'pca'; for t-SNE and UMAP, which have no transform of their own, at the inverse-square-distance
 * weighted mean of their nearest mapped rows' points, so a photo already in the catalogue lands on its own point.
 */
export function placeQueries(projection: Projection, queries: Float32Array): Float32Array {
  const { model, points } = projection;
  checkedQueries(queries, model.dims);
  const unit = normaliseRows(queries.slice(), model.dims);
  if (model.method === 'pca') return projectRows(model.pca, unit);
  const k = Math.min(PLACEMENT_NEIGHBOURS, points.length / 2);
  const found = queryNeighbours(rowIndex(model.reduced, model.pca.components), projectRows(model.pca, unit), k);
  const out = new Float32Array((queries.length / model.dims) * 2);
  for (let q = 0; q < out.length / 2; q++) {
    let [x, y, total] = [0, 0, 0];
    for (let i = q * k; i < (q + 1) * k; i++) {
      const weight = 1 / (chordDistance(found.cosines[i]!) ** 2 + 1e-12);
      x += weight * points[2 * found.rows[i]!]!;
      y += weight * points[2 * found.rows[i]! + 1]!;
      total += weight;
    }
    out[2 * q] = x / total;
    out[2 * q + 1] = y / total;
  }
  return out;
}

function checkedQueries(queries: Float32Array, dims: number): void {
  if (queries.length % dims !== 0) {
    throw new UserError('MODEL_MISMATCH', `A query has ${queries.length} values but the map was made from ${dims}-value descriptors.`, 'Describe the photo with the recipe the map was made with.');
  }
}
