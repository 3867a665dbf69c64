import { catalogueRecipe, parseParts, setCatalogueRecipe } from '../../engine/identify/recipe';
import { describeFieldPhotos, embedCatalogue } from '../../engine/jobs/embed-catalogue';
import type { Progress } from '../../engine/jobs/progress';
import { optionalString, withCatalogue, type Command } from '../command';
import { SESSION_OPTIONS, withDescriber } from './session-options';

/** Exit code when some photos could not be embedded (they are listed). */
const SOME_PHOTOS_FAILED = 3;

function progressLine(p: Progress): string {
  const eta = p.etaSeconds === null ? '' : `, ${Math.ceil(p.etaSeconds)} s left`;
  return `${p.phase}: ${p.done}/${p.total} photos (${p.perSecond.toFixed(1)}/s${eta})`;
}

export const embedCommand: Command = {
  name: 'embed',
  summary: 'Compute the descriptors of every catalogue photo that lacks them (resumable).',
  usage: '--db FILE [--model ID[:gem|:mean][,ID…]] [--provider NAME]',
  options: {
    db: { type: 'string', value: 'FILE', description: 'The catalogue (.sqlite).' },
    model: { type: 'string', value: 'IDS', description: 'Backbones to describe photos with, e.g. inception-v3-mixed5:gem,mobilenet-v2-140 (the default); remembered by the catalogue.' },
    ...SESSION_OPTIONS,
  },
  async run(values, io, signal) {
    return withCatalogue(values, {}, async (catalogue) => {
      const models = optionalString(values, 'model');
      const recipe = models ? { ...catalogueRecipe(catalogue), parts: parseParts(models) } : catalogueRecipe(catalogue);
      return withDescriber(values, recipe, async (describer) => {
        setCatalogueRecipe(catalogue, recipe);
        io.err(`Embedding with ${recipe.parts.map((p) => `${p.model} (${p.pooling})`).join(' + ')} on ${describer.pool(recipe.parts[0].model).provider}.`);
        const summary = await embedCatalogue(catalogue, describer, { signal, onProgress: (p) => io.progress(progressLine(p)) })
          .finally(() => io.progress(''));
        io.out(`Embedded ${summary.embedded} photo descriptors; ${summary.failed.length} photos failed.`);
        for (const f of summary.failed) io.out(`  photo ${f.photoId}: ${f.reason}`);
        if (summary.fieldPhotos) io.out(describeFieldPhotos(summary.fieldPhotos));
        return summary.failed.length > 0 ? SOME_PHOTOS_FAILED : 0;
      });
    });
  },
};
