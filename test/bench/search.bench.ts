/**
 * Search latency, build time, memory and recall at 10k, 100k and 1M photos of 768-d
 * synthetic descriptors with cluster structure (10 photos around each object centre).
 * Paths: exact float in plain JS, exact float in usearch SIMD, int8 shortlist rescored
 * in float (usearch SIMD), and, for comparison, usearch's HNSW graph (not used by the
 * engine). Run with `npm run bench:search`; `--max=100000` stops at a smaller size.
 */
import usearch from 'usearch';
import { FlatIndex, type Hit } from '../../src-main/engine/search/index';
import { gaussian, rng } from '../search/synthetic';

const DIMS = 768;
const PHOTOS_PER_OBJECT = 10;
const QUERIES = 50;
const K = 10;
const maxSize = Number(process.argv.find((a) => a.startsWith('--max='))?.slice(6) ?? 1_000_000);

/** Photos of object o: centre + uniform noise (cheap to draw at 1M × 768). */
function* photoBatches(n: number, seed: number): Generator<{ first: number; vectors: Float32Array }> {
  const g = gaussian(rng(seed));
  const noise = rng(seed + 1);
  const centre = new Float32Array(DIMS);
  const batch = 10_000;
  for (let first = 0; first < n; first += batch) {
    const rows = Math.min(batch, n - first);
    const vectors = new Float32Array(rows * DIMS);
    for (let r = 0; r < rows; r++) {
      if ((first + r) % PHOTOS_PER_OBJECT === 0) for (let j = 0; j < DIMS; j++) centre[j] = g();
      for (let j = 0; j < DIMS; j++) vectors[r * DIMS + j] = centre[j]! + 1.6 * (noise() - 0.5) * 1.7;
    }
    yield { first, vectors };
  }
}

function build(n: number, options: ConstructorParameters<typeof FlatIndex>[1]): { index: FlatIndex; ms: number } {
  const t = performance.now();
  const index = new FlatIndex(DIMS, options, n);
  for (const { first, vectors } of photoBatches(n, 7)) {
    const ids = Int32Array.from({ length: vectors.length / DIMS }, (_, i) => first + i);
    index.add(ids, Int32Array.from(ids, (id) => Math.floor(id / PHOTOS_PER_OBJECT)), vectors);
  }
  return { index, ms: performance.now() - t };
}

/** Queries: a stored photo of an object plus fresh noise, like a new photo of a catalogued object. */
function queries(index: FlatIndex): Float32Array {
  const r = rng(99);
  const out = new Float32Array(QUERIES * DIMS);
  for (let q = 0; q < QUERIES; q++) {
    const row = Math.floor(r() * index.size);
    const v = index.vectorAt(row);
    for (let j = 0; j < DIMS; j++) out[q * DIMS + j] = v[j]! + 0.02 * (r() - 0.5);
  }
  return out;
}

function timeQueries(qs: Float32Array, count: number, run: (q: Float32Array) => number[]): { p50: number; p95: number; results: number[][] } {
  const times: number[] = [];
  const results: number[][] = [];
  run(qs.subarray(0, DIMS)); // warm-up
  for (let q = 0; q < count; q++) {
    const t = performance.now();
    results.push(run(qs.slice(q * DIMS, (q + 1) * DIMS)));
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(count * 0.5)]!, p95: times[Math.min(count - 1, Math.floor(count * 0.95))]!, results };
}

function recall(truth: number[][], found: number[][]): number {
  let hit = 0;
  found.forEach((ids, q) => {
    const t = new Set(truth[q]);
    hit += ids.filter((id) => t.has(id)).length;
  });
  return hit / (found.length * K);
}

const photoIds = (hits: Hit[]): number[] => hits.map((h) => h.photoId);
const gib = (): string => (process.memoryUsage().rss / 2 ** 30).toFixed(1);

function report(size: number, path: string, build: number, t: { p50: number; p95: number }, r: number | string): void {
  console.log(`${String(size).padStart(8)}  ${path.padEnd(22)} build ${(build / 1000).toFixed(1).padStart(6)} s  p50 ${t.p50.toFixed(1).padStart(7)} ms  p95 ${t.p95.toFixed(1).padStart(7)} ms  recall@10 ${typeof r === 'number' ? r.toFixed(3) : r}  rss ${gib()} GiB`);
}

function benchHnsw(size: number, exact: FlatIndex, qs: Float32Array, truth: number[][]): void {
  const t0 = performance.now();
  const hnsw = new usearch.Index({ dimensions: DIMS, metric: usearch.MetricKind.IP, quantization: usearch.ScalarKind.I8, connectivity: 16, expansion_add: 64, expansion_search: 64, multi: false });
  const keys = BigUint64Array.from({ length: size }, (_, i) => BigInt(i));
  const rows = new Float32Array(size * DIMS);
  for (let r = 0; r < size; r++) rows.set(exact.vectorAt(r), r * DIMS);
  hnsw.add(keys, rows, 0);
  const buildMs = performance.now() - t0;
  const t = timeQueries(qs, QUERIES, (q) => {
    const m = hnsw.search(q, K, 1);
    return Array.from(m.keys, (key) => exact.photoIdAt(Number(key)));
  });
  report(size, 'usearch-hnsw-i8 M16', buildMs, t, recall(truth, t.results));
}

console.log(`search benchmark: ${DIMS}-d, ${PHOTOS_PER_OBJECT} photos per object, ${QUERIES} queries, k=${K}, native=${new FlatIndex(1).path !== 'js-exact'}`);
for (const size of [10_000, 100_000, 1_000_000].filter((s) => s <= maxSize)) {
  const exact = build(size, { quantiseFrom: Infinity });
  const qs = queries(exact.index);
  const truthRun = timeQueries(qs, QUERIES, (q) => photoIds(exact.index.search(q, K)));
  report(size, exact.index.path, exact.ms, truthRun, 'reference');
  const truth = truthRun.results;

  const js = build(size, { backend: 'js' });
  const jsCount = size >= 1_000_000 ? 10 : QUERIES;
  const jsRun = timeQueries(qs, jsCount, (q) => photoIds(js.index.search(q, K)));
  report(size, js.index.path, js.ms, jsRun, recall(truth.slice(0, jsCount), jsRun.results));

  const int8 = build(size, { quantiseFrom: 0 });
  const firstT = performance.now();
  int8.index.search(qs.slice(0, DIMS), K); // fits the int8 scales
  const int8Run = timeQueries(qs, QUERIES, (q) => photoIds(int8.index.search(q, K)));
  report(size, int8.index.path, int8.ms + (performance.now() - firstT), int8Run, recall(truth, int8Run.results));

  const batchT = performance.now();
  exact.index.searchBatch(qs, K);
  console.log(`${String(size).padStart(8)}  batch of ${QUERIES} queries (exact float): ${(performance.now() - batchT).toFixed(0)} ms`);
  if (size <= 100_000) benchHnsw(size, exact.index, qs, truth);
}
