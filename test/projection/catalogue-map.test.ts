import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalogue } from '../../src-main/engine/catalogue/catalogue';
import type { DescriptorRecipe } from '../../src-main/engine/identify/recipe';
import { catalogueMap } from '../../src-main/engine/projection/catalogue-map';
import { placeQueries } from '../../src-main/engine/projection/compute';
import { tempDir } from '../helpers/files';
import { clusteredCatalogue } from '../search/synthetic';

const DIMS = 32;
const RECIPE: DescriptorRecipe = { parts: [{ model: 'm', pooling: 'mean' }], flip: false, postprocess: 'none', aggregation: 'prototype' };
const data = clusteredCatalogue(4, 15, DIMS, 11, 0.8);

let tmp: ReturnType<typeof tempDir>;
let catalogue: Catalogue;
let photoIds: number[];

beforeEach(() => {
  tmp = tempDir();
  catalogue = Catalogue.open(join(tmp.dir, 'c.sqlite'), { create: true });
  const collection = catalogue.collectionId('main');
  const added = catalogue.addPhotos(collection, Array.from(data.objectIds, (object, i) => ({
    instanceId: `OBJ-${object}`, subcollection: null, title: null, objectMetadata: {}, sha256: `sha-${i}`, originalPath: `/photos/${i}.jpg`,
    managedPath: null, format: 'jpeg', width: 4, height: 3, metadata: {},
  })));
  photoIds = added.map((a) => ('photoId' in a ? a.photoId : -1));
  catalogue.registerModel({ id: 'm', sha256: 'x' });
  catalogue.writeEmbeddings('m', 'mean', photoIds.map((photoId, i) => ({ photoId, vector: data.vectors.slice(i * DIMS, (i + 1) * DIMS) })));
});

afterEach(() => {
  catalogue.close();
  tmp.remove();
});

describe('catalogueMap', () => {
  it('maps every embedded photo with its object, and reuses the stored map while the catalogue is unchanged', async () => {
    const first = await catalogueMap(catalogue, RECIPE, 'umap');
    expect(first.fromCache).toBe(false);
    expect(Array.from(first.photoIds)).toEqual(photoIds);
    expect(new Set(first.objectIds).size).toBe(4);
    expect(first.points).toHaveLength(photoIds.length * 2);

    const again = await catalogueMap(catalogue, RECIPE, 'umap');
    expect(again.fromCache).toBe(true);
    expect(again.points).toEqual(first.points);
    expect(again.objectIds).toEqual(first.objectIds);
    expect(again.catalogueState).toBe(first.catalogueState);
    // The stored model still places queries: photo 5's own descriptor lands on its point.
    const placed = placeQueries(again.projection, data.vectors.slice(5 * DIMS, 6 * DIMS));
    expect(Math.hypot(placed[0]! - first.points[10]!, placed[1]! - first.points[11]!)).toBeLessThan(1e-3);
  });

  it('recomputes once photos or embeddings changed, and keeps methods and seeds apart', async () => {
    const first = await catalogueMap(catalogue, RECIPE, 'pca');
    catalogue.writeEmbeddings('m', 'mean', [{ photoId: photoIds[0]!, vector: data.vectors.slice(DIMS, 2 * DIMS) }]);
    const changed = await catalogueMap(catalogue, RECIPE, 'pca');
    expect(changed.fromCache).toBe(false);
    expect(changed.catalogueState).toBeGreaterThan(first.catalogueState);
    expect(changed.points).not.toEqual(first.points);
    expect((await catalogueMap(catalogue, RECIPE, 'pca')).fromCache).toBe(true);
    expect((await catalogueMap(catalogue, RECIPE, 'tsne', { seed: 1 })).fromCache).toBe(false);
    expect((await catalogueMap(catalogue, RECIPE, 'tsne', { seed: 2 })).fromCache).toBe(false);
    expect((await catalogueMap(catalogue, RECIPE, 'tsne', { seed: 1 })).fromCache).toBe(true);
  });

  it('says how to fix a catalogue with too few embedded photos', async () => {
    const other: DescriptorRecipe = { ...RECIPE, parts: [{ model: 'unembedded', pooling: 'mean' }] };
    await expect(catalogueMap(catalogue, other, 'pca')).rejects.toMatchObject({ code: 'CATALOGUE_NOT_EMBEDDED' });
  });
});
