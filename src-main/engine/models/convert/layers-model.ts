import type { StoredWeight, TfjsBundle } from '../tfjs/bundle';
import { OnnxGraphBuilder, hwioToOihw, samePadding, validSize } from '../onnx/builder';
import { addOutputs, type ConvertOptions } from './outputs';

/** A Keras layer as the TFJS layers-model JSON stores it. */
interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown> & { name: string };
  inbound_nodes: [string, number, number, unknown][][];
}

/** Channels, height, width of a tensor (batch is dynamic). */
type Shape = [number, number, number];

interface Tensor {
  name: string;
  shape: Shape;
}

/**
 * Converts a Keras layers model (channels-last) to ONNX (channels-first inside), keeping only
 * the layers that `options.stopAt` depends on.
 */
export function convertLayersModel(bundle: TfjsBundle, options: ConvertOptions): Uint8Array {
  const topology = bundle.model.modelTopology as { model_config: { config: { layers: KerasLayer[] } } };
  const layers = ancestors(topology.model_config.config.layers, options.stopAt);
  const b = new OnnxGraphBuilder(options.stopAt);
  const tensors = new Map<string, Tensor>();
  const weight = (layer: KerasLayer, key: string): StoredWeight | undefined => bundle.weights.get(`${layer.name}/${key}`);

  for (const layer of layers) {
    const inputs = (layer.inbound_nodes[0] ?? []).map(([src]) => tensors.get(src)!);
    tensors.set(layer.name, convertLayer(b, layer, inputs, weight, options));
  }
  if (options.cellsAt && !tensors.has(options.cellsAt)) throw new Error(`layer ${options.cellsAt} does not come before ${options.stopAt}`);
  addOutputs(b, tensors.get(options.stopAt)!, options, options.cellsAt ? tensors.get(options.cellsAt) : undefined);
  return b.toBytes('artefact-lens tfjs-layers converter');
}

/** Layers `stopAt` depends on, in the file's (topological) order. */
function ancestors(layers: KerasLayer[], stopAt: string): KerasLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  if (!byName.has(stopAt)) throw new Error(`layer ${stopAt} is not in the model`);
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name)) return;
    needed.add(name);
    for (const [src] of byName.get(name)!.inbound_nodes[0] ?? []) visit(src);
  };
  visit(stopAt);
  return layers.filter((l) => needed.has(l.name));
}

type WeightOf = (layer: KerasLayer, key: string) => StoredWeight | undefined;

function convertLayer(b: OnnxGraphBuilder, layer: KerasLayer, inputs: Tensor[], weight: WeightOf, options: ConvertOptions): Tensor {
  const c = layer.config;
  switch (layer.class_name) {
    case 'InputLayer': {
      const [, h, w, ch] = c.batch_input_shape as number[];
      b.input(options.inputName, ['batch', h, w, ch]);
      return { name: b.node('Transpose', [options.inputName], { perm: [0, 3, 1, 2] }), shape: [ch, h, w] };
    }
    case 'Conv2D':
      return activation(b, conv2d(b, layer, inputs[0], weight), c.activation as string);
    case 'BatchNormalization':
      return batchNorm(b, layer, inputs[0], weight);
    case 'Activation':
      return activation(b, inputs[0], c.activation as string);
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return pool(b, layer, inputs[0]);
    case 'Concatenate':
      if (![-1, 3].includes(c.axis as number)) throw new Error(`${layer.name}: only channel concatenation is supported`);
      return {
        name: b.node('Concat', inputs.map((t) => t.name), { axis: 1 }),
        shape: [inputs.reduce((s, t) => s + t.shape[0], 0), inputs[0].shape[1], inputs[0].shape[2]],
      };
    default:
      throw new Error(`${layer.name}: Keras layer ${layer.class_name} is not supported by the converter`);
  }
}

/** Explicit ONNX pads [top, left, bottom, right] and output size for TF padding modes. */
function padding(mode: string, [, h, w]: Shape, kernel: number[], strides: number[], dilation = [1, 1]) {
  if (mode === 'valid') {
    return { pads: [0, 0, 0, 0], h: validSize(h, kernel[0], strides[0], dilation[0]), w: validSize(w, kernel[1], strides[1], dilation[1]) };
  }
  if (mode !== 'same') throw new Error(`padding ${mode} is not supported`);
  const [top, bottom, oh] = samePadding(h, kernel[0], strides[0], dilation[0]);
  const [left, right, ow] = samePadding(w, kernel[1], strides[1], dilation[1]);
  return { pads: [top, left, bottom, right], h: oh, w: ow };
}

function conv2d(b: OnnxGraphBuilder, layer: KerasLayer, x: Tensor, weight: WeightOf): Tensor {
  const c = layer.config;
  const kernel = weight(layer, 'kernel')!;
  const [kh, kw, cin, cout] = kernel.shape;
  const strides = c.strides as number[];
  const dilations = c.dilation_rate as number[];
  const { pads, h, w } = padding(c.padding as string, x.shape, [kh, kw], strides, dilations);
  const inputs = [x.name, b.weight(kernel, [cout, cin, kh, kw], (v) => hwioToOihw(v, kernel.shape))];
  const bias = c.use_bias ? weight(layer, 'bias') : undefined;
  if (bias) inputs.push(b.weight(bias, [cout]));
  return {
    name: b.node('Conv', inputs, { kernel_shape: [kh, kw], strides, dilations, pads }),
    shape: [cout, h, w],
  };
}

function batchNorm(b: OnnxGraphBuilder, layer: KerasLayer, x: Tensor, weight: WeightOf): Tensor {
  const channels = x.shape[0];
  const constant = (key: string, value: number) =>
    b.float(`${layer.name}_${key}`, new Float32Array(channels).fill(value), [channels]);
  const gamma = weight(layer, 'gamma');
  const beta = weight(layer, 'beta');
  const inputs = [
    x.name,
    gamma ? b.weight(gamma, [channels]) : constant('gamma', 1),
    beta ? b.weight(beta, [channels]) : constant('beta', 0),
    b.weight(weight(layer, 'moving_mean')!, [channels]),
    b.weight(weight(layer, 'moving_variance')!, [channels]),
  ];
  return { name: b.node('BatchNormalization', inputs, { epsilon: layer.config.epsilon as number }), shape: x.shape };
}

function activation(b: OnnxGraphBuilder, x: Tensor, kind: string): Tensor {
  if (kind === 'linear') return x;
  if (kind === 'relu') return { name: b.node('Relu', [x.name]), shape: x.shape };
  throw new Error(`activation ${kind} is not supported by the converter`);
}

function pool(b: OnnxGraphBuilder, layer: KerasLayer, x: Tensor): Tensor {
  const c = layer.config;
  const kernel = c.pool_size as number[];
  const strides = c.strides as number[];
  const { pads, h, w } = padding(c.padding as string, x.shape, kernel, strides);
  // TF's "same" average pooling divides by the pixels inside the image only.
  const max = layer.class_name === 'MaxPooling2D';
  const attrs: Record<string, number[] | number> = { kernel_shape: kernel, strides, pads };
  if (!max) attrs.count_include_pad = 0;
  return { name: b.node(max ? 'MaxPool' : 'AveragePool', [x.name], attrs), shape: [x.shape[0], h, w] };
}
