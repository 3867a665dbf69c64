/**
 * Time and peak memory of the catalogue map: PCA, t-SNE and UMAP of 25,000 synthetic
 * 768-d descriptors (2,500 objects of 10 photos: cluster structure like a catalogue's),
 * each computed in its worker as the app does. Run: npm run bench:projection [-- rows dims methods],
 * methods comma-separated (pca,umap,tsne by default).
 */
import type { ProjectionMethod } from '../../src-main/engine/projection/compute';
import { project } from '../../src-main/engine/projection/project';
import { clusteredCatalogue } from '../search/synthetic';

const rows = Number(process.argv[2] ?? 25_000);
const dims = Number(process.argv[3] ?? 768);
const methods = (process.argv[4] ?? 'pca,umap,tsne').split(',') as ProjectionMethod[];
const PHOTOS_PER_OBJECT = 10;

const { vectors, objectIds } = clusteredCatalogue(Math.ceil(rows / PHOTOS_PER_OBJECT), PHOTOS_PER_OBJECT, dims, 1, 0.7);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

/** Highest resident set seen while `run` works (the worker shares the process's memory). */
async function peakRss<T>(run: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 50);
  try {
    return { result: await run(), peak };
  } finally {
    clearInterval(timer);
  }
}

/** Share of each point's 10 nearest 2-D neighbours (among 2,000 sampled points) from its own object. */
function samplePurity(points: Float32Array): number {
  const sample = Array.from({ length: Math.min(2000, objectIds.length) }, (_, i) => Math.floor((i * objectIds.length) / Math.min(2000, objectIds.length)));
  let same = 0;
  for (const i of sample) {
    const d = Array.from({ length: objectIds.length }, (_, j) => ({ j, d: (points[2 * i]! - points[2 * j]!) ** 2 + (points[2 * i + 1]! - points[2 * j + 1]!) ** 2 }));
    same += d.sort((a, b) => a.d - b.d).slice(1, 11).filter(({ j }) => objectIds[j] === objectIds[i]).length;
  }
  return same / (sample.length * 10);
}

console.log(`${objectIds.length} descriptors × ${dims} (${mib(vectors.byteLength)} MiB); baseline RSS ${mib(process.memoryUsage.rss())} MiB`);
for (const method of methods) {
  const phases = new Map<string, number>();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { result, peak } = await peakRss(() => project(vectors, dims, {
    method,
    onProgress: (p) => { if (!phases.has(p.phase)) phases.set(p.phase, performance.now() - started); },
  }));
  const seconds = (performance.now() - started) / 1000;
  // CPU time of all threads: less swayed than wall time by other jobs sharing the cores.
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const steps = [...phases].map(([phase, ms]) => `${phase} from ${(ms / 1000).toFixed(1)} s`).join(', ');
  console.log(`${method.padEnd(5)} ${seconds.toFixed(1).padStart(6)} s (CPU ${cpuSeconds.toFixed(1)} s)  peak RSS ${mib(peak)} MiB  10-NN object purity ${samplePurity(result.points).toFixed(3)}  (${steps})`);
}
