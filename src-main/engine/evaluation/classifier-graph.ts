import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../models/onnx/builder';
import { cpuSession, withSession } from '../search/products';

/**
 * The instance classifier's dense work as ONNX graphs on onnxruntime's CPU kernels: forward
 * (logits) and one training step's loss and gradients. Weights are inputs, not initialisers,
 * so one session serves every step of a training run. On 25k photos × 768-d × 4,000 objects
 * this is what turns hours of plain-JS matrix products into minutes.
 */
export interface LayerShape {
  inDims: number;
  outDims: number;
}

export interface LayerParams {
  w: Float32Array;
  b: Float32Array;
}

/** Writes x → (FC → ReLU → ×mask)* → FC; returns the name of the logits and of each layer's input. */
function forwardNodes(g: OnnxGraphBuilder, layers: readonly LayerShape[], withMask: boolean): { logits: string; inputs: string[] } {
  const inputs: string[] = [];
  let a = g.input('x', ['m', layers[0]!.inDims]);
  layers.forEach((layer, i) => {
    inputs.push(a);
    g.input(`w${i}`, [layer.inDims, layer.outDims]);
    g.input(`b${i}`, [layer.outDims]);
    a = g.node('Gemm', [a, `w${i}`, `b${i}`]);
    if (i < layers.length - 1) {
      a = g.node('Relu', [a]);
      if (withMask) a = g.node('Mul', [a, g.input(`mask${i}`, ['m', layer.outDims])]);
    }
  });
  return { logits: a, inputs };
}

function forwardGraph(layers: readonly LayerShape[]): Uint8Array {
  const g = new OnnxGraphBuilder('classifier_forward');
  const { logits } = forwardNodes(g, layers, false);
  g.node('Identity', [logits], {}, 'logits');
  g.output('logits', ['m', layers.at(-1)!.outDims]);
  return g.toBytes('artefact-lens classifier');
}

export interface AdamSettings {
  learningRate: number;
  /** Decoupled weight decay (AdamW), on the weights only. */
  weightDecay: number;
}

const [BETA1, BETA2, EPSILON] = [0.9, 0.999, 1e-8];

/**
 * One training step: weighted cross-entropy, its gradients and the AdamW update, all in the
 * graph so the gradients never leave onnxruntime (an update of 3M parameters in plain JS
 * cost more than the step's matrix products). `target` is the one-hot label times the photo's
 * weight / m and `rowWeight` that weight / m, so `loss` is the batch's weighted mean and
 * d loss / d logits = softmax · rowWeight − target. `c1`, `c2` are Adam's bias corrections
 * 1 / (1 − β^t).
 */
function stepGraph(layers: readonly LayerShape[], adam: AdamSettings): Uint8Array {
  const g = new OnnxGraphBuilder('classifier_step');
  const { logits, inputs } = forwardNodes(g, layers, true);
  const classes = layers.at(-1)!.outDims;
  const target = g.input('target', ['m', classes]);
  const rowWeight = g.input('rowWeight', ['m', 1]);
  const corrections = [g.input('c1', []), g.input('c2', [])] as const;
  const logP = g.node('LogSoftmax', [logits], { axis: 1 });
  g.node('Neg', [g.node('ReduceSum', [g.node('Mul', [target, logP])], { keepdims: 0 })], {}, 'loss');
  g.output('loss', []);
  const rows = g.int64('axis0', [0]);
  let grad = g.node('Sub', [g.node('Mul', [g.node('Exp', [logP]), rowWeight]), target]);
  for (let i = layers.length - 1; i >= 0; i--) {
    const dims = [layers[i]!.inDims, layers[i]!.outDims];
    adamNodes(g, `w${i}`, dims, g.node('Gemm', [inputs[i]!, grad], { transA: 1 }), adam.learningRate, adam.weightDecay, corrections);
    adamNodes(g, `b${i}`, [dims[1]!], g.node('ReduceSum', [grad, rows], { keepdims: 0 }), adam.learningRate, 0, corrections);
    if (i === 0) break;
    // Back through the mask and the ReLU: the layer input is zero exactly where either was off.
    const through = g.node('Gemm', [grad, `w${i}`], { transB: 1 });
    const on = g.node('Cast', [g.node('Greater', [inputs[i]!, g.float(`zero${i}`, [0], [])])], { to: 1 });
    grad = g.node('Mul', [g.node('Mul', [through, `mask${i - 1}`]), on]);
  }
  return g.toBytes('artefact-lens classifier training');
}

