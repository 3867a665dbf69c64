import { describe, expect, it } from 'vitest';
import { symmetricEigen } from '../../src-main/engine/search/eigen';
import { FlatIndex } from '../../src-main/engine/search/index';
import { leadingAxes } from '../../src-main/engine/search/principal-axes';
import { Postprocessor, concatDescriptors, gem } from '../../src-main/engine/search/postprocess';
import { dot } from '../../src-main/engine/search/vectors';
import { clusteredCatalogue, gaussian, randomMatrix, rng } from './synthetic';

describe('symmetricEigen (tred2 + tql2)', () => {
  it.each([5, 60, 200])('satisfies A v = λ v for a random symmetric matrix of order %i', (n) => {
    const r = randomMatrix(n, n, n);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = r[i * n + j]!;
    const { values, vectors } = symmetricEigen(a, n);
    for (let c = 0; c < n; c++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += a[i * n + k]! * vectors[c * n + k]!;
        expect(Math.abs(av - values[c]! * vectors[c * n + i]!)).toBeLessThan(1e-4);
      }
      if (c > 0) expect(values[c]!).toBeLessThanOrEqual(values[c - 1]!);
    }
  });
});

describe('leadingAxes (block power iteration)', () => {
  // 900 rows of 300 dimensions with standard deviations falling as 1/sqrt(j + 1), in a random rotation, centred.
  const [rows, dims, k] = [900, 300, 40];
  const g = gaussian(rng(5));
  const r = randomMatrix(dims, dims, 6);
  const rotation = symmetricEigen(Float64Array.from(r, (v, i) => v + r[(i % dims) * dims + Math.floor(i / dims)]!), dims).vectors;
  const x = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) {
    const z = Array.from({ length: dims }, (_, j) => g() / Math.sqrt(j + 1));
    for (let c = 0; c < dims; c++) for (let j = 0; j < dims; j++) x[r * dims + j]! += z[c]! * rotation[c * dims + j]!;
  }
  const centredRows = (n: number) => {
    const mean = new Float64Array(dims);
    for (let r = 0; r < n; r++) for (let j = 0; j < dims; j++) mean[j]! += x[r * dims + j]! / n;
    return Float32Array.from(x.subarray(0, n * dims), (v, i) => v - mean[i % dims]!);
  };
  const exactAxes = (centred: Float32Array) => {
    const n = centred.length / dims;
    const cov = new Float64Array(dims * dims);
    for (let r = 0; r < n; r++) for (let i = 0; i < dims; i++) for (let j = 0; j < dims; j++) cov[i * dims + j]! += (centred[r * dims + i]! * centred[r * dims + j]!) / (n - 1);
    return symmetricEigen(cov, dims);
  };
  /** |cosine| of each found axis with the exact one. */
  const alignment = (found: { axes: Float32Array }, exact: { vectors: Float64Array }) => Array.from({ length: k }, (_, c) => {
    let along = 0;
    for (let j = 0; j < dims; j++) along += found.axes[c * dims + j]! * exact.vectors[c * dims + j]!;
    return Math.abs(along);
  });

  it('finds the leading axes and variances of a decaying spectrum as the full decomposition does', async () => {
    const centred = centredRows(rows);
    const exact = exactAxes(centred);
    const found = await leadingAxes(centred, dims, k, rng(1), { oversample: 32, iterations: 4 });
    alignment(found, exact).forEach((along, c) => {
      expect(Math.abs(found.variances[c]! - exact.values[c]!) / exact.values[c]!, `variance ${c}`).toBeLessThan(c < 30 ? 1e-3 : 1e-2);
      expect(along, `axis ${c}`).toBeGreaterThan(c < 30 ? 0.999 : 0.98);
    });
  });

  it('started from the axes of all rows, finds those of most of them in fewer rounds (a calibration fold)', async () => {
    const start = Float32Array.from(exactAxes(centredRows(rows)).vectors.subarray(0, k * dims));
    const fold = centredRows(800);
    const exact = exactAxes(fold);
    const settings = { oversample: 32, iterations: 2 };
    const warm = alignment(await leadingAxes(fold, dims, k, rng(1), settings, start), exact);
    const cold = alignment(await leadingAxes(fold, dims, k, rng(1), settings), exact);
    // Two rounds from the whole set's axes find the fold's as the full decomposition does; from random rows, not yet.
    expect(Math.min(...warm.slice(0, 35))).toBeGreaterThan(0.999);
    expect(Math.min(...warm)).toBeGreaterThan(0.95);
    expect(Math.min(...cold.slice(0, 35))).toBeLessThan(0.9);
  });
});

