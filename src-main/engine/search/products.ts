import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../models/onnx/builder';

/**
 * Matrix products on onnxruntime's CPU kernels, for whitening and the catalogue map. At 25k × 768
 * the map's PCA and the projection of every row took 7–9 CPU s in plain JS and its neighbour graph
 * 5–9 s in usearch's single-thread HNSW; here they take ~0.5 s and ~2 s (bench:projection on 2
 * shared cores). Whitening 25k photos from 2560 to 512 dimensions: seconds instead of over a minute.
 */

/** Values per call (16 MB of float32): bounds each call's input block and its scores. */
const CELLS_PER_CALL = 1 << 22;
const PRODUCER = 'artefact-lens products';

/** A session of one of our own small graphs, on onnxruntime's CPU kernels. */
export function cpuSession(graph: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(graph, { executionProviders: ['cpu'], logSeverityLevel: 3 });
}

/** Runs `use` with a session of `graph`, released after: that frees its memory arena (~130 MB of scores at 25k rows) before UMAP. */
export async function withSession<T>(graph: Uint8Array, use: (session: ort.InferenceSession) => Promise<T>): Promise<T> {
  const session = await cpuSession(graph);
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

/** One Gemm, Y = op(a) · op(b), with `transposed` naming which of its inputs are transposed first. */
function gemmGraph(transposed: { transA?: number; transB?: number }): Uint8Array {
  const b = new OnnxGraphBuilder('product');
  b.node('Gemm', [b.input('a', ['a_rows', 'a_cols']), b.input('b', ['b_rows', 'b_cols'])], transposed, 'product');
  b.output('product', ['rows', 'cols']);
  return b.toBytes(PRODUCER);
}

/** The two products below, on sessions kept open across calls: many small products (block Gram–Schmidt) would otherwise each pay for a session. */
export interface Products {
  /** a · bᵀ for row-major a (m × inner) and b (cols × inner): m × cols, in blocks of a's rows. */
  timesTransposed(a: Float32Array, b: Float32Array, inner: number): Promise<Float32Array>;
  /** aᵀ · b for row-major a (m × p) and b (m × q): p × q. */
  transposedTimes(a: Float32Array, p: number, b: Float32Array, q: number): Promise<Float32Array>;
}

/** Each session opens at its product's first call (local evidence, once a query, only needs the one), and all are released after `use`. */
export async function withProducts<T>(use: (products: Products) => Promise<T>): Promise<T> {
  const opened: Promise<ort.InferenceSession>[] = [];
  const lazily = (transposed: { transA?: number; transB?: number }) => {
    let session: Promise<ort.InferenceSession> | undefined;
    return () => {
      if (!session) opened.push(session = cpuSession(gemmGraph(transposed)));
      return session;
    };
  };
  const [byRows, byColumns] = [lazily({ transB: 1 }), lazily({ transA: 1 })];
  try {
    return await use({
      timesTransposed: async (a, b, inner) => timesTransposedOn(await byRows(), a, b, inner),
      transposedTimes: async (a, p, b, q) => transposedTimesOn(await byColumns(), a, p, b, q),
    });
  } finally {
    // A session that failed to open has nothing to release; its error already reached `use`.
    await Promise.all(opened.map((s) => s.then((session) => session.release(), () => undefined)));
  }
}

/** Products.timesTransposed on a session of its own. */
export function timesTransposed(a: Float32Array, b: Float32Array, inner: number): Promise<Float32Array> {
  return withSession(gemmGraph({ transB: 1 }), (session) => timesTransposedOn(session, a, b, inner));
}

/** Products.transposedTimes on a session of its own. */
export function transposedTimes(a: Float32Array, p: number, b: Float32Array, q: number): Promise<Float32Array> {
  return withSession(gemmGraph({ transA: 1 }), (session) => transposedTimesOn(session, a, p, b, q));
}

async function timesTransposedOn(session: ort.InferenceSession, a: Float32Array, b: Float32Array, inner: number): Promise<Float32Array> {
  const [m, cols] = [a.length / inner, b.length / inner];
  const right = new ort.Tensor('float32', b, [cols, inner]);
  const out = new Float32Array(m * cols);
  const block = Math.max(1, Math.floor(CELLS_PER_CALL / Math.max(inner, cols)));
  for (let start = 0; start < m; start += block) {
    const count = Math.min(block, m - start);
    const left = new ort.Tensor('float32', a.subarray(start * inner, (start + count) * inner), [count, inner]);
    out.set((await session.run({ a: left, b: right })).product!.data as Float32Array, start * cols);
  }
  return out;
}

async function transposedTimesOn(session: ort.InferenceSession, a: Float32Array, p: number, b: Float32Array, q: number): Promise<Float32Array> {
  const m = a.length / p;
  const inputs = { a: new ort.Tensor('float32', a, [m, p]), b: new ort.Tensor('float32', b, [m, q]) };
  return (await session.run(inputs)).product!.data as Float32Array;
}

/** Gemm into TopK: the k best scores of each query row and their row numbers. */
function topGraph(k: number): Uint8Array {
  const g = new OnnxGraphBuilder('top');
  const scores = g.node('Gemm', [g.input('queries', ['q', 'dims']), g.input('rows', ['n', 'dims'])], { transB: 1 });
  g.nodeWithOutputs('TopK', [scores, g.int64('k', [k])], ['values', 'indices']);
  g.output('values', ['q', k]);
  g.output('indices', ['q', k], 'int64');
  return g.toBytes(PRODUCER);
}

/**
 * The k largest inner products of every row (dims values, row-major) with all rows, largest
 * first, by an exact scan: ONNX's TopK puts the lower row first among equal scores, so the
 * same rows always give the same answer.
 */
export async function topInnerProducts(rows: Float32Array, dims: number, k: number): Promise<{ rows: Int32Array; scores: Float32Array }> {
  const n = rows.length / dims;
  const all = new ort.Tensor('float32', rows, [n, dims]);
  const out = { rows: new Int32Array(n * k), scores: new Float32Array(n * k) };
  const block = Math.max(1, Math.floor(CELLS_PER_CALL / n));
  await withSession(topGraph(k), async (session) => {
    for (let start = 0; start < n; start += block) {
      const count = Math.min(block, n - start);
      const found = await session.run({ queries: new ort.Tensor('float32', rows.subarray(start * dims, (start + count) * dims), [count, dims]), rows: all });
      out.scores.set(found.values!.data as Float32Array, start * k);
      (found.indices!.data as BigInt64Array).forEach((row, i) => { out.rows[start * k + i] = Number(row); });
    }
  });
  return out;
}
