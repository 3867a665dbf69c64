import { describe, expect, it } from 'vitest';
import { BackboneEnsemble } from '../../src-main/engine/identify/backbone-ensemble';
import { RETRIEVAL_TEMPERATURE } from '../../src-main/engine/identify/instance-classifier';
import { FlatIndex } from '../../src-main/engine/search/index';

describe('the backbones\' ensemble', () => {
  // Two backbones of two dimensions each, joined: object 1 is photographed twice.
  const index = new FlatIndex(4);
  index.add(Int32Array.of(10, 11, 20, 30), Int32Array.of(1, 1, 2, 3), Float32Array.of(
    1, 0, 1, 0.2, /* */ 1, 0, 1, -0.2, /* */ 0.8, 0.6, 0, 1, /* */ 0, 1, 0.6, 0.8));
  const ensemble = BackboneEnsemble.fromIndex(index, [{ offset: 0, dims: 2 }, { offset: 2, dims: 2 }]);
  const match = (objectId: number, rank: number) => ({ objectId, rank, score: 0, bestPhotoId: objectId * 10 });

  it('ranks candidates by the mean of each backbone\'s softmax over its own prototype cosines', () => {
    const ranked = ensemble.rerank([match(1, 1), match(2, 2), match(3, 3)], Float32Array.of(1, 0, 0, 1));
    // Backbone 1 sees cosines 1, 0.8, 0 (object 1's two photos average to (1, 0)); backbone 2 sees 0, 1, 0.8.
    const softmax = (c: number[]) => c.map((x) => Math.exp(x / RETRIEVAL_TEMPERATURE) / c.reduce((s, y) => s + Math.exp(y / RETRIEVAL_TEMPERATURE), 0));
    const [a, b] = [softmax([1, 0.8, 0]), softmax([0, 1, 0.8])];
    expect(ranked.map((m) => [m.objectId, m.rank])).toEqual([[2, 1], [1, 2], [3, 3]]);
    expect(ranked.map((m) => m.probability)).toEqual([1, 0, 2].map((i) => expect.closeTo((a[i]! + b[i]!) / 2, 6)));
  });
});
