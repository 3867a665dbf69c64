import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

/**
 * nsfwjs ships each TFJS file as a UMD bundle (`module.exports = {...}` for the model JSON,
 * a base64 string for each weight shard). Evaluating them in an empty context reads them
 * without giving the bundle access to anything of ours.
 */
function evaluateBundle(path: string): unknown {
  const module = { exports: {} as unknown };
  runInNewContext(readFileSync(path, 'utf8'), { module, exports: module.exports }, { filename: path });
  // Re-create the value in this realm: objects from the sandbox fail `instanceof Array` here.
  return JSON.parse(JSON.stringify(module.exports));
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'uint8' | 'uint16'; scale: number; min: number };
}

/** A weight as stored: quantised values with their affine decoding, or plain float32. */
export interface StoredWeight {
  name: string;
  shape: number[];
  quantised?: { values: Uint8Array; scale: number; min: number };
  values: Float32Array;
}

export interface TfjsBundle {
  /** The model JSON (layers-model or graph-model format) without the weight manifest. */
  model: { format?: string; modelTopology: unknown };
  weights: Map<string, StoredWeight>;
  /** The bundle files read, relative to the model folder. */
  files: string[];
}

const BYTES: Record<string, number> = { uint8: 1, uint16: 2, float32: 4, int32: 4 };

/** The model JSON, the weight specs and all shards' bytes, as tfjs's own loaders take them. */
export interface TfjsArtifacts {
  model: TfjsBundle['model'];
  weightSpecs: WeightSpec[];
  weightData: Buffer;
  files: string[];
}

export function readTfjsArtifacts(dir: string): TfjsArtifacts {
  const json = evaluateBundle(join(dir, 'model.min.js')) as TfjsBundle['model'] & {
    weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  };
  const files = ['model.min.js'];
  const shards: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      files.push(`${p}.min.js`);
      shards.push(Buffer.from(evaluateBundle(join(dir, `${p}.min.js`)) as string, 'base64'));
    }
  }
  return {
    model: { format: json.format, modelTopology: json.modelTopology },
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: Buffer.concat(shards),
    files,
  };
}

export function readTfjsBundle(dir: string): TfjsBundle {
  const { model, weightSpecs, weightData, files } = readTfjsArtifacts(dir);
  const weights = new Map<string, StoredWeight>();
  let offset = 0;
  for (const spec of weightSpecs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const size = count * BYTES[spec.quantization?.dtype ?? spec.dtype];
    weights.set(spec.name, decodeWeight(spec, weightData.subarray(offset, offset + size), count));
    offset += size;
  }
  if (offset !== weightData.length) throw new Error(`weight manifest of ${dir} covers ${offset} of ${weightData.length} bytes`);
  return { model, weights, files };
}

function decodeWeight(spec: WeightSpec, bytes: Buffer, count: number): StoredWeight {
  const q = spec.quantization;
  if (!q) {
    if (spec.dtype !== 'float32') throw new Error(`weight ${spec.name}: unsupported dtype ${spec.dtype}`);
    return { name: spec.name, shape: spec.shape, values: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) };
  }
  if (q.dtype !== 'uint8') throw new Error(`weight ${spec.name}: unsupported quantisation ${q.dtype}`);
  const raw = new Uint8Array(bytes);
  // As tfjs-core decodes them: value = q * scale + min.
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = raw[i] * q.scale + q.min;
  return { name: spec.name, shape: spec.shape, quantised: { values: raw, scale: q.scale, min: q.min }, values };
}
