import { describe, expect, it } from 'vitest';
import { computeProjection, DEFAULT_PARAMETERS, placeQueries, type ProjectionMethod } from '../../src-main/engine/projection/compute';
import { project } from '../../src-main/engine/projection/project';
import { clusteredCatalogue } from '../search/synthetic';

const DIMS = 48;
const METHODS: ProjectionMethod[] = ['pca', 'tsne', 'umap'];
/** 5 well-separated Gaussian clusters of 80 photos. */
const clusters = clusteredCatalogue(5, 80, DIMS, 3, 0.8);
const n = clusters.objectIds.length;
const maps = new Map(await Promise.all(METHODS.map(async (method) => [method, await computeProjection(clusters.vectors, DIMS, { ...DEFAULT_PARAMETERS, method })] as const)));

/** Share of each point's k nearest 2-D neighbours that carry its label. */
function neighbourPurity(points: Float32Array, labels: Int32Array, k = 10): number {
  let same = 0;
  for (let i = 0; i < labels.length; i++) {
    const nearest = Array.from(labels.keys()).filter((j) => j !== i)
      .sort((a, b) => distance(points, i, points, a) - distance(points, i, points, b)).slice(0, k);
    same += nearest.filter((j) => labels[j] === labels[i]).length;
  }
  return same / (labels.length * k);
}

function distance(a: Float32Array, i: number, b: Float32Array, j: number): number {
  return Math.hypot(a[2 * i]! - b[2 * j]!, a[2 * i + 1]! - b[2 * j + 1]!);
}

function extent(points: Float32Array): number {
  const xs = points.filter((_, i) => i % 2 === 0);
  const ys = points.filter((_, i) => i % 2 === 1);
  return Math.hypot(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
}

describe.each(METHODS)('%s', (method) => {
  const map = maps.get(method)!;

  it('gives one finite 2-D point per descriptor', () => {
    expect(map.points).toHaveLength(n * 2);
    expect(map.points.every(Number.isFinite)).toBe(true);
    expect(extent(map.points)).toBeGreaterThan(0);
  });

  it('keeps well-separated clusters apart', () => {
    expect(neighbourPurity(map.points, clusters.objectIds)).toBeGreaterThan(method === 'pca' ? 0.8 : 0.97);
  });

  it('puts a query equal to a catalogue photo on that photo\'s point', () => {
    const rows = [0, 77, 250];
    const queries = new Float32Array(rows.flatMap((r) => Array.from(clusters.vectors.subarray(r * DIMS, (r + 1) * DIMS))));
    const placed = placeQueries(map, queries);
    rows.forEach((r, q) => expect(distance(placed, q, map.points, r)).toBeLessThan(1e-3 * extent(map.points)));
  });

  it('places a new photo of an object among that object\'s points', () => {
    const centre = clusters.centres.subarray(2 * DIMS, 3 * DIMS);
    const placed = placeQueries(map, Float32Array.from(centre, (v, j) => v + 0.01 * Math.sin(j)));
    const nearest = Array.from(clusters.objectIds.keys()).sort((a, b) => distance(placed, 0, map.points, a) - distance(placed, 0, map.points, b))[0]!;
    expect(clusters.objectIds[nearest]).toBe(2);
  });
});

describe.each(['tsne', 'umap'] as const)('%s with a seed', (method) => {
  it('is reproducible with the same seed and differs with another', async () => {
    const again = await computeProjection(clusters.vectors, DIMS, { ...DEFAULT_PARAMETERS, method });
    expect(again.points).toEqual(maps.get(method)!.points);
    const other = await computeProjection(clusters.vectors, DIMS, { ...DEFAULT_PARAMETERS, method, seed: 7 });
    expect(other.points).not.toEqual(maps.get(method)!.points);
  });
});

describe('input checks', () => {
  it('refuses fewer than three descriptors, and queries of another size, with a hint', async () => {
    await expect(computeProjection(new Float32Array(2 * DIMS), DIMS, { ...DEFAULT_PARAMETERS, method: 'umap' }))
      .rejects.toMatchObject({ code: 'CATALOGUE_NOT_EMBEDDED', hint: expect.stringMatching(/embed/) });
    expect(() => placeQueries(maps.get('pca')!, new Float32Array(DIMS + 1))).toThrow(expect.objectContaining({ code: 'MODEL_MISMATCH' }));
  });

  it('maps tiny sets by clamping the neighbourhood to what exists', async () => {
    const few = clusters.vectors.subarray(0, 6 * DIMS);
    for (const method of METHODS) expect((await computeProjection(few, DIMS, { ...DEFAULT_PARAMETERS, method })).points.every(Number.isFinite)).toBe(true);
  });
});

describe('in a worker', () => {
  it('gives the same map as on this thread and reports progress', async () => {
    const phases = new Set<string>();
    const result = await project(clusters.vectors, DIMS, { method: 'umap', onProgress: (p) => phases.add(p.phase) });
    expect(result.points).toEqual(maps.get('umap')!.points);
    expect([...phases]).toEqual(['reducing', 'neighbours', 'optimising']);
  });

  it('stops when cancelled: rejects at once and reports nothing after', async () => {
    const big = clusteredCatalogue(20, 200, DIMS, 5, 0.8).vectors;
    const controller = new AbortController();
    let reports = 0;
    const started = project(big, DIMS, {
      method: 'tsne',
      signal: controller.signal,
      onProgress: (p) => { reports++; if (p.phase === 'optimising') controller.abort(); },
    });
    await expect(started).rejects.toMatchObject({ code: 'CANCELLED' });
    const seen = reports;
    await new Promise((r) => setTimeout(r, 500));
    expect(reports).toBe(seen);
  });

  it('rejects at once when already cancelled', async () => {
    await expect(project(clusters.vectors, DIMS, { method: 'pca', signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
