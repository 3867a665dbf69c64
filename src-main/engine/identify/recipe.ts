import type { Catalogue } from '../catalogue/catalogue';
import { UserError } from '../errors';
import type { AggregationMethod } from '../search/aggregate';

/** One backbone's contribution to the descriptor. */
export interface DescriptorPart {
  model: string;
  /** mean: the model's global average; gem: generalised mean (p = 3) of its feature map. */
  pooling: 'mean' | 'gem';
  /** Share of the joined descriptor's cosine; 1 if absent. */
  weight?: number;
}

/** How photos become comparable descriptors, and how photo scores become object scores. */
export interface DescriptorRecipe {
  parts: DescriptorPart[];
  /** Test-time augmentation: average with the left-right mirrored photo. */
  flip: boolean;
  /** Learned from the catalogue: none, centring on its mean, or PCA whitening. */
  postprocess: 'none' | 'centre' | 'whiten';
  aggregation: AggregationMethod;
}

/**
 * Research measurements (issue notes): GeM helps InceptionV3, not MobileNetV2; flip adds
 * 1-7 points; whitening fitted on the catalogue with object prototypes over both models'
 * joined descriptors gave the best identification on both clean and field photos. The colour
 * histogram adds the objects' own colours: on coil100-dev's paper protocol top-1 96.8 → 99.7 %,
 * with grocery-dev's shop photos level or better (field 78 → 78 %, one picture 72 → 76 %).
 */
export const DEFAULT_RECIPE: DescriptorRecipe = {
  parts: [
    { model: 'inception-v3-mixed5', pooling: 'gem' },
    { model: 'mobilenet-v2-140', pooling: 'mean' },
    { model: 'colour-histogram', pooling: 'mean' },
  ],
  flip: true,
  postprocess: 'whiten',
  aggregation: 'prototype',
};

/** What identification learns its post-processing from: the catalogue's photos and each object's mean. */
export const RECIPE_FIT_ON = 'catalogue+prototypes';

/**
 * True when at least half the objects have two photos or more: only then can whitening or the
 * instance classifier learn how photos of one object vary.
 */
export function mostlySeveralPhotos(objectIds: ArrayLike<number>): boolean {
  const photos = new Map<number, number>();
  for (const id of Array.from(objectIds)) photos.set(id, (photos.get(id) ?? 0) + 1);
  return [...photos.values()].filter((n) => n >= 2).length * 2 >= photos.size;
}

/**
 * The post-processing a catalogue gets: a catalogue of mostly single photos is centred instead
 * of whitened (on grocery-dev's one-picture catalogue whitening cost 8 to 10 points of top-1).
 */
export function postprocessFor(wanted: DescriptorRecipe['postprocess'], objectIds: ArrayLike<number>): DescriptorRecipe['postprocess'] {
  return wanted === 'whiten' && !mostlySeveralPhotos(objectIds) ? 'centre' : wanted;
}

export const GEM_P = 3;

/** The catalogue stores one descriptor per photo, model and this key. */
export function storageKey(part: DescriptorPart, flip: boolean): string {
  return `${part.pooling === 'gem' ? `gem${GEM_P}` : 'mean'}${flip ? '+flip' : ''}`;
}

/** Identifies everything learned from the catalogue for a recipe (whitening, thresholds). */
export function recipeKey(r: DescriptorRecipe): string {
  const parts = r.parts.map((p) => `${p.model}:${storageKey(p, r.flip)}:${p.weight ?? 1}`).join(',');
  return `${parts}|${r.postprocess}|${r.aggregation}`;
}

/** Parses "model[:gem|mean][,model…]" as the CLI and settings give it. */
export function parseParts(spec: string): DescriptorPart[] {
  return spec.split(',').map((item) => {
    const [model, pooling = 'mean'] = item.trim().split(':');
    if (!model || !['mean', 'gem'].includes(pooling)) {
      throw new UserError('INVALID_ARGUMENT', `"${item}" is not a model with a pooling.`, 'Write models as id or id:gem or id:mean, separated by commas.');
    }
    return { model, pooling: pooling as DescriptorPart['pooling'] };
  });
}

/** The recipe a catalogue was embedded with (stored in it), or the default. */
export function catalogueRecipe(catalogue: Catalogue): DescriptorRecipe {
  return (catalogue.getArtifact('recipe')?.json as DescriptorRecipe | undefined) ?? DEFAULT_RECIPE;
}

export function setCatalogueRecipe(catalogue: Catalogue, recipe: DescriptorRecipe): void {
  catalogue.putArtifact('recipe', { json: recipe });
}
