import { UserError } from '../errors';
import { copyOut } from '../search/index';
import type { PostprocessMode } from '../search/postprocess';
import { ClassifierTrainer, classifierLogits, type LayerParams, type LayerShape, type StepInput } from './classifier-graph';
import { gatherRows, softmaxRows } from './linalg';
import { mulberry32, shuffled } from '../random';

/**
 * The paper's instance classifier on frozen descriptors: softmax over the catalogue's objects,
 * either linear or with one hidden layer (standardise → FC → ReLU → dropout → FC). The input
 * standardisation uses the training set's statistics, frozen: batch normalisation as it acts
 * at inference time.
 */
export interface ClassifierOptions {
  /** Width of the hidden layer; 0 (default) for a linear classifier. */
  hidden?: number;
  /** Most passes over the training photos (default 60). */
  epochs?: number;
  /** Epochs without a better validation loss before training stops (default 6). */
  patience?: number;
  batchSize?: number;
  learningRate?: number;
  /** Decoupled weight decay (AdamW). */
  weightDecay?: number;
  /** Share of hidden units dropped while training. */
  dropout?: number;
  /**
   * Standardise each input dimension with the training set's statistics (default). Off for
   * whitened descriptors, which are standardised already: the classifier then starts as the
   * prototype classifier itself (cosine to each object's normalised mean).
   */
  standardise?: boolean;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (p: { epoch: number; epochs: number; loss: number; valLoss: number | null; valTop1: number | null }) => void;
}

/** The `standardise` option for descriptors post-processed with `postprocess`: whitened ones are standardised already. */
export function standardiseAfter(postprocess: PostprocessMode | 'none'): boolean {
  return postprocess !== 'whiten';
}

/** Descriptors with their class index (0 … classes−1). */
export interface LabelledRows {
  vectors: Float32Array;
  labels: Int32Array;
}

const MAGIC = 0x43494c41; // "ALIC"
const FORMAT_VERSION = 1;

/** Weights in × out, row-major. */
type Layer = LayerShape & LayerParams;

export class InstanceClassifier {
  constructor(
    /** Class index → catalogue object id. */
    readonly objectIds: Int32Array,
    readonly dims: number,
    private readonly mean: Float32Array,
    private readonly invStd: Float32Array,
    /** One layer (linear) or two (hidden). */
    readonly layers: Layer[],
  ) {}

  get classes(): number {
    return this.objectIds.length;
  }

  /** Unnormalised class scores, n × classes. */
  logits(rows: Float32Array): Promise<Float32Array> {
    return classifierLogits(this.layers, this.layers, this.standardise(rows));
  }

  /** Class probabilities, n × classes. */
  async probabilities(rows: Float32Array): Promise<Float32Array> {
    return softmaxRows(await this.logits(rows), this.classes);
  }

  standardise(rows: Float32Array): Float32Array {
    const x = new Float32Array(rows.length);
    for (let off = 0; off < rows.length; off += this.dims) {
      for (let j = 0; j < this.dims; j++) x[off + j] = (rows[off + j]! - this.mean[j]!) * this.invStd[j]!;
    }
    return x;
  }

  serialise(): Buffer {
    const header = new Uint32Array([MAGIC, FORMAT_VERSION, this.dims, this.classes, this.layers.length, ...this.layers.map((l) => l.outDims)]);
    const arrays = [header, this.objectIds, this.mean, this.invStd, ...this.layers.flatMap((l) => [l.w, l.b])];
    return Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  }

  static deserialise(bytes: Uint8Array): InstanceClassifier {
    const fixed = bytes.byteLength >= 20 ? new Uint32Array(copyOut(bytes, 0, 20)) : null;
    if (!fixed || fixed[0] !== MAGIC || fixed[1] !== FORMAT_VERSION) throw corrupt('it is not an instance classifier of this version');
    const [dims, classes, depth] = [fixed[2]!, fixed[3]!, fixed[4]!];
    const widths = Array.from(new Uint32Array(copyOut(bytes, 20, 20 + depth * 4)));
    let at = 20 + depth * 4;
    const take = <T extends Float32Array | Int32Array>(make: (b: ArrayBuffer) => T, count: number): T => {
      if (at + count * 4 > bytes.byteLength) throw corrupt('it is shorter than its header says');
      const out = make(copyOut(bytes, at, at + count * 4));
      at += count * 4;
      return out;
    };
    const objectIds = take((b) => new Int32Array(b), classes);
    const mean = take((b) => new Float32Array(b), dims);
    const invStd = take((b) => new Float32Array(b), dims);
    const layers = widths.map((outDims, i) => {
      const inDims = i === 0 ? dims : widths[i - 1]!;
      return { inDims, outDims, w: take((b) => new Float32Array(b), inDims * outDims), b: take((b) => new Float32Array(b), outDims) };
    });
    if (at !== bytes.byteLength || widths.at(-1) !== classes) throw corrupt('its length does not match its header');
    return new InstanceClassifier(objectIds, dims, mean, invStd, layers);
  }
}

