import { startEngineWorker } from '../threads';
import { ObjectRanker, type AggregationMethod } from './aggregate';
import type { FittedSpace, LabelledRows } from './calibrate';
import { FlatIndex } from './index';
import { Postprocessor } from './postprocess';
import type { WhiteningReply, WhiteningRequest } from './whitening-worker';

/** The rows followed by one row per object: the sum of its rows (whitening normalises every row, so a sum is its mean). */
export function withPrototypes(vectors: Float32Array, objectIds: ArrayLike<number>, dims: number): Float32Array {
  const sums = new Map<number, Float32Array>();
  Array.from(objectIds).forEach((id, row) => {
    const sum = sums.get(id) ?? sums.set(id, new Float32Array(dims)).get(id)!;
    for (let j = 0; j < dims; j++) sum[j]! += vectors[row * dims + j]!;
  });
  const out = new Float32Array(vectors.length + sums.size * dims);
  out.set(vectors);
  [...sums.values()].forEach((s, i) => out.set(s, vectors.length + i * dims));
  return out;
}

/**
 * Whitened dimensions identification keeps, and so the evaluation: on large catalogues it bounds
 * the fit and every search to 512 dimensions instead of 2560. Grocery-dev (catalogue + train →
 * val, about 700 photos) lost nothing by it: top-1 87 % with 512 and with all 699.
 */
export const WHITENED_COMPONENTS = 512;

export interface WhiteningFit {
  /** Learn from the rows and each object's prototype too (as identification does). */
  prototypes: boolean;
  /** Whitened dimensions kept. */
  components?: number;
  /** Axes to start from (WhiteningOptions.start). */
  start?: Float32Array;
}

/** PCA whitening learned from labelled rows, with each object's prototype among them if asked. */
export function fitWhitening(rows: LabelledRows, fit: WhiteningFit): Promise<Postprocessor> {
  const training = fit.prototypes ? withPrototypes(rows.vectors, rows.objectIds, rows.dims) : rows.vectors;
  return Postprocessor.fit(training, rows.dims, { mode: 'whiten', components: fit.components, start: fit.start });
}

/** Learns a catalogue's ranking space (its post-processing) from rows: all of them, or a calibration fold's. */
export type SpaceLearner = (rows: LabelledRows) => Promise<Postprocessor | undefined>;

/**
 * How identification learns its space for `postprocess`: whitening with `whitening`'s settings
 * (by `fit`, in this thread or a worker), centring on the rows, or nothing; or, when one is
 * given, a post-processing learned elsewhere (evaluation's whitening learned from unlabelled
 * query photos) that every fold keeps as is.
 */
export function spaceLearner(postprocess: 'none' | 'centre' | 'whiten', whitening: WhiteningFit,
  options: { fixed?: Postprocessor; fit?: typeof fitWhitening } = {}): SpaceLearner {
  const { fixed, fit = fitWhitening } = options;
  if (fixed) return async () => fixed;
  if (postprocess === 'whiten') return (rows) => fit(rows, whitening);
  if (postprocess === 'centre') return (rows) => Postprocessor.fit(rows.vectors, rows.dims, { mode: 'centre' });
  return async () => undefined;
}

/** fitWhitening in a worker thread: the caller's thread stays free, and several fits run at once. */
export function fitWhiteningApart(rows: LabelledRows, fit: WhiteningFit): Promise<Postprocessor> {
  const worker = startEngineWorker(import.meta.url, 'whitening-worker');
  return new Promise((resolve, reject) => {
    worker.once('message', (reply: WhiteningReply) => {
      void worker.terminate();
      if (reply.kind === 'done') resolve(Postprocessor.deserialise(reply.bytes));
      else reject(new Error(`Fitting the whitening failed: ${reply.what}`));
    });
    worker.once('error', (e) => {
      void worker.terminate();
      reject(e);
    });
    // After a reply this rejects nothing; before one, the worker died (out of memory).
    worker.once('exit', (code) => reject(new Error(`The whitening worker stopped (exit code ${code}) before finishing.`)));
    worker.postMessage({ rows, fit } satisfies WhiteningRequest);
  });
}

/**
 * The space `postprocessor` maps into (raw rows if none), holding `rows`: a query's score there
 * is its best object's, as `aggregation` ranks them.
 */
export async function rankingSpace(rows: LabelledRows, postprocessor: Postprocessor | undefined, aggregation: AggregationMethod): Promise<FittedSpace> {
  const map = async (vectors: Float32Array) => (postprocessor ? postprocessor.applyMany(vectors) : vectors);
  const index = new FlatIndex(postprocessor?.outDims ?? rows.dims);
  index.add(Int32Array.from(rows.objectIds.keys()), rows.objectIds, await map(rows.vectors));
  const ranker = new ObjectRanker(index);
  return { map, topScores: (queries) => ranker.topScores(queries, aggregation), dims: index.dims };
}
