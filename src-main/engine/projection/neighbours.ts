import { FlatIndex } from '../search/index';
import { nativeSearch } from '../search/native';

/** k nearest rows of each query, nearest first, by cosine. */
export interface Neighbours {
  k: number;
  /** queries × k row numbers. */
  rows: Int32Array;
  /** queries × k cosines, matching `rows`. */
  cosines: Float32Array;
}

/** An exact cosine index over the rows (usearch's SIMD scan where it is available). */
export function rowIndex(rows: Float32Array, dims: number): FlatIndex {
  const n = rows.length / dims;
  const index = new FlatIndex(dims, { quantiseFrom: Number.POSITIVE_INFINITY }, Math.max(n, 1));
  const ids = Int32Array.from({ length: n }, (_, i) => i);
  index.add(ids, ids, rows);
  return index;
}

/**
 * Past this many rows the graph comes from usearch's HNSW index: an exact scan costs n^2
 * and took over a minute at 25k rows, HNSW ~20 s with recall@k around 0.99, and a map
 * does not need the last percent.
 */
const APPROXIMATE_FROM = 5000;

/**
 * The k nearest other rows of every row of the index. A row is skipped as its own
 * neighbour even when duplicates tie with it.
 */
export function neighbourGraph(index: FlatIndex, k: number): Neighbours {
  const n = index.size;
  const all = new Float32Array(n * index.dims);
  for (let r = 0; r < n; r++) all.set(index.vectorAt(r), r * index.dims);
  const lib = nativeSearch();
  const withSelf = n >= APPROXIMATE_FROM && lib ? approximateNeighbours(lib, all, index.dims, k + 1) : queryNeighbours(index, all, k + 1);
  const out = { k, rows: new Int32Array(n * k), cosines: new Float32Array(n * k) };
  for (let r = 0; r < n; r++) {
    const others = Array.from({ length: k + 1 }, (_, i) => r * (k + 1) + i).filter((at) => withSelf.rows[at] !== r).slice(0, k);
    others.forEach((at, i) => {
      out.rows[r * k + i] = withSelf.rows[at]!;
      out.cosines[r * k + i] = withSelf.cosines[at]!;
    });
  }
  return out;
}

/** The k nearest rows of the index for each query (row-major, index.dims each). */
export function queryNeighbours(index: FlatIndex, queries: Float32Array, k: number): Neighbours {
  const hits = index.searchBatch(queries, k);
  const out = { k, rows: new Int32Array(hits.length * k), cosines: new Float32Array(hits.length * k) };
  hits.forEach((list, q) => list.forEach((h, i) => {
    out.rows[q * k + i] = h.row;
    out.cosines[q * k + i] = h.score;
  }));
  return out;
}

/** Neighbours of every row among all rows, from an HNSW graph (deterministic for the same rows). */
function approximateNeighbours(lib: NonNullable<ReturnType<typeof nativeSearch>>, rows: Float32Array, dims: number, k: number): Neighbours {
  const n = rows.length / dims;
  const index = new lib.Index({ dimensions: dims, metric: lib.MetricKind.IP, quantization: lib.ScalarKind.F32, connectivity: 16, expansion_add: 128, expansion_search: 64, multi: false });
  // One thread builds and searches the graph, so the same rows always give the same graph (and map).
  index.add(BigUint64Array.from({ length: n }, (_, i) => BigInt(i)), rows, 1);
  const found = index.search(rows, k, 1) as InstanceType<typeof lib.BatchMatches>;
  const out = { k, rows: new Int32Array(n * k).fill(-1), cosines: new Float32Array(n * k).fill(-1) };
  for (let q = 0; q < n; q++) {
    const count = Number(found.counts[q]);
    for (let i = 0; i < Math.min(count, k); i++) {
      out.rows[q * k + i] = Number(found.keys[q * k + i]);
      out.cosines[q * k + i] = 1 - found.distances[q * k + i];
    }
  }
  return out;
}

/** Euclidean distance between unit vectors with this cosine. */
export function chordDistance(cosine: number): number {
  return Math.sqrt(Math.max(0, 2 - 2 * cosine));
}