/**
 * Trains with Adam on mini-batches, each photo's loss weighted inversely to its object's photo
 * count (so well-photographed objects do not dominate), keeping the weights of the epoch with the
 * lowest validation loss and stopping when it has not improved for `patience` epochs.
 */
export async function trainInstanceClassifier(train: LabelledRows, val: LabelledRows | undefined, objectIds: Int32Array, options: ClassifierOptions = {}): Promise<InstanceClassifier> {
  const classes = objectIds.length;
  const n = train.labels.length;
  const dims = train.vectors.length / n;
  if (!Number.isInteger(dims) || n === 0 || classes < 2) {
    throw new UserError('INVALID_ARGUMENT', `A classifier needs photos of at least two objects (got ${n} photos of ${classes}).`, 'Add photos of more objects to the catalogue.');
  }
  const random = mulberry32(options.seed ?? 1);
  const standardise = options.standardise !== false;
  const validating = val !== undefined && val.labels.length > 0;
  const { mean, invStd } = standardise ? columnStats(train.vectors, dims) : { mean: new Float32Array(dims), invStd: new Float32Array(dims).fill(1) };
  const hidden = options.hidden ?? 0;
  const widths = hidden > 0 ? [hidden, classes] : [classes];
  const model = new InstanceClassifier(objectIds, dims, mean, invStd, widths.map((outDims, i) => initialLayer(i === 0 ? dims : widths[i - 1]!, outDims, random)));
  const x = model.standardise(train.vectors);
  if (hidden === 0) startFromPrototypes(model.layers[0]!, x, train.labels, standardise ? 'euclidean' : 'cosine');
  const batches = new Batches(model, x, train.labels, hidden > 0 ? options.dropout ?? 0.5 : 0, random);
  const epochs = options.epochs ?? 60;
  const batchSize = options.batchSize ?? defaultBatchSize(n);
  const trainer = await ClassifierTrainer.create(model.layers, { learningRate: options.learningRate ?? 1e-3, weightDecay: options.weightDecay ?? 1e-4 });
  // The starting point is a candidate too: from prototypes it is often good already, and
  // training on a few photos per object must not return something worse on validation.
  const initial = validating ? await evaluate(model, val) : null;
  let best = { loss: initial?.loss ?? Infinity, layers: snapshot(model.layers) };
  let sinceBest = 0;
  try {
    for (let epoch = 1; epoch <= epochs && sinceBest < (options.patience ?? 6); epoch++) {
      let lossSum = 0;
      const order = shuffled(Array.from({ length: n }, (_, i) => i), random);
      for (let start = 0; start < n; start += batchSize) {
        if (options.signal?.aborted) throw new UserError('CANCELLED', 'Training the classifier was cancelled.', 'Start it again when you are ready.');
        const rows = order.slice(start, start + batchSize);
        lossSum += (await trainer.step(batches.of(rows))) * rows.length;
      }
      const scored = validating ? await evaluate(model, val) : null;
      const monitored = scored?.loss ?? lossSum / n;
      if (monitored < best.loss - 1e-6) [best, sinceBest] = [{ loss: monitored, layers: snapshot(model.layers) }, 0];
      else sinceBest++;
      options.onProgress?.({ epoch, epochs, loss: lossSum / n, valLoss: scored?.loss ?? null, valTop1: scored?.top1 ?? null });
    }
  } finally {
    await trainer.release();
  }
  best.layers.forEach((l, i) => Object.assign(model.layers[i]!, l));
  return model;
}

/**
 * About 64 steps an epoch, 128 to 1,024 photos a batch: small catalogues still get enough
 * updates, large ones fewer, larger matrix products (on 4,000 objects a batch of 512 costs about
 * twice one of 128, not four times).
 */
function defaultBatchSize(photos: number): number {
  return Math.min(1024, Math.max(128, 2 ** Math.round(Math.log2(photos / 64))));
}

/** Mini-batches as the training graph takes them, each photo's loss weighted by its object's class weight. */
class Batches {
  private readonly weights: Float32Array;

  constructor(private readonly model: InstanceClassifier, private readonly x: Float32Array, private readonly labels: Int32Array,
    private readonly dropout: number, private readonly random: () => number) {
    this.weights = classWeights(labels, model.classes);
  }

