import { describe, expect, it } from 'vitest';
import { InstanceClassifier, trainInstanceClassifier } from '../../src-main/engine/evaluation/classifier';
import { softmaxRows } from '../../src-main/engine/evaluation/linalg';
import { fuseProbabilities, fuseWithRetrieval, objectProbabilities } from '../../src-main/engine/identify/instance-classifier';
import { mulberry32 } from '../../src-main/engine/random';

/** Four classes by the signs of the first two coordinates (XOR-like: no class mean separates them all), plus noise dimensions. */
function quadrants(n: number, seed: number, dims = 8): { vectors: Float32Array; labels: Int32Array } {
  const random = mulberry32(seed);
  const vectors = new Float32Array(n * dims);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dims; j++) vectors[i * dims + j] = random() * 2 - 1;
    labels[i] = (vectors[i * dims]! > 0 ? 1 : 0) ^ (vectors[i * dims + 1]! > 0 ? 1 : 0);
  }
  return { vectors, labels };
}

async function top1(c: InstanceClassifier, data: { vectors: Float32Array; labels: Int32Array }): Promise<number> {
  const p = await c.probabilities(data.vectors);
  return Array.from(data.labels).filter((y, i) => p[i * c.classes + y]! > 0.5).length / data.labels.length;
}

describe('the instance classifier', () => {
  const train = quadrants(600, 1);
  const val = quadrants(200, 2);
  const test = quadrants(300, 3);
  const ids = Int32Array.from([10, 20]);

  it('learns a non-linear problem with a hidden layer that a linear classifier cannot', async () => {
    const linear = await trainInstanceClassifier(train, val, ids, { epochs: 40, learningRate: 0.01 });
    const hidden = await trainInstanceClassifier(train, val, ids, { hidden: 64, epochs: 80, learningRate: 0.01, dropout: 0.1 });
    expect(await top1(linear, test)).toBeLessThan(0.7);
    expect(await top1(hidden, test)).toBeGreaterThan(0.9);
  });

  it('stores and restores exactly, and maps classes back to object ids', async () => {
    const c = await trainInstanceClassifier(train, val, ids, { hidden: 16, epochs: 3 });
    const restored = InstanceClassifier.deserialise(c.serialise());
    expect(await restored.probabilities(test.vectors)).toEqual(await c.probabilities(test.vectors));
    const probs = await objectProbabilities(restored, test.vectors.subarray(0, 8));
    expect([...probs.keys()]).toEqual([10, 20]);
    expect([...probs.values()].reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    expect(() => InstanceClassifier.deserialise(c.serialise().subarray(0, 40))).toThrow(/cannot be read/);
  });

  it('stops when cancelled', async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(trainInstanceClassifier(train, val, ids, { signal: abort.signal })).rejects.toThrow(/cancelled/);
  });
});

describe('fusing the classifier with retrieval', () => {
  const retrieval = [{ objectId: 1, score: 0.9 }, { objectId: 2, score: 0.8 }];
  const classifier = new Map([[1, 0.1], [2, 0.2], [3, 0.7]]);

  it('follows retrieval at weight 0, the classifier at weight 1, and lists objects only either knows', () => {
    expect(fuseWithRetrieval(retrieval, classifier, { weight: 0 }).map((m) => m.objectId).slice(0, 2)).toEqual([1, 2]);
    expect(fuseWithRetrieval(retrieval, classifier, { weight: 1 }).map((m) => m.objectId)).toEqual([3, 2, 1]);
    const even = fuseWithRetrieval(retrieval, classifier);
    expect(even.reduce((s, m) => s + m.probability, 0)).toBeCloseTo(1, 5);
  });

  it('gives evaluation the probabilities identification gives, when retrieval lists every object', () => {
    const all = [...retrieval, { objectId: 3, score: 0.5 }];
    const identified = new Map(fuseWithRetrieval(all, classifier).map((m) => [m.objectId, m.probability]));
    const retrievalRow = softmaxRows(Float32Array.from(all, (m) => m.score), 3, 0.05);
    const evaluated = fuseProbabilities(retrievalRow, Float32Array.from(all, (m) => classifier.get(m.objectId)!));
    all.forEach((m, j) => expect(evaluated[j]).toBeCloseTo(identified.get(m.objectId)!, 6));
  });
});