describe('Postprocessor', () => {
  const dims = 24;

  it('whitening gives (near) identity covariance on the data it was fitted on', async () => {
    // Strongly anisotropic data: variance spans four orders of magnitude across directions.
    const g = gaussian(rng(11));
    const rows = Float32Array.from({ length: 4000 * dims }, (_, i) => g() * 10 ** ((i % dims) / 6));
    const post = await Postprocessor.fit(rows, dims, { shrinkage: 0 });
    const white = post.applyBatch(rows, false);
    const cov = new Float64Array(dims * dims);
    for (let r = 0; r < 4000; r++) for (let i = 0; i < dims; i++) for (let j = 0; j < dims; j++) cov[i * dims + j]! += (white[r * dims + i]! * white[r * dims + j]!) / 3999;
    for (let i = 0; i < dims; i++) {
      for (let j = 0; j < dims; j++) expect(cov[i * dims + j]!).toBeCloseTo(i === j ? 1 : 0, 2);
    }
  });

  it('with fewer photos than dimensions (the Gram route) still whitens the directions the photos span', async () => {
    const n = 40;
    const wide = 100;
    const g = gaussian(rng(5));
    const rows = Float32Array.from({ length: n * wide }, (_, i) => g() * (1 + (i % wide) / 10) + (i % wide === 0 ? 3 : 0));
    const post = await Postprocessor.fit(rows, wide, { shrinkage: 0 });
    expect(post.outDims).toBe(n - 1);
    const white = post.applyBatch(rows, false);
    const k = post.outDims;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) {
        let c = 0;
        for (let r = 0; r < n; r++) c += (white[r * k + i]! * white[r * k + j]!) / (n - 1);
        expect(c).toBeCloseTo(i === j ? 1 : 0, 3);
      }
    }
  });

  it('gives no weight to directions the photos do not span, even with object prototypes among the rows', async () => {
    // 30 unit photos of 10 objects in 200 dimensions, plus each object's normalised mean (as the
    // identifier fits): 40 rows that span only 30 directions. The Gram matrix is summed in
    // float32, so the missing ones come out as rounding residues, not as exact zeros.
    const wide = 200;
    const g = gaussian(rng(17));
    const photos = Array.from({ length: 30 }, () => unit(Float32Array.from({ length: wide }, () => g())));
    const prototypes = Array.from({ length: 10 }, (_, o) => unit(photos.slice(3 * o, 3 * o + 3).reduce((m, p) => m.map((v, j) => v + p[j]!), new Float32Array(wide))));
    const rows = Float32Array.from([...photos, ...prototypes].flatMap((v) => [...v]));
    const post = await Postprocessor.fit(rows, wide);
    expect(post.outDims).toBe(39);
    const white = post.applyBatch(rows, false);
    const largest = Array.from({ length: post.outDims }, (_, c) => Math.max(...Array.from({ length: 40 }, (_, r) => Math.abs(white[r * post.outDims + c]!))));
    // The centred rows span 30 directions; the other nine must stay empty, not carry amplified rounding noise.
    expect(largest.filter((v) => v > 1e-3 * Math.max(...largest))).toHaveLength(30);
  });

  it('projects many rows on onnxruntime exactly as row by row', async () => {
    const g = gaussian(rng(9));
    const rows = Float32Array.from({ length: 300 * dims }, () => g());
    const post = await Postprocessor.fit(rows, dims, { components: 10 });
    const one = post.applyBatch(rows);
    const many = await post.applyMany(rows);
    expect(many.length).toBe(300 * 10);
    let worst = 0;
    for (let i = 0; i < one.length; i++) worst = Math.max(worst, Math.abs(one[i]! - many[i]!));
    expect(worst).toBeLessThan(1e-5);
  });

  it('whitening undoes a shared offset and strong nuisance directions that make unrelated objects look alike', async () => {
    const d = 64;
    const offset = Float32Array.from({ length: d }, () => 0.7);
    const catalogue = withNuisance(clusteredCatalogue(300, 4, d, 21, 0.6, offset), 31);
    const queries = withNuisance(clusteredCatalogue(300, 5, d, 21, 0.6, offset), 32); // same centres, fresh noise
    const queryRows = Float32Array.from({ length: 300 * d }, (_, i) => queries.vectors[(Math.floor(i / d) * 5 + 4) * d + (i % d)]!);
    const a = catalogue.vectors.subarray(0, d);
    const b = catalogue.vectors.subarray(299 * 4 * d, 299 * 4 * d + d);
    expect(dot(a, 0, b, 0, d) / Math.sqrt(dot(a, 0, a, 0, d) * dot(b, 0, b, 0, d))).toBeGreaterThan(0.7);
    const raw = nnAccuracy(catalogue.vectors, catalogue.objectIds, queryRows, d);
    const post = await Postprocessor.fit(catalogue.vectors, d, { mode: 'whiten' });
    const whitened = nnAccuracy(post.applyBatch(catalogue.vectors), catalogue.objectIds, post.applyBatch(queryRows), post.outDims);
    expect(whitened).toBeGreaterThan(raw + 0.2);
  });

  it('round-trips through its serialised bytes', async () => {
    const rows = randomMatrix(200, dims, 12);
    const post = await Postprocessor.fit(rows, dims, { components: 10 });
    const copy = Postprocessor.deserialise(post.serialise());
    expect([copy.inDims, copy.outDims, copy.fittedOn, copy.mode]).toEqual([dims, 10, 200, 'whiten']);
    expect(copy.apply(rows.subarray(0, dims))).toEqual(post.apply(rows.subarray(0, dims)));
    expect(() => Postprocessor.deserialise(post.serialise().subarray(8))).toThrow(expect.objectContaining({ code: 'CATALOGUE_INVALID' }));
  });
});

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** Adds large random variation along three fixed directions (like lighting changes) to every row. */
function withNuisance<T extends { vectors: Float32Array }>(c: T, seed: number): T {
  const d = 64;
  const g = gaussian(rng(seed));
  const directions = randomMatrix(3, d, 99);
  for (let off = 0; off < c.vectors.length; off += d) {
    for (let k = 0; k < 3; k++) {
      const w = 0.2 * g();
      for (let j = 0; j < d; j++) c.vectors[off + j]! += w * directions[k * d + j]!;
    }
  }
  return c;
}

