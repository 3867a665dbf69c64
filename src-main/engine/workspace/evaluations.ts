import { basename, extname } from 'node:path';
import type { DescriptorChoice, EvaluationRequest, EvaluationSummary } from '../../contract';
import { UserError } from '../errors';
import { prepareEvaluationSet } from '../evaluation/dataset';
import { recipeVariant, type DescriptorVariant } from '../evaluation/descriptors';
import { describeDescriptors, evaluate } from '../evaluation/protocols';
import { renderHtmlReport, type EvaluationReport } from '../evaluation/report';
import type { PoolSettings } from '../inference/pool';
import type { Progress } from '../jobs/progress';
import { DEFAULT_RECIPE } from '../identify/recipe';
import { DEFAULT_MODELS_DIR, findModelCard, modelBytes } from '../models/registry';

/**
 * The Evaluate view's runs: accuracy measured on a labelled manifest, as `artefact-lens evaluate`
 * measures it (descriptors cached per manifest), and the last report, kept for export.
 */
export class Evaluations {
  private last?: EvaluationReport;

  constructor(private readonly settings: PoolSettings) {}

  /** Refused as an answer, before a job starts: a field protocol without its splits, a model that is not installed. */
  check(request: EvaluationRequest): void {
    if (request.protocol === 'field' && !(request.catalogueSplits?.length && request.querySplits?.length)) {
      throw new UserError('INVALID_ARGUMENT', 'The field protocol compares the catalogue photos with the query photos, so it needs both split values.',
        'Give the values of the manifest\'s split column that form the catalogue (e.g. catalogue, train) and those of the queries (e.g. val).');
    }
    for (const model of new Set(request.models.flat())) findModelCard(model, this.settings.modelsDir ?? DEFAULT_MODELS_DIR);
  }

  async run(request: EvaluationRequest, signal: AbortSignal, report: (p: Progress) => void): Promise<EvaluationSummary> {
    this.last = undefined;
    const started = performance.now();
    const models = [...new Set(request.models.flat())];
    const set = await prepareEvaluationSet(request.manifest, models, { settings: this.settings, signal, onProgress: report });
    const options = {
      protocol: request.protocol, models: request.models, classifiers: request.classifiers, seeds: request.seeds,
      minImages: request.protocol === 'paper' ? request.minImages : request.minImages.slice(0, 1),
      catalogueSplits: request.catalogueSplits, querySplits: request.querySplits, variant: variantOf(request.descriptors),
    };
    const result = await evaluate(set, { ...options, signal, onProgress: report });
    this.last = {
      ...result,
      manifest: request.manifest,
      dataset: { photos: set.photos.length, objects: new Set(set.photos.map((p) => p.objectId)).size, unreadable: set.unreadable },
      settings: { ...options, variant: result.variant, descriptors: describeDescriptors(result), models: request.models.map((m) => m.join('+')) },
      modelBytes: modelBytes(models, this.settings.modelsDir),
      seconds: (performance.now() - started) / 1000,
    };
    const { protocol, manifest, dataset, means, openSetMeans, seconds, settings } = this.last;
    return { protocol, manifest, dataset, means, openSetMeans, seconds, modelBytes: this.last.modelBytes, settings, seeds: request.seeds };
  }

  /** The last report as the CLI writes it: a self-contained HTML page, or every figure as JSON. */
  export(format: 'html' | 'json'): { bytes: Uint8Array; fileName: string } {
    if (!this.last) {
      throw new UserError('INVALID_ARGUMENT', 'There is no evaluation to export yet.', 'Run an evaluation first; its report can then be exported.');
    }
    const text = format === 'html' ? renderHtmlReport(this.last) : `${JSON.stringify(this.last, null, 1)}\n`;
    const name = `${basename(this.last.manifest, extname(this.last.manifest))}-evaluation.${format}`;
    return { bytes: new TextEncoder().encode(text), fileName: name };
  }
}

/** The descriptors a request asks for; by default those of the identification recipe. */
function variantOf(choice: DescriptorChoice | undefined): DescriptorVariant {
  const recipe = recipeVariant(DEFAULT_RECIPE);
  if (!choice) return recipe;
  const pooling = choice.pooling === 'recipe' ? recipe.pooling : { default: choice.pooling };
  return { pooling, flip: choice.flip, postprocess: choice.postprocess, fitOn: choice.fitOn };
}
