import type { TfjsBundle } from '../tfjs/bundle';
import { OnnxGraphBuilder, hwioToOihw, samePadding, validSize } from '../onnx/builder';
import { addOutputs, type ConvertOptions } from './outputs';

/** A node of a TFJS graph model (GraphDef-style JSON). */
interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { s?: string; i?: string; list?: { i?: string[]; s?: string[] }; shape?: { dim: { size: string }[] } }>;
}

/** Channels, height, width (batch is dynamic); [] for a constant scalar. */
interface Tensor {
  name: string;
  shape: number[];
}

const text = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString();
const ints = (node: GraphNode, key: string) => (node.attr?.[key]?.list?.i ?? []).map(Number);
/** Data inputs of a node: control dependencies ("^x") dropped, output index (":0") stripped. */
const dataInputs = (node: GraphNode) => (node.input ?? []).filter((i) => !i.startsWith('^')).map((i) => i.replace(/:0$/, ''));

/**
 * Converts a TFJS graph model (NHWC convolutions with fused bias and ReLU6, as TF-Hub's
 * MobileNetV2 uses) to ONNX, channels-first inside, up to `options.stopAt`.
 */
export function convertGraphModel(bundle: TfjsBundle, options: ConvertOptions): Uint8Array {
  const nodes = (bundle.model.modelTopology as { node: GraphNode[] }).node;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (const name of [options.stopAt, options.cellsAt ?? options.stopAt]) if (!byName.has(name)) throw new Error(`node ${name} is not in the model`);
  const b = new OnnxGraphBuilder(options.stopAt);
  const tensors = new Map<string, Tensor>();
  const relu6 = { min: b.float('relu6_min', [0], []), max: b.float('relu6_max', [6], []) };

  const visit = (name: string): Tensor => {
    const known = tensors.get(name);
    if (known) return known;
    const node = byName.get(name)!;
    const inputs = node.op === 'Const' ? [] : dataInputs(node).map(visit);
    const t = convertNode(b, node, inputs, bundle, options, relu6);
    tensors.set(name, t);
    return t;
  };
  const featuremap = visit(options.stopAt);
  if (options.cellsAt && !tensors.has(options.cellsAt)) throw new Error(`node ${options.cellsAt} does not come before ${options.stopAt}`);
  addOutputs(b, featuremap, options, options.cellsAt ? tensors.get(options.cellsAt) : undefined);
  return b.toBytes('artefact-lens tfjs-graph converter');
}

function convertNode(
  b: OnnxGraphBuilder, node: GraphNode, inputs: Tensor[], bundle: TfjsBundle,
  options: ConvertOptions, relu6: { min: string; max: string },
): Tensor {
  switch (node.op) {
    case 'Placeholder': {
      const [, h, w, c] = node.attr!.shape!.shape!.dim.map((d) => Number(d.size));
      b.input(options.inputName, ['batch', h, w, c]);
      return { name: b.node('Transpose', [options.inputName], { perm: [0, 3, 1, 2] }), shape: [c, h, w] };
    }
    case 'Const': {
      const w = bundle.weights.get(node.name);
      if (!w) throw new Error(`constant ${node.name} has no weights in the bundle`);
      // Kernels are consumed by the convolutions, which reorder them; scalars go in as they are.
      return { name: w.shape.length === 0 ? b.weight(w, []) : node.name, shape: w.shape };
    }
    case 'Mul':
    case 'Sub':
    case 'AddV2':
      return { name: b.node(node.op === 'AddV2' ? 'Add' : node.op, inputs.map((t) => t.name)), shape: inputs[0].shape.length ? inputs[0].shape : inputs[1].shape };
    case '_FusedConv2D':
    case 'FusedDepthwiseConv2dNative':
      return fusedConv(b, node, inputs, bundle, relu6);
    default:
      throw new Error(`${node.name}: TF op ${node.op} is not supported by the converter`);
  }
}

function fusedConv(
  b: OnnxGraphBuilder, node: GraphNode, [x, kernelRef, biasRef]: Tensor[], bundle: TfjsBundle,
  relu6: { min: string; max: string },
): Tensor {
  if (text(node.attr?.data_format?.s) !== 'NHWC') throw new Error(`${node.name}: only NHWC convolutions are supported`);
  const fused = (node.attr?.fused_ops?.list?.s ?? []).map(text);
  if (fused[0] !== 'BiasAdd' || fused.slice(1).some((op) => op !== 'Relu6')) {
    throw new Error(`${node.name}: fused ops ${fused.join('+')} are not supported`);
  }
  const kernel = bundle.weights.get(kernelRef.name)!;
  const bias = bundle.weights.get(biasRef.name)!;
  const [kh, kw, cin, k3] = kernel.shape;
  const depthwise = node.op === 'FusedDepthwiseConv2dNative';
  const cout = depthwise ? cin * k3 : k3;
  const strides = ints(node, 'strides').slice(1, 3);
  const dilations = ints(node, 'dilations').slice(1, 3);
  const [, h, w] = x.shape;
  let pads = [0, 0, 0, 0];
  let out = [validSize(h, kh, strides[0], dilations[0]), validSize(w, kw, strides[1], dilations[1])];
  if (text(node.attr?.padding?.s) === 'SAME') {
    const [top, bottom, oh] = samePadding(h, kh, strides[0], dilations[0]);
    const [left, right, ow] = samePadding(w, kw, strides[1], dilations[1]);
    pads = [top, left, bottom, right];
    out = [oh, ow];
  }
  const weights = depthwise
    // TF depthwise [kh, kw, in, multiplier] is ONNX's grouped [in * multiplier, 1, kh, kw].
    ? b.weight(kernel, [cout, 1, kh, kw], (v) => hwioToOihw(v, [kh, kw, 1, cout]))
    : b.weight(kernel, [cout, cin, kh, kw], (v) => hwioToOihw(v, kernel.shape));
  let y = b.node('Conv', [x.name, weights, b.weight(bias, [cout])], {
    kernel_shape: [kh, kw], strides, dilations, pads, group: depthwise ? cin : 1,
  });
  if (fused.includes('Relu6')) y = b.node('Clip', [y, relu6.min, relu6.max]);
  return { name: y, shape: [cout, out[0], out[1]] };
}
