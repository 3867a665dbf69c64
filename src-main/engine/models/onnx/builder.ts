import onnxProto from 'onnx-proto';
import type { StoredWeight } from '../tfjs/bundle';

const { onnx } = onnxProto;
type Attr = number | number[] | string;

/** IR 8 / opset 17: understood by every onnxruntime build we ship, old and new. */
const IR_VERSION = 8;
const OPSET = 17;

/**
 * A small ONNX graph writer: nodes with automatic output names, float and uint8-quantised
 * initialisers, and static shape bookkeeping left to the converters that know their layers.
 */
export class OnnxGraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private counter = 0;

  constructor(private readonly graphName: string) {}

  input(name: string, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, dims: (number | string)[], type: 'float' | 'int64' = 'float'): void {
    this.outputs.push(valueInfo(name, dims, type));
  }

  /** Adds a node and returns the name of its (single) output. */
  node(opType: string, inputs: string[], attributes: Record<string, Attr> = {}, output?: string): string {
    const out = output ?? `${opType.toLowerCase()}_${this.counter++}`;
    this.nodeWithOutputs(opType, inputs, [out], attributes);
    return out;
  }

  /** Adds a node with several named outputs (TopK: values and indices). */
  nodeWithOutputs(opType: string, inputs: string[], outputs: string[], attributes: Record<string, Attr> = {}): void {
    this.nodes.push(onnx.NodeProto.create({
      opType,
      name: outputs[0],
      input: inputs,
      output: outputs,
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    }));
  }

  float(name: string, values: Float32Array | number[], dims: number[]): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    this.initializers.push(onnx.TensorProto.create({
      name,
      dims,
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    }));
    return name;
  }

  int64(name: string, values: number[]): string {
    this.initializers.push(onnx.TensorProto.create({
      name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values,
    }));
    return name;
  }

  /**
   * Stores uint8 values and decodes them in the graph as `q * scale + min` (Cast, Mul, Add):
   * the file stays ~4x smaller and onnxruntime folds the decoding into constants at load.
   */
  quantised(name: string, values: Uint8Array, dims: number[], scale: number, min: number): string {
    this.initializers.push(onnx.TensorProto.create({
      name: `${name}_q`, dims, dataType: onnx.TensorProto.DataType.UINT8, rawData: values,
    }));
    const asFloat = this.node('Cast', [`${name}_q`], { to: onnx.TensorProto.DataType.FLOAT });
    const scaled = this.node('Mul', [asFloat, this.float(`${name}_scale`, [scale], [])]);
    return this.node('Add', [scaled, this.float(`${name}_min`, [min], [])], {}, name);
  }

  /** A TFJS weight as an initialiser, kept quantised where it was; `reorder` permutes its elements. */
  weight(w: StoredWeight, dims: number[], reorder?: <T extends Uint8Array | Float32Array>(v: T) => T): string {
    const name = w.name.replace(/[^A-Za-z0-9_]/g, '_');
    if (w.quantised) {
      const q = reorder ? reorder(w.quantised.values) : w.quantised.values;
      return this.quantised(name, q, dims, w.quantised.scale, w.quantised.min);
    }
    return this.float(name, reorder ? reorder(w.values) : w.values, dims);
  }

  toBytes(producer: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: producer,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: (number | string)[], type: 'float' | 'int64' = 'float') {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: type === 'float' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function attribute(name: string, value: Attr) {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: value });
  return Number.isInteger(value)
    ? onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value })
    : onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value });
}

/** TF "SAME" padding for one spatial axis: output ceil(in / stride), extra pixel after. */
export function samePadding(size: number, kernel: number, stride: number, dilation = 1): [number, number, number] {
  const out = Math.ceil(size / stride);
  const effective = (kernel - 1) * dilation + 1;
  const total = Math.max((out - 1) * stride + effective - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2), out];
}

/** TF "VALID" output size. */
export function validSize(size: number, kernel: number, stride: number, dilation = 1): number {
  return Math.floor((size - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

/** Reorders a TF kernel [kh, kw, in, out] into ONNX's [out, in, kh, kw]. */
export function hwioToOihw<T extends Uint8Array | Float32Array>(values: T, [kh, kw, cin, cout]: number[]): T {
  const out = new (values.constructor as new (n: number) => T)(values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = values[((y * kw + x) * cin + i) * cout + o];
  return out;
}
