import type { Catalogue } from '../catalogue/catalogue';
import { joinedDescriptors } from '../identify/identifier';
import { recipeKey, type DescriptorRecipe } from '../identify/recipe';
import { copyOut } from '../search/index';
import { DEFAULT_PARAMETERS, type Projection, type ProjectionMethod, type ProjectionParameters } from './compute';
import { project, type ProjectOptions } from './project';

/** A catalogue's photos on a 2-D map; point i (points[2i], points[2i + 1]) is photoIds[i] of objectIds[i]. */
export interface CatalogueMap {
  method: ProjectionMethod;
  parameters: ProjectionParameters;
  photoIds: Int32Array;
  objectIds: Int32Array;
  points: Float32Array;
  /** The catalogue state the map was computed from. */
  catalogueState: number;
  fromCache: boolean;
  /** For placeQueries. */
  projection: Projection;
}

export type CatalogueMapOptions = Omit<ProjectOptions, 'method'>;

/** The artifact key: method, the parameters that change its result, and the recipe. */
export function mapKey(p: ProjectionParameters, recipe: DescriptorRecipe): string {
  const relevant = p.method === 'pca' ? '' : p.method === 'tsne' ? `seed=${p.seed},perplexity=${p.perplexity}` : `seed=${p.seed},neighbours=${p.neighbours},minDist=${p.minDist}`;
  return `map:${p.method}:${relevant}|${recipeKey(recipe)}`;
}

/**
 * The map of a catalogue's photos for a recipe: the stored one while the catalogue has not
 * changed since, else computed in a worker and stored.
 */
export async function catalogueMap(catalogue: Catalogue, recipe: DescriptorRecipe, method: ProjectionMethod, options: CatalogueMapOptions = {}): Promise<CatalogueMap> {
  const { onProgress, signal, ...chosen } = options;
  const parameters: ProjectionParameters = { ...DEFAULT_PARAMETERS, ...chosen, method };
  const key = mapKey(parameters, recipe);
  const stored = catalogue.getArtifact(key);
  if (stored?.blob && !stored.stale) return { ...readMap(stored.json as StoredMap, stored.blob), parameters, catalogueState: stored.catalogueState, fromCache: true };
  const catalogueState = catalogue.state();
  const rows = joinedDescriptors(catalogue, recipe);
  const projection = await project(rows.vectors, rows.dims, { ...parameters, onProgress, signal });
  const map = { method, parameters, photoIds: rows.photoIds, objectIds: rows.objectIds, points: projection.points, catalogueState, fromCache: false, projection };
  // A map of photos that changed while it was computed would be stamped as current: keep it unstored.
  if (catalogue.state() === catalogueState) catalogue.putArtifact(key, writeMap(map));
  return map;
}

/** Shapes of the arrays in the stored blob, in blob order. */
interface StoredMap {
  method: ProjectionMethod;
  dims: number;
  components: number;
  count: number;
  reducedRows: number;
}

function writeMap(map: CatalogueMap): { json: StoredMap; blob: Uint8Array } {
  const { model } = map.projection;
  const json: StoredMap = { method: map.method, dims: model.dims, components: model.pca.components, count: map.photoIds.length, reducedRows: model.reduced.length / model.pca.components };
  const parts = [map.photoIds, map.objectIds, map.points, model.pca.mean, model.pca.axes, model.reduced];
  return { json, blob: Buffer.concat(parts.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength))) };
}

function readMap(json: StoredMap, blob: Uint8Array): Omit<CatalogueMap, 'parameters' | 'catalogueState' | 'fromCache'> {
  let offset = 0;
  const take = <T extends Int32Array | Float32Array>(Type: new (buffer: ArrayBuffer) => T, length: number): T => {
    const out = new Type(copyOut(blob, offset, offset + length * 4));
    offset += length * 4;
    return out;
  };
  const { method, dims, components, count, reducedRows } = json;
  const photoIds = take(Int32Array, count);
  const objectIds = take(Int32Array, count);
  const points = take(Float32Array, count * 2);
  const pca = { dims, components, mean: take(Float32Array, dims), axes: take(Float32Array, components * dims) };
  const projection = { points, model: { method, dims, pca, reduced: take(Float32Array, reducedRows * components) } };
  return { method, photoIds, objectIds, points, projection };
}
