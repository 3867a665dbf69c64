import type { Describer } from '../identify/describe';
import { GEM_P, type DescriptorPart } from '../identify/recipe';
import type { PhotoInput } from '../inference/embed';
import { centredCosine, evidenceMap, poolFeaturemap, type FeatureMapShape } from './maps';
import { occlusionMap, type OcclusionOptions, type OcclusionResult } from './occlusion';

export interface MatchExplanation {
  model: string;
  /** Grid of both maps (the model's feature map). */
  columns: number;
  rows: number;
  /** Evidence in the query photo for the matched catalogue photo (see evidenceMap). */
  query: Float32Array;
  /** Evidence in the catalogue photo for the query photo. */
  match: Float32Array;
  /** Cosine of the two photos' descriptors in this model, centred on the catalogue's mean if given. */
  score: number;
}

function partOf(describer: Describer, part?: DescriptorPart): DescriptorPart {
  // The first part of the recipe has the finest feature map (InceptionV3: 17 x 17).
  return part ?? describer.recipe.parts[0];
}

function shapeOf(describer: Describer, part: DescriptorPart): FeatureMapShape {
  const [, channels, height, width] = describer.pool(part.model).card.outputs.featuremap.shape;
  return { channels, height, width };
}

/**
 * Similarity maps for the compare panel, from one forward pass of each photo: no gradients,
 * so they work with any ONNX model that has a feature-map output.
 */
export async function explainMatch(describer: Describer, query: PhotoInput, match: PhotoInput, options: { part?: DescriptorPart; mean?: Float32Array } = {}): Promise<MatchExplanation> {
  const used = partOf(describer, options.part);
  const shape = shapeOf(describer, used);
  const p = used.pooling === 'gem' ? GEM_P : 1;
  const [q, m] = await describer.pool(used.model).embedOnce([query, match], { withFeaturemaps: true });
  if ('error' in q) throw q.error;
  if ('error' in m) throw m.error;
  const [queryDescriptor, matchDescriptor] = [q, m].map((r) => poolFeaturemap(r.featuremap!, shape, p));
  return {
    model: used.model,
    columns: shape.width,
    rows: shape.height,
    query: evidenceMap(q.featuremap!, shape, matchDescriptor, { p, mean: options.mean }),
    match: evidenceMap(m.featuremap!, shape, queryDescriptor, { p, mean: options.mean }),
    score: centredCosine(queryDescriptor, matchDescriptor, options.mean),
  };
}

/** The thorough mode: occlusion sensitivity of the query's similarity to the matched photo. */
export async function explainByOcclusion(describer: Describer, query: PhotoInput, match: PhotoInput, options: OcclusionOptions & { part?: DescriptorPart } = {}): Promise<OcclusionResult> {
  const used = partOf(describer, options.part);
  const shape = shapeOf(describer, used);
  const p = used.pooling === 'gem' ? GEM_P : 1;
  const [m] = await describer.pool(used.model).embedOnce([match], { withFeaturemaps: true });
  if ('error' in m) throw m.error;
  return occlusionMap(describer.pool(used.model), query, poolFeaturemap(m.featuremap!, shape, p), { p, ...options });
}
