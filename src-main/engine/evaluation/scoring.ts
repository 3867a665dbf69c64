import { RETRIEVAL_TEMPERATURE } from '../identify/instance-classifier';
import { normaliseRows } from '../search/vectors';
import { trainInstanceClassifier, type ClassifierOptions } from './classifier';
import type { EvalPhoto } from './dataset';
import { gatherRows, matmulTransposed, softmaxRows } from './linalg';

/**
 * - knn: an object scores as its nearest train photo (cosine);
 * - prototype: cosine with the normalised mean of its train photos;
 * - linear: the trained instance classifier (softmax over objects).
 */
export type ClassifierKind = 'knn' | 'prototype' | 'linear';
export const CLASSIFIERS: readonly ClassifierKind[] = ['knn', 'prototype', 'linear'];

/** The objects a classifier can answer: those with train photos. Class c is objectIds[c]. */
export interface ClassSpace {
  objectIds: Int32Array;
  classOf: Map<number, number>;
}

export function classSpace(photos: readonly EvalPhoto[], train: readonly number[]): ClassSpace {
  const objectIds = Int32Array.from(new Set(train.map((r) => photos[r]!.objectId))).sort();
  return { objectIds, classOf: new Map(Array.from(objectIds, (id, c) => [id, c])) };
}

/** Class of each row; −1 for an object the space does not hold. */
export function labelsOf(photos: readonly EvalPhoto[], rows: readonly number[], space: ClassSpace): Int32Array {
  return Int32Array.from(rows, (r) => space.classOf.get(photos[r]!.objectId) ?? -1);
}

export interface ScoringInput {
  photos: readonly EvalPhoto[];
  vectors: Float32Array;
  dims: number;
  train: readonly number[];
  /** Rows for early stopping (linear only); rows also in train are left out of its training. */
  val: readonly number[];
  queries: readonly number[];
  space: ClassSpace;
}

export interface ClassProbabilities {
  /** queries × classes: cosines for retrieval, logits for the classifier. */
  scores: Float32Array;
  /** queries × classes, each row summing to 1 (what ensembles average). */
  probabilities: Float32Array;
}

/** Scores every query against every class; retrieval scores become probabilities by a softmax at `temperature`. */
export async function scoreQueries(kind: ClassifierKind, input: ScoringInput, options: { temperature?: number; classifier?: ClassifierOptions } = {}): Promise<ClassProbabilities> {
  const q = gatherRows(input.vectors, input.dims, input.queries);
  const scores = kind === 'linear' ? await linearScores(input, q, options.classifier) : retrievalScores(kind, input, q);
  const probabilities = kind === 'linear' ? softmaxRows(scores.slice(), input.space.objectIds.length)
    : softmaxRows(scores.slice(), input.space.objectIds.length, options.temperature ?? RETRIEVAL_TEMPERATURE);
  return { scores, probabilities };
}

function retrievalScores(kind: 'knn' | 'prototype', input: ScoringInput, q: Float32Array): Float32Array {
  const { dims, space } = input;
  const classes = space.objectIds.length;
  const nq = input.queries.length;
  const trainLabels = labelsOf(input.photos, input.train, space);
  const train = gatherRows(input.vectors, dims, input.train);
  if (kind === 'prototype') return matmulTransposed(q, prototypes(train, trainLabels, dims, classes), nq, dims, classes);
  const sims = matmulTransposed(q, train, nq, dims, input.train.length);
  const scores = new Float32Array(nq * classes).fill(-Infinity);
  for (let i = 0; i < nq; i++) {
    for (let t = 0; t < input.train.length; t++) {
      const at = i * classes + trainLabels[t]!;
      scores[at] = Math.max(scores[at]!, sims[i * input.train.length + t]!);
    }
  }
  return scores;
}

/** Normalised mean of each class's rows. */
export function prototypes(rows: Float32Array, labels: Int32Array, dims: number, classes: number): Float32Array {
  const out = new Float32Array(classes * dims);
  labels.forEach((y, r) => {
    for (let j = 0; j < dims; j++) out[y * dims + j]! += rows[r * dims + j]!;
  });
  return normaliseRows(out, dims);
}

async function linearScores(input: ScoringInput, q: Float32Array, options: ClassifierOptions = {}): Promise<Float32Array> {
  const valSet = new Set(input.val);
  const trainRows = input.train.filter((r) => !valSet.has(r));
  const val = input.val.filter((r) => input.space.classOf.has(input.photos[r]!.objectId));
  const labelled = (rows: readonly number[]) => ({ vectors: gatherRows(input.vectors, input.dims, rows), labels: labelsOf(input.photos, rows, input.space) });
  const classifier = await trainInstanceClassifier(labelled(trainRows), val.length > 0 ? labelled(val) : undefined, input.space.objectIds, options);
  return classifier.logits(q);
}

/** Mean of several models' class probabilities (same queries, same class space). */
export function ensemble(members: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(members[0]!.length);
  for (const m of members) for (let j = 0; j < out.length; j++) out[j]! += m[j]! / members.length;
  return out;
}
