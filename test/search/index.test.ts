import { describe, expect, it } from 'vitest';
import { FlatIndex } from '../../src-main/engine/search/index';
import { nativeSearch } from '../../src-main/engine/search/native';
import { dot, normaliseRows } from '../../src-main/engine/search/vectors';
import { clusteredCatalogue, randomMatrix } from './synthetic';

const DIMS = 64;

function bruteForce(data: Float32Array, query: Float32Array, k: number): number[] {
  const q = normaliseRows(query.slice(), DIMS);
  const rows = normaliseRows(data.slice(), DIMS);
  const scores = Array.from({ length: rows.length / DIMS }, (_, r) => ({ r, s: dot(q, 0, rows, r * DIMS, DIMS) }));
  return scores.sort((a, b) => b.s - a.s).slice(0, k).map((x) => x.r);
}

function filled(data: Float32Array, options: ConstructorParameters<typeof FlatIndex>[1]): FlatIndex {
  const n = data.length / DIMS;
  const index = new FlatIndex(DIMS, options, 8); // small capacity: exercises growth
  index.add(Int32Array.from({ length: n }, (_, i) => i), Int32Array.from({ length: n }, (_, i) => i % 7), data);
  return index;
}

const backends = [
  ['js', { backend: 'js' as const }],
  ...(nativeSearch() ? [['native', {}] as const] : []),
] as const;

describe.each(backends)('FlatIndex exact search (%s)', (_name, options) => {
  const data = randomMatrix(3000, DIMS, 1);
  const queries = randomMatrix(20, DIMS, 2);
  const index = filled(data, options);

  it('returns the same top-k as a full sort', () => {
    for (let q = 0; q < 20; q++) {
      const query = queries.subarray(q * DIMS, (q + 1) * DIMS);
      const hits = index.search(query, 10);
      expect(hits.map((h) => h.photoId)).toEqual(bruteForce(data, query, 10));
      expect(hits[0]!.objectId).toBe(hits[0]!.photoId % 7);
    }
  });

  it('batch search agrees with one-by-one search', () => {
    const batch = index.searchBatch(queries, 5);
    expect(batch).toHaveLength(20);
    batch.forEach((hits, q) => expect(hits).toEqual(index.search(queries.subarray(q * DIMS, (q + 1) * DIMS), 5)));
  });
});

describe('FlatIndex maintenance', () => {
  it('removes photos, replaces re-added ones and keeps searching correctly', () => {
    const data = randomMatrix(500, DIMS, 3);
    const index = filled(data, { backend: 'js' });
    expect(index.remove([0, 1, 2, 999_999])).toBe(3);
    expect(index.size).toBe(497);
    const hits = index.search(data.subarray(0, DIMS), 3);
    expect(hits.map((h) => h.photoId)).not.toContain(0);
    // Re-adding photo 5 with photo 0's vector replaces it instead of duplicating it.
    index.add([5], [42], data.slice(0, DIMS));
    expect(index.size).toBe(497);
    const again = index.search(data.subarray(0, DIMS), 1)[0]!;
    expect([again.photoId, again.objectId]).toEqual([5, 42]);
    expect(again.score).toBeCloseTo(1, 5);
  });

  it('round-trips through its serialised bytes', () => {
    const data = randomMatrix(300, DIMS, 4);
    const index = filled(data, { backend: 'js' });
    index.remove([7]);
    const copy = FlatIndex.deserialise(Buffer.concat(index.serialise()), { backend: 'js' });
    const query = data.subarray(9 * DIMS, 10 * DIMS);
    expect(copy.size).toBe(299);
    expect(copy.search(query, 10)).toEqual(index.search(query, 10));
  });

  it('rejects truncated bytes and descriptors of the wrong model', () => {
    const bytes = Buffer.concat(filled(randomMatrix(10, DIMS, 5), { backend: 'js' }).serialise());
    expect(() => FlatIndex.deserialise(bytes.subarray(0, bytes.length - 4))).toThrow(expect.objectContaining({ code: 'CATALOGUE_INVALID' }));
    expect(() => new FlatIndex(DIMS).search(new Float32Array(DIMS + 1), 1)).toThrow(expect.objectContaining({ code: 'MODEL_MISMATCH' }));
  });
});

describe.runIf(nativeSearch())('int8 shortlist with float rescoring', () => {
  it('keeps recall@10 >= 0.99 against exact search on clustered data', () => {
    const { vectors, photoIds, objectIds } = clusteredCatalogue(2000, 10, DIMS, 6);
    const exact = new FlatIndex(DIMS, { backend: 'js' });
    const quantised = new FlatIndex(DIMS, { quantiseFrom: 1 });
    exact.add(photoIds, objectIds, vectors);
    quantised.add(photoIds, objectIds, vectors);
    expect(quantised.path).toBe('native-int8');
    const queries = clusteredCatalogue(2000, 1, DIMS, 7).vectors.subarray(0, 200 * DIMS);
    const truth = exact.searchBatch(queries, 10);
    const found = quantised.searchBatch(queries, 10);
    let hit = 0;
    truth.forEach((hits, q) => {
      const got = new Set(found[q]!.map((h) => h.photoId));
      hit += hits.filter((h) => got.has(h.photoId)).length;
    });
    expect(hit / (200 * 10)).toBeGreaterThanOrEqual(0.99);
    // Rescored scores are exact float scores.
    expect(found[0]![0]!.score).toBeCloseTo(truth[0]![0]!.score, 5);
  });
});
