import { UserError } from '../errors';
import { nativeSearch, nativeTopRows } from './native';
import { Int8Rows } from './quantise';
import { TopK } from './topk';
import { dot, normaliseInPlace, normaliseRows } from './vectors';

/** One photo found for a query. `row` is only valid until the next add or remove. */
export interface Hit {
  row: number;
  photoId: number;
  objectId: number;
  /** Cosine similarity with the query (rows and queries are L2-normalised). */
  score: number;
}

/** Nearest-photo search over the embeddings of one model; whatever runs behind it. */
export interface VectorIndex {
  readonly dims: number;
  readonly size: number;
  /** Bumped by every add and remove, so views built on the index know when to rebuild. */
  readonly version: number;
  /** Adds rows (L2-normalised on the way in); a photo id already present is replaced. */
  add(photoIds: ArrayLike<number>, objectIds: ArrayLike<number>, vectors: Float32Array): void;
  /** Removes the photos' rows; returns how many were present. */
  remove(photoIds: ArrayLike<number>): number;
  rowOf(photoId: number): number | undefined;
  photoIdAt(row: number): number;
  objectIdAt(row: number): number;
  /** The stored, normalised vector of a row (a view: copy it to keep it past a mutation). */
  vectorAt(row: number): Float32Array;
  search(query: Float32Array, k: number): Hit[];
  /** `queries` holds many queries row-major; one best-first hit list per query. */
  searchBatch(queries: Float32Array, k: number): Hit[][];
  /** Bytes to write one after another; `FlatIndex.deserialise` reads them back concatenated. */
  serialise(): Uint8Array[];
}

export interface IndexOptions {
  /**
   * From this many rows on, candidates come from the int8 copy and are rescored in
   * float32; below it search is exact float32. See test/bench/search.bench.ts.
   */
  quantiseFrom?: number;
  /** Int8 candidates rescored per wanted hit (at least RESCORE_MIN). */
  rescoreFactor?: number;
  /** 'js' forces the portable kernels (for tests and hosts without usearch's binary). */
  backend?: 'auto' | 'js';
}

const DEFAULT_QUANTISE_FROM = 50_000;
const RESCORE_MIN = 100;
/** Query-block × rows cells a native batch scan may materialise (usearch keeps 16 bytes per cell). */
const NATIVE_BATCH_CELLS = 1 << 22;
/** Query and row block sizes of the JS batch product: a row block stays in cache across the query block. */
const JS_QUERY_BLOCK = 32;
const JS_ROW_BLOCK = 256;

const MAGIC = 0x58564c41; // "ALVX"
const FORMAT_VERSION = 1;
const HEADER_BYTES = 16;

/**
 * All vectors in one contiguous row-major Float32Array with parallel id arrays, so a
 * scan is a tight loop over memory and removal is a swap with the last row.
 */
export class FlatIndex implements VectorIndex {
  private data: Float32Array;
  private photoIds: Int32Array;
  private objectIds: Int32Array;
  private count = 0;
  private mutations = 0;
  private readonly rowByPhoto = new Map<number, number>();
  private int8: Int8Rows | null = null;
  private readonly quantiseFrom: number;
  private readonly rescoreFactor: number;
  private readonly lib: ReturnType<typeof nativeSearch>;

  constructor(readonly dims: number, options: IndexOptions = {}, capacity = 1024) {
    if (!Number.isInteger(dims) || dims <= 0) {
      throw new UserError('INVALID_ARGUMENT', `An index needs a positive whole number of dimensions, not ${dims}.`, 'This is a bug; please report it.');
    }
    this.data = new Float32Array(capacity * dims);
    this.photoIds = new Int32Array(capacity);
    this.objectIds = new Int32Array(capacity);
    this.quantiseFrom = options.quantiseFrom ?? DEFAULT_QUANTISE_FROM;
    this.rescoreFactor = options.rescoreFactor ?? 8;
    this.lib = options.backend === 'js' ? null : nativeSearch();
  }

  get size(): number {
    return this.count;
  }

  get version(): number {
    return this.mutations;
  }

  /** Which scan answers a query now: for benchmarks and diagnostics. */
  get path(): 'js-exact' | 'native-exact' | 'native-int8' {
    if (!this.lib) return 'js-exact';
    return this.count >= this.quantiseFrom ? 'native-int8' : 'native-exact';
  }

