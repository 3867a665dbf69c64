import { partSlices, type PartSlice } from '../identify/backbone-ensemble';
import { RECIPE_FIT_ON, postprocessFor, type DescriptorPart, type DescriptorRecipe } from '../identify/recipe';
import { WHITENED_COMPONENTS, withPrototypes } from '../search/fitted-space';
import { Postprocessor, concatDescriptors } from '../search/postprocess';
import { descriptorsOf, variantKey, type EvalSet } from './dataset';
import { gatherRows, scatterRows } from './linalg';

/** One way of turning the cached raw descriptors into the vectors that are compared. */
export interface DescriptorVariant {
  /** Pooling per model; models not named use `default`. */
  pooling: { default: DescriptorPart['pooling'] } & Record<string, DescriptorPart['pooling']>;
  flip: boolean;
  postprocess: 'none' | 'centre' | 'whiten';
  /**
   * What the post-processing learns from: the catalogue's (train) photos, those plus each
   * object's prototype, or unlabelled photos of the query domain ("domain centring").
   */
  fitOn: 'catalogue' | 'catalogue+prototypes' | 'queries';
}

export const DEFAULT_VARIANT: DescriptorVariant = { pooling: { default: 'mean' }, flip: false, postprocess: 'none', fitOn: 'catalogue' };

/** Descriptors as identification computes them with `recipe`: its pooling, flip and post-processing, fitted on the catalogue and its object prototypes (as the identifier fits its whitening). */
export function recipeVariant(recipe: DescriptorRecipe): DescriptorVariant {
  const pooling = Object.fromEntries(recipe.parts.map((p) => [p.model, p.pooling]));
  return { pooling: { default: 'mean', ...pooling }, flip: recipe.flip, postprocess: recipe.postprocess, fitOn: RECIPE_FIT_ON };
}

/**
 * The variant as identification applies it to a catalogue of these objects: one of mostly
 * single photos is centred instead of whitened (postprocessFor), on the query photos, which
 * stand in for the field photos a user feeds such a catalogue. On grocery-dev's one-picture
 * catalogue the recipe's whitening gave 11-20 % top-1, this centring 35 %.
 */
export function variantForCatalogue(variant: DescriptorVariant, objectIds: ArrayLike<number>): DescriptorVariant {
  if (variant.fitOn === 'queries' || postprocessFor(variant.postprocess, objectIds) === variant.postprocess) return variant;
  return { ...variant, postprocess: 'centre', fitOn: 'queries' };
}

export function describeVariant(v: DescriptorVariant): string {
  const pooling = Object.entries(v.pooling).map(([m, p]) => (m === 'default' ? p : `${m}:${p}`)).join(',');
  return `pooling ${pooling}, ${v.flip ? 'flip' : 'no flip'}, ${v.postprocess}${v.postprocess === 'none' ? '' : ` fitted on ${v.fitOn}`}`;
}

/** Several backbones in one entry are joined (concatenated, equal weight), as a recipe with several parts. */
export function entryName(models: readonly string[]): string {
  return models.join('+');
}

/** Raw descriptors of one entry for every photo, joined when it has several models (each model's place in `parts`). */
export function rawDescriptors(set: EvalSet, models: readonly string[], variant: DescriptorVariant): { vectors: Float32Array; dims: number; parts: PartSlice[] } {
  const parts = models.map((m) => descriptorsOf(set, m, variantKey(variant.pooling[m] ?? variant.pooling.default, variant.flip)));
  const slices = partSlices(parts.map((p) => p.dims));
  if (parts.length === 1) return { ...parts[0]!, parts: slices };
  const dims = parts.reduce((n, p) => n + p.dims, 0);
  const vectors = new Float32Array(set.photos.length * dims);
  for (let r = 0; r < set.photos.length; r++) {
    vectors.set(concatDescriptors(parts.map((p) => ({ vector: p.vectors.subarray(r * p.dims, (r + 1) * p.dims) }))), r * dims);
  }
  return { vectors, dims, parts: slices };
}

/** The compared vectors of every photo, the raw ones they come from, and the post-processing learned (none for raw). */
export interface ComparedDescriptors {
  vectors: Float32Array;
  dims: number;
  raw: { vectors: Float32Array; dims: number; parts: PartSlice[] };
  postprocessor?: Postprocessor;
}

/** The catalogue's rows, the queries', and the field photos' if they are others than the queries. */
export interface CompareRows {
  catalogue: readonly number[];
  queries: readonly number[];
  field?: readonly number[];
}

/** The unlabelled photos that stand for the field: those given, or the queries themselves. */
export function fieldRows(rows: CompareRows): readonly number[] {
  return rows.field ?? rows.queries;
}

/**
 * The compared vectors of every photo: raw, or post-processed with what was learned from the
 * catalogue rows (plus prototypes) or from the field rows (the queries by default), without
 * their labels. Centring on the field is domain-wise: queries on the field photos' mean, the
 * catalogue's photos on their own.
 */
export async function comparedDescriptors(set: EvalSet, models: readonly string[], variant: DescriptorVariant,
  rows: CompareRows): Promise<ComparedDescriptors> {
  const raw = rawDescriptors(set, models, variant);
  if (variant.postprocess === 'none') return { ...raw, raw };
  const fitRows = variant.fitOn === 'queries' ? fieldRows(rows) : rows.catalogue;
  let training = gatherRows(raw.vectors, raw.dims, fitRows);
  if (variant.fitOn === 'catalogue+prototypes') training = withPrototypes(training, fitRows.map((r) => set.photos[r]!.objectId), raw.dims);
  const postprocessor = await Postprocessor.fit(training, raw.dims, { mode: variant.postprocess, components: WHITENED_COMPONENTS });
  const vectors = await postprocessor.applyMany(raw.vectors);
  if (variant.fitOn === 'queries' && variant.postprocess === 'centre') {
    // Domain-wise centring, as identification with field photos: the catalogue's photos on their own mean.
    const catalogue = gatherRows(raw.vectors, raw.dims, rows.catalogue);
    const own = await Postprocessor.fit(catalogue, raw.dims, { mode: 'centre' });
    scatterRows(vectors, raw.dims, rows.catalogue, own.applyBatch(catalogue));
  }
  return { vectors, dims: postprocessor.outDims, raw, postprocessor };
}
