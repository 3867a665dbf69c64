import { UMAP } from 'umap-js';
import { chordDistance, type Neighbours } from './neighbours';

export interface UmapSettings {
  random: () => number;
  minDist: number;
  epochs: number;
  /** Called every `reportEvery` epochs with how many are done. */
  onEpochs?: (done: number) => void;
  reportEvery?: number;
}

/**
 * Epochs by size: fewer for larger sets, whose graphs hold more edges per epoch (umap-js uses
 * 200 past 7,500). Past 15,000 photos 120 kept the same 10-NN purity (0.899 on 25k synthetic)
 * and took UMAP from 81 s to 69 s (bench:projection); 80 epochs, a higher learning rate or
 * 3 negative samples per edge instead of 5 lost purity (0.894–0.898).
 */
export function umapEpochs(n: number): number {
  return n <= 2500 ? 500 : n <= 5000 ? 400 : n <= 7500 ? 300 : n <= 15000 ? 200 : 120;
}

/**
 * umap-js on a neighbour graph found beforehand: its own NN-descent in plain JS over
 * 768-d rows is what makes it slow, and with the graph given it reads the rows only
 * for their number, so it gets empty ones. At 25k photos its fuzzy graph (initializeFit)
 * still takes 9–12 s and 120 epochs 21–27 s: nearly all of a UMAP map's time.
 */
export function umap(graph: Neighbours, settings: UmapSettings): Float32Array {
  const { k } = graph;
  const n = graph.rows.length / k;
  const model = new UMAP({ nComponents: 2, nNeighbors: k + 1, minDist: settings.minDist, nEpochs: settings.epochs, random: settings.random });
  // umap-js counts a point as its own nearest neighbour, at distance 0.
  const indices = Array.from({ length: n }, (_, i) => [i, ...graph.rows.subarray(i * k, (i + 1) * k)]);
  const distances = Array.from({ length: n }, (_, i) => [0, ...Array.from(graph.cosines.subarray(i * k, (i + 1) * k), chordDistance)]);
  model.setPrecomputedKNN(indices, distances);
  model.initializeFit(Array.from({ length: n }, () => []));
  const reportEvery = settings.reportEvery ?? 10;
  for (let done = 1; done <= settings.epochs; done++) {
    model.step();
    if (done % reportEvery === 0 || done === settings.epochs) settings.onEpochs?.(done);
  }
  return Float32Array.from(model.getEmbedding().flat());
}