  add(photoIds: ArrayLike<number>, objectIds: ArrayLike<number>, vectors: Float32Array): void {
    const n = photoIds.length;
    if (objectIds.length !== n || vectors.length !== n * this.dims) {
      throw new UserError('MODEL_MISMATCH', `Expected ${n} vectors of ${this.dims} values with ${n} object ids.`, 'Re-index the catalogue with the model this index was built for.');
    }
    assertFinite(vectors);
    this.mutations++;
    const firstNew = this.count;
    for (let i = 0; i < n; i++) {
      const row = this.rowByPhoto.get(photoIds[i]!) ?? this.appendRow(photoIds[i]!);
      this.objectIds[row] = objectIds[i]!;
      this.data.set(vectors.subarray(i * this.dims, (i + 1) * this.dims), row * this.dims);
      normaliseInPlace(this.data, row * this.dims, this.dims);
      if (row < firstNew) this.int8?.encode(this.data, row, row + 1);
    }
    this.int8?.encode(this.data, firstNew, this.count);
  }

  remove(photoIds: ArrayLike<number>): number {
    this.mutations++;
    let removed = 0;
    for (let i = 0; i < photoIds.length; i++) {
      const row = this.rowByPhoto.get(photoIds[i]!);
      if (row === undefined) continue;
      this.moveLastRowInto(row);
      this.rowByPhoto.delete(photoIds[i]!);
      removed++;
    }
    return removed;
  }

  rowOf(photoId: number): number | undefined {
    return this.rowByPhoto.get(photoId);
  }

  photoIdAt(row: number): number {
    return this.photoIds[this.checkRow(row)]!;
  }

  objectIdAt(row: number): number {
    return this.objectIds[this.checkRow(row)]!;
  }

  vectorAt(row: number): Float32Array {
    const off = this.checkRow(row) * this.dims;
    return this.data.subarray(off, off + this.dims);
  }

  search(query: Float32Array, k: number): Hit[] {
    return this.searchBatch(query, k)[0]!;
  }

  searchBatch(queries: Float32Array, k: number): Hit[][] {
    if (queries.length % this.dims !== 0) {
      throw new UserError('MODEL_MISMATCH', `A query has ${queries.length} values but this index holds ${this.dims}-value descriptors.`, 'Describe the photo with the model the catalogue was indexed with.');
    }
    assertFinite(queries);
    const q = normaliseRows(queries.slice(), this.dims);
    const want = Math.min(Math.max(0, Math.floor(k)), this.count);
    if (want === 0) return Array.from({ length: q.length / this.dims }, () => []);
    return this.lib ? this.nativeBatch(q, want) : this.jsBatch(q, want);
  }

  serialise(): Uint8Array[] {
    const header = new Uint32Array([MAGIC, FORMAT_VERSION, this.dims, this.count]);
    return [
      new Uint8Array(header.buffer),
      bytesOf(this.photoIds.subarray(0, this.count)),
      bytesOf(this.objectIds.subarray(0, this.count)),
      bytesOf(this.data.subarray(0, this.count * this.dims)),
    ];
  }

  static deserialise(bytes: Uint8Array, options: IndexOptions = {}): FlatIndex {
    const header = bytes.byteLength >= HEADER_BYTES ? new Uint32Array(copyOut(bytes, 0, HEADER_BYTES)) : null;
    if (!header || header[0] !== MAGIC || header[1] !== FORMAT_VERSION) throw corrupt('it is not a search index of this version');
    const [dims, count] = [header[2]!, header[3]!];
    if (bytes.byteLength !== HEADER_BYTES + count * 8 + count * dims * 4) throw corrupt('its length does not match its header');
    const index = new FlatIndex(dims, options, Math.max(count, 1));
    const ids = new Int32Array(copyOut(bytes, HEADER_BYTES, HEADER_BYTES + count * 8));
    index.photoIds.set(ids.subarray(0, count));
    index.objectIds.set(ids.subarray(count));
    new Uint8Array(index.data.buffer).set(bytes.subarray(HEADER_BYTES + count * 8));
    index.count = count;
    for (let row = 0; row < count; row++) index.rowByPhoto.set(index.photoIds[row]!, row);
    if (index.rowByPhoto.size !== count) throw corrupt('a photo appears twice');
    return index;
  }

  private nativeBatch(q: Float32Array, want: number): Hit[][] {
    const lib = this.lib!;
    const quantised = this.count >= this.quantiseFrom;
    const shortlist = quantised ? Math.min(this.count, Math.max(RESCORE_MIN, want * this.rescoreFactor)) : want;
    const nQueries = q.length / this.dims;
    const block = Math.max(1, Math.floor(NATIVE_BATCH_CELLS / this.count));
    const out: Hit[][] = [];
    for (let first = 0; first < nQueries; first += block) {
      const part = q.subarray(first * this.dims, Math.min(nQueries, first + block) * this.dims);
      const rows = quantised
        ? nativeTopRows(lib, this.quantisedRows().subarray(0, this.count * this.dims), this.int8!.encodeQueries(part), this.dims, shortlist)
        : nativeTopRows(lib, this.data.subarray(0, this.count * this.dims), part, this.dims, shortlist);
      for (let i = 0; i < part.length / this.dims; i++) {
        out.push(this.rescore(part, i * this.dims, rows.subarray(i * shortlist, (i + 1) * shortlist), want));
      }
    }
    return out;
  }

