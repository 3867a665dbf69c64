import type { EvalPhoto, EvalSet } from '../../src-main/engine/evaluation/dataset';
import { mulberry32 } from '../../src-main/engine/random';
import { normaliseRows } from '../../src-main/engine/search/vectors';

/**
 * An in-memory evaluation set: `counts[i]` photos of object i, each a noisy copy of the object's
 * random centre, stored under every raw variant of one model (so every descriptor option works).
 */
export function syntheticSet(counts: number[], options: { dims?: number; noise?: number; seed?: number; model?: string; split?: (object: number, photo: number) => string } = {}): EvalSet {
  const { dims = 32, noise = 0.3, seed = 7, model = 'm' } = options;
  const random = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const photos: EvalPhoto[] = [];
  const rows: number[] = [];
  counts.forEach((count, object) => {
    const centre = Array.from({ length: dims }, gauss);
    for (let k = 0; k < count; k++) {
      photos.push({ photoId: photos.length + 1, objectId: object + 1, instanceId: `obj-${object + 1}`, subcollection: object % 2 ? 'odd' : 'even',
        metadata: options.split ? { split: options.split(object, k) } : {} });
      rows.push(...centre.map((c) => c + noise * gauss()));
    }
  });
  const vectors = normaliseRows(Float32Array.from(rows), dims);
  const descriptors = new Map(['mean', 'gem3', 'mean+flip', 'gem3+flip'].map((key) => [`${model}/${key}`, vectors]));
  return { photos, descriptors, dims: new Map([[model, dims]]), unreadable: 0 };
}
