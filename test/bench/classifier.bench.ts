/**
 * Training the instance classifier at the paper's scale: 4,000 objects, 6 training photos each
 * (24,000 × 768-d, synthetic clusters) and one validation photo each, linear softmax, Adam,
 * early stopping. Prints seconds per epoch, epochs run, total time and validation top-1.
 * Run: npm run bench:classifier [-- objects photosPerObject dims maxEpochs]
 */
import { trainInstanceClassifier } from '../../src-main/engine/evaluation/classifier';
import { gatherRows } from '../../src-main/engine/evaluation/linalg';
import { clusteredCatalogue } from '../search/synthetic';

const [objects = 4000, photosPer = 6, dims = 768, maxEpochs = 60] = process.argv.slice(2).map(Number);
// Noise 2.5: photos lie further from their object's centre than centres from each other, so the
// classifier has something to learn (top-1 of the raw nearest class mean is far from 100 %).
const data = clusteredCatalogue(objects, photosPer + 1, dims, 7, 2.5);
const rows = Array.from(data.objectIds.keys());
const isVal = (r: number) => r % (photosPer + 1) === 0;
const split = (keep: (r: number) => boolean) => {
  const which = rows.filter(keep);
  return { vectors: gatherRows(data.vectors, dims, which), labels: Int32Array.from(which, (r) => data.objectIds[r]!) };
};
const train = split((r) => !isVal(r));
const val = split(isVal);
const ids = Int32Array.from({ length: objects }, (_, i) => i);

console.log(`${train.labels.length} training photos × ${dims} dims, ${objects} objects, ${val.labels.length} validation photos`);
const epochTimes: number[] = [];
let last = performance.now();
const started = last;
const cpu = process.cpuUsage();
await trainInstanceClassifier(train, val, ids, {
  epochs: maxEpochs,
  onProgress: (p) => {
    const now = performance.now();
    epochTimes.push((now - last) / 1000);
    last = now;
    console.log(`epoch ${p.epoch}: ${epochTimes.at(-1)!.toFixed(1)} s  loss ${p.loss.toFixed(3)}  val loss ${p.valLoss?.toFixed(3)}  val top-1 ${((p.valTop1 ?? 0) * 100).toFixed(1)} %`);
  },
});
const used = process.cpuUsage(cpu);
const median = [...epochTimes].sort((a, b) => a - b)[Math.floor(epochTimes.length / 2)]!;
console.log(`trained in ${((performance.now() - started) / 1000).toFixed(0)} s (CPU ${((used.user + used.system) / 1e6).toFixed(0)} s), ${epochTimes.length} epochs, median ${median.toFixed(1)} s an epoch`);
