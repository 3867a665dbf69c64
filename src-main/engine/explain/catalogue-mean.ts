import type { Catalogue } from '../catalogue/catalogue';
import { storageKey, type DescriptorPart } from '../identify/recipe';

/**
 * The catalogue's mean descriptor of one part of its recipe (the column mean of the stored
 * unit descriptors): explanations measure similarity centred on it, as identification does,
 * so what every catalogue photo shares counts for nothing. Undefined while none is embedded.
 */
export function catalogueMean(catalogue: Catalogue, part: DescriptorPart, flip: boolean): Float32Array | undefined {
  const { dim, photoIds, vectors } = catalogue.loadEmbeddings(part.model, storageKey(part, flip));
  if (photoIds.length === 0) return undefined;
  const sum = new Float64Array(dim);
  for (let row = 0; row < photoIds.length; row++) for (let j = 0; j < dim; j++) sum[j] += vectors[row * dim + j];
  return Float32Array.from(sum, (s) => s / photoIds.length);
}
