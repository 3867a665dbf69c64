import type { CatalogueStats } from '../../engine/catalogue/catalogue';
import { installedModelFiles } from '../../engine/models/registry';
import { withCatalogue, type Command } from '../command';

/** `outdated(modelId)`: whether the stored descriptors come from another model file than the installed one. */
function describe(path: string, s: CatalogueStats, outdated: (modelId: string) => boolean): string[] {
  const stale = (modelId: string) => (outdated(modelId) ? ', from another version of the model file: run embed' : '');
  const lines = [
    `Catalogue ${path}`,
    `${s.collections} collections, ${s.objects} objects, ${s.photos} photos`,
    'Embeddings:',
    ...(s.embeddings.length === 0 ? ['  none yet'] : s.embeddings.map((e) => `  ${e.modelId} (${e.preprocessing}): ${e.count}${stale(e.modelId)}`)),
    'Sub-collections:',
    ...s.subcollections.map((c) => `  ${c.name ?? '(none)'}: ${c.objects} objects, ${c.photos} photos`),
    'Objects by number of photos:',
  ];
  s.photosPerObject.forEach((objects, photos) => {
    if (objects > 0) lines.push(`  ${photos === s.photosPerObject.length - 1 ? `${photos}+` : photos}: ${objects}`);
  });
  return lines;
}

export const statsCommand: Command = {
  name: 'stats',
  summary: 'Show what a catalogue holds: objects, photos, embeddings, sub-collections.',
  usage: '--db FILE [--json]',
  options: {
    db: { type: 'string', value: 'FILE', description: 'The catalogue (.sqlite).' },
    json: { type: 'boolean', description: 'Print the figures as JSON.' },
  },
  async run(values, io) {
    await withCatalogue(values, { readonly: true }, (catalogue) => {
      const stats = catalogue.stats();
      const installed = installedModelFiles();
      io.out(values.json ? JSON.stringify(stats, null, 2) : describe(catalogue.path, stats, (id) => catalogue.fromOtherModelFile(id, installed.get(id))).join('\n'));
    });
  },
};