  of(rows: readonly number[]): StepInput {
    const { dims, classes, layers } = this.model;
    const m = rows.length;
    const target = new Float32Array(m * classes);
    const rowWeight = Float32Array.from(rows, (r, i) => {
      const w = this.weights[this.labels[r]!]! / m;
      target[i * classes + this.labels[r]!] = w;
      return w;
    });
    const masks = layers.slice(0, -1).map((l) => Float32Array.from({ length: m * l.outDims }, () => (this.random() < this.dropout ? 0 : 1 / (1 - this.dropout))));
    return { x: gatherRows(this.x, dims, rows), masks, target, rowWeight };
  }
}

/** Mean cross-entropy and top-1 accuracy on labelled rows (unweighted, no dropout). */
async function evaluate(model: InstanceClassifier, rows: LabelledRows): Promise<{ loss: number; top1: number }> {
  const p = await model.probabilities(rows.vectors);
  let loss = 0;
  let correct = 0;
  rows.labels.forEach((y, i) => {
    const row = p.subarray(i * model.classes, (i + 1) * model.classes);
    loss -= Math.log(Math.max(row[y]!, 1e-12));
    if (row.every((v, j) => v < row[y]! || (v === row[y]! && j >= y))) correct++;
  });
  return { loss: loss / rows.labels.length, top1: correct / rows.labels.length };
}

function columnStats(rows: Float32Array, dims: number): { mean: Float32Array; invStd: Float32Array } {
  const n = rows.length / dims;
  const sum = new Float64Array(dims);
  const sq = new Float64Array(dims);
  for (let off = 0; off < rows.length; off += dims) {
    for (let j = 0; j < dims; j++) {
      sum[j]! += rows[off + j]!;
      sq[j]! += rows[off + j]! ** 2;
    }
  }
  const mean = Float32Array.from(sum, (s) => s / n);
  // The floor keeps constant features (e.g. a ReLU channel never on) from being blown up.
  const invStd = Float32Array.from(sq, (s, j) => 1 / Math.sqrt(Math.max(s / n - mean[j]! ** 2, 0) + 1e-6));
  return { mean, invStd };
}

/** He-initialised weights, zero biases. */
function initialLayer(inDims: number, outDims: number, random: () => number): Layer {
  const scale = Math.sqrt(2 / inDims);
  const w = Float32Array.from({ length: inDims * outDims }, () => (random() * 2 - 1) * scale * Math.sqrt(3));
  return { w, b: new Float32Array(outDims), inDims, outDims };
}

/**
 * A linear classifier starts as a nearest-class-mean classifier, so training refines a good
 * answer instead of searching for one. Euclidean, in the standardised space:
 * logit_c = −(s/d)·|x − μ_c|² + (terms equal for every class) = (s/d)(2x·μ_c − |μ_c|²).
 * Cosine, for unit-length descriptors: logit_c = x·μ_c/|μ_c| / T, the prototype classifier's
 * scores at the retrieval softmax temperature T = 0.05.
 */
function startFromPrototypes(layer: Layer, x: Float32Array, labels: Int32Array, kind: 'euclidean' | 'cosine'): void {
  const { inDims: dims, outDims: classes } = layer;
  const means = new Float32Array(classes * dims);
  const counts = new Float32Array(classes);
  labels.forEach((y, r) => {
    counts[y]!++;
    for (let j = 0; j < dims; j++) means[y * dims + j]! += x[r * dims + j]!;
  });
  for (let c = 0; c < classes; c++) {
    const mu = Float32Array.from({ length: dims }, (_, j) => means[c * dims + j]! / Math.max(counts[c]!, 1));
    const sq = mu.reduce((s, v) => s + v * v, 0);
    const scale = kind === 'cosine' ? 20 / Math.max(Math.sqrt(sq), 1e-12) : 20 / dims;
    mu.forEach((v, j) => { layer.w[j * classes + c] = scale * v; });
    layer.b[c] = kind === 'cosine' ? 0 : -scale * sq / 2;
  }
}

/** Inverse photo counts, scaled so the average photo weighs 1. */
function classWeights(labels: Int32Array, classes: number): Float32Array {
  const counts = new Float32Array(classes);
  for (const y of labels) counts[y]!++;
  return Float32Array.from(counts, (c) => (c > 0 ? labels.length / (classes * c) : 0));
}

function snapshot(layers: Layer[]): Layer[] {
  return layers.map((l) => ({ ...l, w: l.w.slice(), b: l.b.slice() }));
}

function corrupt(why: string): UserError {
  return new UserError('CATALOGUE_INVALID', `The stored instance classifier cannot be read: ${why}.`, 'Train the classifier again.');
}
