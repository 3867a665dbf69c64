import { gaussian } from '../random';
import { chordDistance, type Neighbours } from './neighbours';
import { QuadTree } from './quadtree';

export interface TsneSettings {
  perplexity: number;
  iterations: number;
  random: () => number;
  /** Called every `reportEvery` iterations with how many are done. */
  onIterations?: (done: number) => void;
  reportEvery?: number;
}

const EXAGGERATION = 12;
const EXAGGERATED_ITERATIONS = 250;
/** Barnes–Hut opening angle: cells smaller than θ × their distance count as one point. */
const THETA = 0.5;

/**
 * Barnes–Hut t-SNE (van der Maaten 2014) on a k-nearest-neighbour graph: affinities only
 * between the 3 × perplexity nearest neighbours and repulsion through a quadtree, so memory
 * and time per iteration grow as n log n rather than n² (druidjs's exact t-SNE needs two n × n
 * float64 matrices: 10 GB for 25,000 photos). Learning rate n / 12 after Belkina et al. 2019.
 */
export function tsne(graph: Neighbours, n: number, settings: TsneSettings): Float32Array {
  const affinities = conditionalAffinities(graph, n, settings.perplexity);
  const y = Float64Array.from({ length: n * 2 }, () => gaussian(settings.random) * 1e-4);
  const update = new Float64Array(n * 2);
  const gains = new Float64Array(n * 2).fill(1);
  const learningRate = Math.max(n / EXAGGERATION, 50);
  const reportEvery = settings.reportEvery ?? 10;
  for (let iter = 0; iter < settings.iterations; iter++) {
    const early = iter < EXAGGERATED_ITERATIONS;
    const gradient = gradientAt(y, graph, affinities, n, early ? EXAGGERATION : 1);
    step(y, gradient, update, gains, early ? 0.5 : 0.8, learningRate);
    if ((iter + 1) % reportEvery === 0 || iter + 1 === settings.iterations) settings.onIterations?.(iter + 1);
  }
  return Float32Array.from(y);
}

/**
 * p(j|i) / 2n for each graph edge i → j, each row's Gaussian bandwidth found by bisection so its
 * entropy is log(perplexity). Counting every directed edge towards both ends gives the
 * symmetric p_ij = (p(j|i) + p(i|j)) / 2n without building it.
 */
function conditionalAffinities(graph: Neighbours, n: number, perplexity: number): Float64Array {
  const { k } = graph;
  const out = new Float64Array(n * k);
  const squared = new Float64Array(k);
  const target = Math.log(perplexity);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) squared[j] = chordDistance(graph.cosines[i * k + j]!) ** 2;
    const row = out.subarray(i * k, (i + 1) * k);
    fitBandwidth(squared, row, target);
    for (let j = 0; j < k; j++) row[j]! /= 2 * n;
  }
  return out;
}

/** Fills `p` with the normalised Gaussian kernel of `squared` whose entropy is closest to `target`. */
function fitBandwidth(squared: Float64Array, p: Float64Array, target: number): void {
  const nearest = Math.min(...squared);
  let [beta, low, high] = [1, 0, Number.POSITIVE_INFINITY];
  for (let tries = 0; tries < 64; tries++) {
    let sum = 0;
    let weighted = 0;
    for (let j = 0; j < squared.length; j++) {
      // Shifting by the nearest distance leaves the normalised kernel unchanged and avoids underflow.
      p[j] = Math.exp(-beta * (squared[j]! - nearest));
      sum += p[j]!;
      weighted += p[j]! * (squared[j]! - nearest);
    }
    for (let j = 0; j < p.length; j++) p[j]! /= sum;
    const entropy = Math.log(sum) + (beta * weighted) / sum;
    if (Math.abs(entropy - target) < 1e-5) return;
    if (entropy > target) [low, beta] = [beta, high === Number.POSITIVE_INFINITY ? beta * 2 : (beta + high) / 2];
    else [high, beta] = [beta, (beta + low) / 2];
  }
}

/** dC/dy: attraction along the graph's edges, repulsion from every point through the quadtree. */
function gradientAt(y: Float64Array, graph: Neighbours, affinities: Float64Array, n: number, exaggeration: number): Float64Array {
  const gradient = new Float64Array(n * 2);
  const tree = new QuadTree(y, n);
  const force = new Float64Array(2);
  let normaliser = 0;
  for (let i = 0; i < n; i++) {
    normaliser += tree.repulsion(i, THETA, force);
    gradient[2 * i] = -force[0]!;
    gradient[2 * i + 1] = -force[1]!;
  }
  for (let i = 0; i < n * 2; i++) gradient[i]! /= normaliser;
  const { k } = graph;
  for (let i = 0; i < n; i++) {
    for (let e = i * k; e < (i + 1) * k; e++) {
      const j = graph.rows[e]!;
      const dx = y[2 * i]! - y[2 * j]!;
      const dy = y[2 * i + 1]! - y[2 * j + 1]!;
      const pull = (exaggeration * affinities[e]!) / (1 + dx * dx + dy * dy);
      gradient[2 * i]! += pull * dx;
      gradient[2 * i + 1]! += pull * dy;
      gradient[2 * j]! -= pull * dx;
      gradient[2 * j + 1]! -= pull * dy;
    }
  }
  return gradient;
}

/** Gradient descent with momentum and per-coordinate adaptive gains (Jacobs 1988), then re-centring. */
function step(y: Float64Array, gradient: Float64Array, update: Float64Array, gains: Float64Array, momentum: number, learningRate: number): void {
  const mean = [0, 0];
  for (let i = 0; i < y.length; i++) {
    const g = gradient[i]!;
    gains[i] = Math.max(0.01, Math.sign(g) === Math.sign(update[i]!) ? gains[i]! * 0.8 : gains[i]! + 0.2);
    update[i] = momentum * update[i]! - learningRate * gains[i]! * g;
    y[i]! += update[i]!;
    mean[i & 1]! += y[i]!;
  }
  const n = y.length / 2;
  for (let i = 0; i < y.length; i++) y[i]! -= mean[i & 1]! / n;
}
