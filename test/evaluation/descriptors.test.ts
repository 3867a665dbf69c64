import { describe, expect, it } from 'vitest';
import { comparedDescriptors, DEFAULT_VARIANT } from '../../src-main/engine/evaluation/descriptors';
import { gatherRows } from '../../src-main/engine/evaluation/linalg';
import { WHITENED_COMPONENTS } from '../../src-main/engine/search/fitted-space';
import { randomMatrix } from '../search/synthetic';
import { syntheticSet } from './synthetic-set';

describe('compared descriptors', () => {
  it('centres on the query photos domain-wise: queries on their mean, the catalogue\'s photos on theirs', async () => {
    const set = syntheticSet(Array(20).fill(4));
    const vectors = set.descriptors.get('m/mean')!;
    const shift = randomMatrix(1, 32, 3);
    const catalogue = set.photos.flatMap((_, r) => (r % 4 === 0 ? [r] : []));
    // The catalogue's photos share a component the queries lack, as pictures taken elsewhere do.
    for (const r of catalogue) for (let j = 0; j < 32; j++) vectors[r * 32 + j]! += shift[j]! / 4;
    const queries = set.photos.flatMap((_, r) => (r % 4 === 0 ? [] : [r]));
    const compared = await comparedDescriptors(set, ['m'], { ...DEFAULT_VARIANT, postprocess: 'centre', fitOn: 'queries' }, { catalogue, queries });
    const meanLength = (rows: readonly number[]) => {
      const x = gatherRows(compared.vectors, compared.dims, rows);
      const mean = Array.from({ length: compared.dims }, (_, j) => rows.reduce((s, _r, i) => s + x[i * compared.dims + j]!, 0) / rows.length);
      return Math.hypot(...mean);
    };
    expect(meanLength(queries)).toBeLessThan(0.05);
    expect(meanLength(catalogue)).toBeLessThan(0.05);
    // Given other field photos (here the catalogue's, which carry the shift), queries are centred on those instead.
    const onField = await comparedDescriptors(set, ['m'], { ...DEFAULT_VARIANT, postprocess: 'centre', fitOn: 'queries' }, { catalogue, queries, field: catalogue });
    const fieldMean = gatherRows(onField.vectors, onField.dims, queries);
    const mean = Array.from({ length: onField.dims }, (_, j) => queries.reduce((s, _r, i) => s + fieldMean[i * onField.dims + j]!, 0) / queries.length);
    expect(Math.hypot(...mean)).toBeGreaterThan(0.3);
  });

  it('whitens as identification does, to at most WHITENED_COMPONENTS dimensions', async () => {
    const set = syntheticSet(Array(160).fill(4), { dims: 600 }); // 640 photos of 600 values
    const catalogue = set.photos.map((_, r) => r);
    const compared = await comparedDescriptors(set, ['m'], { ...DEFAULT_VARIANT, postprocess: 'whiten', fitOn: 'catalogue+prototypes' }, { catalogue, queries: catalogue });
    expect(compared.dims).toBe(WHITENED_COMPONENTS);
  });
});
