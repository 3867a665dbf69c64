import { UserError } from '../../engine/errors';
import { Identifier } from '../../engine/identify/identifier';
import { catalogueRecipe } from '../../engine/identify/recipe';
import { optionalString, withCatalogue, type Command } from '../command';
import { SESSION_OPTIONS, withDescriber } from './session-options';

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train the instance classifier on the catalogue (the paper\'s method); identify then fuses it with retrieval.',
  usage: '--db FILE [--hidden N]',
  options: {
    db: { type: 'string', value: 'FILE', description: 'The catalogue (.sqlite), embedded with `embed`.' },
    hidden: { type: 'string', value: 'N', description: 'Width of a hidden layer (the paper used 2048); default none (linear).' },
    ...SESSION_OPTIONS,
  },
  async run(values, io, signal) {
    const hidden = Number(optionalString(values, 'hidden') ?? 0);
    if (!Number.isInteger(hidden) || hidden < 0) throw new UserError('INVALID_ARGUMENT', `--hidden ${values.hidden} is not a whole number.`, 'Give e.g. --hidden 2048, or leave it out.');
    await withCatalogue(values, {}, async (catalogue) => {
      await withDescriber(values, catalogueRecipe(catalogue), async (describer) => {
        const classifier = await new Identifier(catalogue, describer).trainClassifier({
          hidden, signal,
          onProgress: (p) => io.progress(`epoch ${p.epoch}/${p.epochs}: loss ${p.loss.toFixed(3)}${p.valTop1 === null ? '' : `, validation top-1 ${(p.valTop1 * 100).toFixed(1)} %`}`),
      });
      io.progress('');
      io.out(`Trained the instance classifier on ${classifier.objectIds.length} objects; identify now fuses it with retrieval until the catalogue changes.`);
      });
    });
  },
};