  /** Exact float scores of candidate rows, kept best-first by a bounded heap. */
  private rescore(q: Float32Array, qOff: number, rows: Int32Array, want: number): Hit[] {
    const top = new TopK(want);
    for (const row of rows) top.push(row, dot(q, qOff, this.data, row * this.dims, this.dims));
    return this.toHits(top);
  }

  /** Blocked product: each block of rows is scored against a block of queries while it is in cache. */
  private jsBatch(q: Float32Array, want: number): Hit[][] {
    const { dims, data, count } = this;
    const nQueries = q.length / dims;
    const tops = Array.from({ length: nQueries }, () => new TopK(want));
    for (let q0 = 0; q0 < nQueries; q0 += JS_QUERY_BLOCK) {
      const q1 = Math.min(nQueries, q0 + JS_QUERY_BLOCK);
      for (let r0 = 0; r0 < count; r0 += JS_ROW_BLOCK) {
        const r1 = Math.min(count, r0 + JS_ROW_BLOCK);
        for (let qi = q0; qi < q1; qi++) {
          const top = tops[qi]!;
          for (let row = r0; row < r1; row++) top.push(row, dot(q, qi * dims, data, row * dims, dims));
        }
      }
    }
    return tops.map((top) => this.toHits(top));
  }

  private toHits(top: TopK): Hit[] {
    return top.sorted().map(({ row, score }) => ({ row, photoId: this.photoIds[row]!, objectId: this.objectIds[row]!, score }));
  }

  private quantisedRows(): Int8Array {
    this.int8 ??= new Int8Rows(this.dims, this.photoIds.length);
    if (this.int8.needsRefit(this.count)) this.int8.fit(this.data, this.count);
    return this.int8.codes;
  }

  private appendRow(photoId: number): number {
    if (this.count === this.photoIds.length) this.grow(Math.max(16, 2 * this.count));
    this.photoIds[this.count] = photoId;
    this.rowByPhoto.set(photoId, this.count);
    return this.count++;
  }

  private moveLastRowInto(row: number): void {
    const last = --this.count;
    if (row === last) return;
    const { dims } = this;
    this.data.copyWithin(row * dims, last * dims, (last + 1) * dims);
    this.photoIds[row] = this.photoIds[last]!;
    this.objectIds[row] = this.objectIds[last]!;
    this.rowByPhoto.set(this.photoIds[row]!, row);
    this.int8?.moveRow(last, row);
  }

  private grow(capacity: number): void {
    const data = new Float32Array(capacity * this.dims);
    data.set(this.data);
    this.data = data;
    this.photoIds = growInt32(this.photoIds, capacity);
    this.objectIds = growInt32(this.objectIds, capacity);
  }

  private checkRow(row: number): number {
    if (!Number.isInteger(row) || row < 0 || row >= this.count) {
      throw new UserError('INVALID_ARGUMENT', `Row ${row} is not in an index of ${this.count} photos.`, 'This is a bug; please report it.');
    }
    return row;
  }
}

/** Rows of each object, in row order. */
export function groupRowsByObject(index: VectorIndex): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let row = 0; row < index.size; row++) {
    const id = index.objectIdAt(row);
    const rows = groups.get(id);
    if (rows) rows.push(row);
    else groups.set(id, [row]);
  }
  return groups;
}

export function largestGroup(groups: Map<number, number[]>): number {
  let max = 1;
  for (const rows of groups.values()) max = Math.max(max, rows.length);
  return max;
}

function growInt32(a: Int32Array, capacity: number): Int32Array {
  const b = new Int32Array(capacity);
  b.set(a);
  return b;
}

/** An aligned copy of a byte range (Buffer.slice would share, and misalign, the pool). */
export function copyOut(bytes: Uint8Array, from: number, to: number): ArrayBuffer {
  return new Uint8Array(bytes.subarray(from, to)).buffer;
}

function bytesOf(a: Int32Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function assertFinite(values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new UserError('INVALID_ARGUMENT', 'A descriptor contains a value that is not a number.', 'Describe the photo again; if it persists, the model file may be damaged.');
    }
  }
}

function corrupt(why: string): UserError {
  return new UserError('CATALOGUE_INVALID', `The saved search index cannot be read: ${why}.`, 'Rebuild the search index from the catalogue.');
}
