import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../models/onnx/builder';

/** Rows per call: bounds the input tensor to ~100 MB at 2560 dimensions. */
const CHUNK = 10_000;

/**
 * Multiplies every row of `rows` (n x inDims) by `weights` (outDims x inDims, row-major), as a
 * one-node ONNX graph on onnxruntime's CPU kernels: for a whitening of 25k photos from 2560
 * to 512 dimensions that is seconds instead of over a minute of plain JS.
 */
export async function projectRows(rows: Float32Array, inDims: number, weights: Float32Array, outDims: number): Promise<Float32Array> {
  const b = new OnnxGraphBuilder('project');
  b.input('rows', ['n', inDims]);
  const transposed = new Float32Array(inDims * outDims);
  for (let c = 0; c < outDims; c++) for (let j = 0; j < inDims; j++) transposed[j * outDims + c] = weights[c * inDims + j];
  b.node('MatMul', ['rows', b.float('weights', transposed, [inDims, outDims])], {}, 'projected');
  b.output('projected', ['n', outDims]);
  const session = await ort.InferenceSession.create(b.toBytes('artefact-lens projection'), { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    const n = rows.length / inDims;
    const out = new Float32Array(n * outDims);
    for (let start = 0; start < n; start += CHUNK) {
      const count = Math.min(CHUNK, n - start);
      const input = new ort.Tensor('float32', rows.subarray(start * inDims, (start + count) * inDims), [count, inDims]);
      out.set((await session.run({ rows: input })).projected.data as Float32Array, start * outDims);
    }
    return out;
  } finally {
    await session.release();
  }
}
