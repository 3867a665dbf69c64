import { QUERY_CELL_PHOTOS, learnFieldDomain } from '../../engine/identify/field-domain';
import { catalogueRecipe } from '../../engine/identify/recipe';
import { MIN_FIELD_IMPOSTORS } from '../../engine/search/calibrate';
import { requiredString, withCatalogue, type Command } from '../command';
import { SESSION_OPTIONS, withDescriber } from './session-options';

export const domainCommand: Command = {
  name: 'domain',
  summary: 'Learn the field domain from a folder of unlabelled photos taken the way queries are (helps single-photo catalogues; with several photos an object, brings local evidence from pictures on a plain background and the other photos\' centres).',
  usage: '--db FILE --folder DIR',
  options: {
    db: { type: 'string', value: 'FILE', description: 'The catalogue (.sqlite).' },
    folder: { type: 'string', value: 'DIR', description: 'Photos from the field (sale listings, seizures), not of catalogued objects necessarily; tens or more.' },
    ...SESSION_OPTIONS,
  },
  async run(values, io) {
    const folder = requiredString(values, 'folder');
    await withCatalogue(values, {}, async (catalogue) => {
      await withDescriber(values, catalogueRecipe(catalogue), async (describer) => {
        const { count, failed } = await learnFieldDomain(catalogue, describer, folder);
        io.out(`Learned the field domain from ${count} photos; ${failed.length} could not be read.`);
        for (const reason of failed) io.out(`  ${reason}`);
        io.out('Where the catalogue has mostly one photo per object, identification now centres query photos on these (the catalogue on its own),'
          + ` and${count < MIN_FIELD_IMPOSTORS ? `, once there are ${MIN_FIELD_IMPOSTORS} of them,` : ''} learns its "not in the catalogue" threshold from them`
          + ' and weighs the local evidence it re-ranks by on their feature-map cells.');
        io.out('Where objects have several photos, their pictures on a plain background and the other photos\' centres now re-rank answers by local evidence too,'
          + ` and${count < MIN_FIELD_IMPOSTORS ? `, once there are ${MIN_FIELD_IMPOSTORS} of them,` : ''} "not in the catalogue" is decided on the score and local evidence together, learned from up to ${QUERY_CELL_PHOTOS} of them.`);
      });
    });
  },
};
