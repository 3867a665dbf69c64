import * as ort from 'onnxruntime-node';
import { UserError } from '../errors';
import type { ModelCard } from '../models/card';
import { DEFAULT_MODELS_DIR, findModelCard, modelFile } from '../models/registry';
import { openSession, type ProviderName, type SessionSettings } from './session';

export interface ModelOutputs {
  /** [n, embeddingDim], row-major. */
  embeddings: Float32Array;
  /** [n, C, h, w] when asked for. */
  featuremaps?: Float32Array;
  /** The cells' map, [n, C', h', w'], when asked for (the feature map itself unless the card names another). */
  cells?: Float32Array;
}

export interface WantedMaps {
  featuremaps?: boolean;
  cells?: boolean;
}

/** An image model ready to run: its card, its session and the provider running it. */
export class EmbeddingModel {
  private constructor(
    readonly card: ModelCard,
    private readonly session: ort.InferenceSession,
    readonly provider: ProviderName,
    readonly skippedProviders: { provider: ProviderName; reason: string }[],
  ) {}

  static async open(id: string, settings: SessionSettings & { modelsDir?: string } = {}): Promise<EmbeddingModel> {
    const modelsDir = settings.modelsDir ?? DEFAULT_MODELS_DIR;
    const card = findModelCard(id, modelsDir);
    const path = modelFile(card, modelsDir);
    const { session, provider, skipped } = await openSession(path, settings);
    checkAgainstCard(card, session, path);
    return new EmbeddingModel(card, session, provider, skipped);
  }

  /** Floats in one input photo's tensor. */
  get inputLength(): number {
    return this.card.input.width * this.card.input.height * 3;
  }

  get featuremapShape(): number[] {
    return this.card.outputs.featuremap.shape.slice(1);
  }

  /** [C, h, w] of the map whose cells carry local evidence. */
  get cellsShape(): number[] {
    return cellsOutput(this.card).shape.slice(1);
  }

  /** Runs `n` photos already laid out by `pixelsToTensor` in `input`. */
  async run(input: Float32Array, n: number, wanted: WantedMaps = {}): Promise<ModelOutputs> {
    const { input: spec, outputs } = this.card;
    const dims = spec.layout === 'NHWC' ? [n, spec.height, spec.width, 3] : [n, 3, spec.height, spec.width];
    const cells = cellsOutput(this.card).name;
    const fetches = new Set([outputs.embedding.name, ...(wanted.featuremaps ? [outputs.featuremap.name] : []), ...(wanted.cells ? [cells] : [])]);
    const result = await this.session.run({ [spec.name]: new ort.Tensor('float32', input.subarray(0, n * this.inputLength), dims) }, [...fetches]);
    return {
      embeddings: result[outputs.embedding.name].data as Float32Array,
      featuremaps: wanted.featuremaps ? (result[outputs.featuremap.name].data as Float32Array) : undefined,
      cells: wanted.cells ? (result[cells].data as Float32Array) : undefined,
    };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** The output whose cells carry local evidence: the card's `cells`, or its feature map. */
export function cellsOutput(card: ModelCard): ModelCard['outputs']['featuremap'] {
  return card.outputs.cells ?? card.outputs.featuremap;
}

/** A model whose inputs or outputs are not the ones its card names would give silent nonsense. */
function checkAgainstCard(card: ModelCard, session: ort.InferenceSession, path: string): void {
  const problems: string[] = [];
  if (!session.inputNames.includes(card.input.name)) {
    problems.push(`it has no input "${card.input.name}" (it has ${session.inputNames.join(', ')})`);
  }
  for (const out of [card.outputs.embedding, card.outputs.featuremap, ...(card.outputs.cells ? [card.outputs.cells] : [])]) {
    if (!session.outputNames.includes(out.name)) problems.push(`it has no output "${out.name}" (it has ${session.outputNames.join(', ')})`);
  }
  const input = session.inputMetadata.find((m) => m.name === card.input.name);
  if (input?.isTensor) {
    const { width, height, layout } = card.input;
    const expected = layout === 'NHWC' ? [height, width, 3] : [3, height, width];
    const actual = input.shape.slice(1);
    if (actual.length !== 3 || actual.some((d, i) => typeof d === 'number' && d !== expected[i])) {
      problems.push(`its input is [${input.shape.join(', ')}], the card says [batch, ${expected.join(', ')}]`);
    }
  }
  if (problems.length > 0) {
    throw new UserError('MODEL_MISMATCH', `The model ${path} does not match its card "${card.id}": ${problems.join('; ')}.`,
      'Fix the card (input name, layout, size, output names) or use the model file the card was written for.');
  }
}
