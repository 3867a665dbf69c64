import { createRequire } from 'node:module';

/**
 * usearch's SIMD kernels, loaded lazily and optionally: its prebuilt binaries cover
 * Linux and macOS but not every Windows install, and search must still work (slower,
 * in plain JS) where the binary is missing.
 */
type USearch = typeof import('usearch');

let loaded: USearch | null | undefined;

export function nativeSearch(): USearch | null {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('usearch') as USearch;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/**
 * Rows of the `count` smallest inner-product distances (1 − dot) of every query, query
 * after query. usearch reads typed arrays from the start of their ArrayBuffer and
 * ignores any byte offset, so views that do not start at 0 are copied first.
 */
export function nativeTopRows(
  lib: USearch,
  dataset: Float32Array | Int8Array,
  queries: Float32Array | Int8Array,
  dims: number,
  count: number,
): Int32Array {
  const result = lib.exactSearch(atZero(dataset), atZero(queries), dims, count, lib.MetricKind.IP, 0);
  const rows = new Int32Array(result.keys.length);
  for (let i = 0; i < rows.length; i++) rows[i] = Number(result.keys[i]);
  return rows;
}

function atZero<T extends Float32Array | Int8Array>(a: T): T {
  return a.byteOffset === 0 ? a : (a.slice() as T);
}