/** AdamW on `param` (an input) with its moments `param_m`, `param_v`; outputs their `_next` values. */
function adamNodes(g: OnnxGraphBuilder, param: string, dims: number[], grad: string, lr: number, decay: number, [c1, c2]: readonly [string, string]): void {
  const k = (name: string, value: number) => g.float(`${param}_${name}`, [value], []);
  const [m, v] = [g.input(`${param}_m`, dims), g.input(`${param}_v`, dims)];
  const mNext = g.node('Add', [g.node('Mul', [m, k('beta1', BETA1)]), g.node('Mul', [grad, k('oneMinusBeta1', 1 - BETA1)])], {}, `${param}_m_next`);
  const vNext = g.node('Add', [g.node('Mul', [v, k('beta2', BETA2)]), g.node('Mul', [g.node('Mul', [grad, grad]), k('oneMinusBeta2', 1 - BETA2)])], {}, `${param}_v_next`);
  const denominator = g.node('Add', [g.node('Sqrt', [g.node('Mul', [vNext, c2])]), k('epsilon', EPSILON)]);
  let update = g.node('Div', [g.node('Mul', [mNext, c1]), denominator]);
  if (decay > 0) update = g.node('Add', [update, g.node('Mul', [param, k('decay', decay)])]);
  g.node('Sub', [param, g.node('Mul', [update, k('lr', lr)])], {}, `${param}_next`);
  for (const name of [`${param}_next`, mNext, vNext]) g.output(name, dims);
}


function weightFeeds(layers: readonly LayerShape[], params: readonly LayerParams[]): Record<string, ort.Tensor> {
  return Object.fromEntries(params.flatMap((p, i) => [
    [`w${i}`, new ort.Tensor('float32', p.w, [layers[i]!.inDims, layers[i]!.outDims])],
    [`b${i}`, new ort.Tensor('float32', p.b, [layers[i]!.outDims])],
  ]));
}

/** Rows per forward call: bounds the logits tensor (rows × classes) to ~80 MB at 4,000 classes. */
const FORWARD_CHUNK = 5000;

/** Logits of every row (rows × last layer's width), in chunks. */
export async function classifierLogits(layers: readonly LayerShape[], params: readonly LayerParams[], x: Float32Array): Promise<Float32Array> {
  return withSession(forwardGraph(layers), async (session) => {
    const dims = layers[0]!.inDims;
    const classes = layers.at(-1)!.outDims;
    const n = x.length / dims;
    const out = new Float32Array(n * classes);
    for (let start = 0; start < n; start += FORWARD_CHUNK) {
      const count = Math.min(FORWARD_CHUNK, n - start);
      const input = new ort.Tensor('float32', x.subarray(start * dims, (start + count) * dims), [count, dims]);
      const result = await session.run({ x: input, ...weightFeeds(layers, params) });
      out.set(result.logits!.data as Float32Array, start * classes);
    }
    return out;
  });
}

export interface StepInput {
  x: Float32Array;
  /** Per hidden layer: m × width, 0 for a dropped unit, 1/(1 − dropout) for a kept one. */
  masks: Float32Array[];
  target: Float32Array;
  rowWeight: Float32Array;
}

interface Moments {
  w: { m: Float32Array; v: Float32Array };
  b: { m: Float32Array; v: Float32Array };
}

/** Trains `params` in place (their arrays are replaced at every step); one session for the whole run. */
export class ClassifierTrainer {
  private t = 0;
  private readonly moments: Moments[];

  private constructor(private readonly session: ort.InferenceSession, private readonly layers: readonly LayerShape[], private readonly params: LayerParams[]) {
    const zeros = (n: number) => ({ m: new Float32Array(n), v: new Float32Array(n) });
    this.moments = params.map((p) => ({ w: zeros(p.w.length), b: zeros(p.b.length) }));
  }

  static async create(layers: (LayerShape & LayerParams)[], adam: AdamSettings): Promise<ClassifierTrainer> {
    return new ClassifierTrainer(await cpuSession(stepGraph(layers, adam)), layers, layers);
  }

  /** One AdamW step on a mini-batch; returns the batch's weighted mean loss. */
  async step(input: StepInput): Promise<number> {
    const { layers } = this;
    const m = input.rowWeight.length;
    this.t++;
    const tensor = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
    const state = this.params.flatMap((p, i) => {
      const dims = { w: [layers[i]!.inDims, layers[i]!.outDims], b: [layers[i]!.outDims] };
      return (['w', 'b'] as const).flatMap((k) => [
        [`${k}${i}`, tensor(p[k], dims[k])], [`${k}${i}_m`, tensor(this.moments[i]![k].m, dims[k])], [`${k}${i}_v`, tensor(this.moments[i]![k].v, dims[k])],
      ]);
    });
    const result = await this.session.run({
      ...Object.fromEntries(state),
      x: tensor(input.x, [m, layers[0]!.inDims]),
      ...Object.fromEntries(input.masks.map((mask, i) => [`mask${i}`, tensor(mask, [m, layers[i]!.outDims])])),
      target: tensor(input.target, [m, layers.at(-1)!.outDims]),
      rowWeight: tensor(input.rowWeight, [m, 1]),
      c1: tensor(Float32Array.of(1 / (1 - BETA1 ** this.t)), []),
      c2: tensor(Float32Array.of(1 / (1 - BETA2 ** this.t)), []),
    });
    const out = (name: string) => result[name]!.data as Float32Array;
    this.params.forEach((p, i) => (['w', 'b'] as const).forEach((k) => {
      p[k] = out(`${k}${i}_next`);
      this.moments[i]![k] = { m: out(`${k}${i}_m_next`), v: out(`${k}${i}_v_next`) };
    }));
    return out('loss')[0]!;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