function nnAccuracy(catalogue: Float32Array, objectIds: Int32Array, queries: Float32Array, dims: number): number {
  const index = new FlatIndex(dims, { backend: 'js' });
  index.add(Int32Array.from(objectIds, (_, i) => i), objectIds, catalogue);
  const hits = index.searchBatch(queries, 1);
  return hits.filter((h, q) => h[0]!.objectId === q).length / hits.length;
}

describe('gem pooling', () => {
  const [c, h, w] = [3, 4, 5];
  const map = Float32Array.from({ length: c * h * w }, (_, i) => ((i * 37) % 11) / 10);

  it('is average pooling at p = 1 and approaches max pooling as p grows', () => {
    const avg = gem(map, c, h, w, 1);
    const nearMax = gem(map, c, h, w, 200);
    for (let ch = 0; ch < c; ch++) {
      const cell = map.subarray(ch * h * w, (ch + 1) * h * w);
      expect(avg[ch]!).toBeCloseTo(cell.reduce((a, b) => a + Math.max(b, 1e-6), 0) / (h * w), 5);
      expect(nearMax[ch]!).toBeCloseTo(Math.max(...cell), 1);
      expect(nearMax[ch]!).toBeLessThanOrEqual(Math.max(...cell) + 1e-6);
    }
  });

  it('reads HWC maps the same as their CHW transpose', () => {
    const hwc = new Float32Array(map.length);
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) hwc[i * c + ch] = map[ch * h * w + i]!;
    const a = gem(map, c, h, w, 3, 'CHW');
    const b = gem(hwc, c, h, w, 3, 'HWC');
    a.forEach((v, i) => expect(b[i]!).toBeCloseTo(v, 6));
  });
});

describe('concatDescriptors', () => {
  it('gives the weight-averaged cosine of the parts', () => {
    const [a1, a2, b1, b2] = [randomMatrix(1, 8, 1), randomMatrix(1, 5, 2), randomMatrix(1, 8, 3), randomMatrix(1, 5, 4)];
    const cos = (x: Float32Array, y: Float32Array): number => dot(x, 0, y, 0, x.length) / Math.sqrt(dot(x, 0, x, 0, x.length) * dot(y, 0, y, 0, y.length));
    const a = concatDescriptors([{ vector: a1, weight: 3 }, { vector: a2, weight: 1 }]);
    const b = concatDescriptors([{ vector: b1, weight: 3 }, { vector: b2, weight: 1 }]);
    expect(a).toHaveLength(13);
    expect(cos(a, b)).toBeCloseTo((3 * cos(a1, b1) + cos(a2, b2)) / 4, 5);
  });
});
