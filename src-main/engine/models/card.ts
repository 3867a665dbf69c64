import { readFileSync } from 'node:fs';
import { UserError } from '../errors';
import type { ColourHistogramOptions } from './convert/colour-histogram';

/**
 * A model card: every model-specific fact the engine needs, so that any ONNX image model
 * with a card plugs in without code changes.
 */
export interface InputSpec {
  /** Name of the ONNX graph input. */
  name: string;
  layout: 'NHWC' | 'NCHW';
  width: number;
  height: number;
  colourOrder: 'RGB' | 'BGR';
  /** Pixel values 0..255 are mapped linearly onto [range[0], range[1]] ... */
  range: [number, number];
  /** ... then, per channel in colourOrder, (v - mean) / std. */
  mean?: [number, number, number];
  std?: [number, number, number];
  /** squash: stretch to size (aspect not kept); centre-crop: fill then crop; letterbox: fit and pad. */
  resize: 'squash' | 'centre-crop' | 'letterbox';
}

export interface OutputSpec {
  name: string;
  /** Shape with -1 for the batch dimension. */
  shape: number[];
}

export interface ModelCard {
  id: string;
  title: string;
  description: string;
  licence: string;
  /** Where the weights come from, e.g. nsfwjs@4.4.0, and the sha256 of each source file. */
  source: { package: string; version: string; files: Record<string, string> };
  /** Generated or supplied .onnx beside the card, and its sha256. */
  file: string;
  sha256: string;
  input: InputSpec;
  /** `cells`: the map whose cells carry local evidence, when not the feature map (an earlier, finer-grained layer). */
  outputs: { embedding: OutputSpec; featuremap: OutputSpec; cells?: OutputSpec };
  embeddingDim: number;
  similarity: 'cosine';
  /** How to build the .onnx: from the source package's model folder, or written whole (a colour histogram); absent for models brought by a user. */
  converter?: { kind: 'tfjs-layers' | 'tfjs-graph'; modelDir: string; options: Record<string, unknown> } | { kind: 'colour-histogram'; options: ColourHistogramOptions };
}

export function readModelCard(path: string): ModelCard {
  let card: ModelCard;
  try {
    card = JSON.parse(readFileSync(path, 'utf8')) as ModelCard;
  } catch (cause) {
    throw new UserError('MODEL_CORRUPT', `The model card ${path} cannot be read as JSON.`,
      'Restore it from the installation (npm install) or fix the JSON.', { cause });
  }
  const problems = validateCard(card);
  if (problems.length > 0) {
    throw new UserError('MODEL_CORRUPT', `The model card ${path} is incomplete: ${problems.join('; ')}.`,
      'Fill in the missing fields; see models/README.md for the format.');
  }
  return card;
}

function validateCard(c: Partial<ModelCard>): string[] {
  const problems: string[] = [];
  for (const key of ['id', 'file', 'input', 'outputs', 'embeddingDim'] as const) {
    if (c[key] === undefined) problems.push(`"${key}" is missing`);
  }
  const i = c.input;
  if (i) {
    if (!['NHWC', 'NCHW'].includes(i.layout)) problems.push('input.layout must be NHWC or NCHW');
    if (!['RGB', 'BGR'].includes(i.colourOrder)) problems.push('input.colourOrder must be RGB or BGR');
    if (!['squash', 'centre-crop', 'letterbox'].includes(i.resize)) problems.push('input.resize must be squash, centre-crop or letterbox');
    if (!(i.width > 0 && i.height > 0)) problems.push('input.width and input.height must be positive');
    if (!Array.isArray(i.range) || i.range.length !== 2) problems.push('input.range must be [min, max]');
  }
  if (c.outputs && (!c.outputs.embedding?.name || !c.outputs.featuremap?.name)) {
    problems.push('outputs.embedding and outputs.featuremap need a name');
  }
  if (c.outputs?.cells && !(c.outputs.cells.name && c.outputs.cells.shape?.length === 4)) problems.push('outputs.cells needs a name and a shape [-1, C, h, w]');
  return problems;
}
