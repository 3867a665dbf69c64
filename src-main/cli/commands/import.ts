import type { CsvEncoding } from '../../engine/catalogue/csv';
import { runImport, type ImportPlan, type ImportProgress, type ImportSummary } from '../../engine/catalogue/import';
import { accessionPattern, planFromFileNames, planFromFolderTree } from '../../engine/catalogue/import-folders';
import { planFromManifest } from '../../engine/catalogue/import-manifest';
import { UserError } from '../../engine/errors';
import { optionalString, requiredString, withCatalogue, type CliIO, type Command, type OptionValues } from '../command';

/** Exit code when the import finished but some photos were refused. */
const SOME_ROWS_FAILED = 3;
const PROGRESS_INTERVAL_MS = 200;
const ENCODINGS: readonly CsvEncoding[] = ['utf-8', 'windows-1252'];

function planFrom(values: OptionValues): ImportPlan {
  const sources = ['manifest', 'folder', 'files'].filter((s) => typeof values[s] === 'string');
  if (sources.length !== 1) {
    throw new UserError('INVALID_ARGUMENT', 'Give exactly one of --manifest, --folder or --files.', 'See --help.');
  }
  if (values.manifest) return planFromManifest(values.manifest as string, { encoding: encoding(values) });
  if (values.folder) return planFromFolderTree(values.folder as string);
  const pattern = optionalString(values, 'pattern');
  return planFromFileNames(values.files as string, pattern === undefined ? undefined : accessionPattern(pattern));
}

function encoding(values: OptionValues): CsvEncoding {
  const name = (optionalString(values, 'encoding') ?? 'utf-8').toLowerCase() as CsvEncoding;
  if (!ENCODINGS.includes(name)) {
    throw new UserError('INVALID_ARGUMENT', `The encoding ${name} is not supported.`, `Use one of: ${ENCODINGS.join(', ')}.`);
  }
  return name;
}

function printSummary(summary: ImportSummary, io: CliIO): void {
  io.out(`Imported ${summary.imported} photos; ${summary.alreadyPresent} were already in the catalogue; ${summary.failed.length} failed.`);
  for (const f of summary.failed) io.out(`  ${f.where}: ${f.reason}`);
}

export const importCommand: Command = {
  name: 'import',
  summary: 'Add photos of objects to a catalogue (made if missing) from a manifest CSV, a folder tree or file names.',
  usage: '--db FILE (--manifest FILE.csv | --folder DIR | --files DIR [--pattern REGEX]) [--collection NAME] [--copy]',
  options: {
    db: { type: 'string', value: 'FILE', description: 'The catalogue (.sqlite); made if it does not exist.' },
    manifest: { type: 'string', value: 'FILE', description: 'CSV with image_path, instance_id and optional subcategory, title, other columns.' },
    encoding: { type: 'string', value: 'NAME', description: 'Text encoding of the manifest: utf-8 (default) or windows-1252.' },
    folder: { type: 'string', value: 'DIR', description: 'One folder per object (DIR/OBJECT/photo or DIR/SUB-COLLECTION/OBJECT/photo).' },
    files: { type: 'string', value: 'DIR', description: 'Photos named by accession number, e.g. EG1234_q1.jpg.' },
    pattern: { type: 'string', value: 'REGEX', description: 'With --files: a regular expression whose group (?<id>...) is the accession number.' },
    collection: { type: 'string', value: 'NAME', description: 'The collection to add to (default: main).' },
    copy: { type: 'boolean', description: 'Keep a copy of each photo in a folder beside the catalogue.' },
  },
  async run(values, io, signal) {
    requiredString(values, 'db'); // Checked before the source is read.
    const plan = planFrom(values);
    let shown = 0;
    const onProgress = ({ done, total, rate }: ImportProgress) => {
      if (Date.now() - shown < PROGRESS_INTERVAL_MS && done < total) return;
      shown = Date.now();
      io.progress(`Checked ${done}/${total} photos (${rate.toFixed(0)}/s)`);
    };
    return withCatalogue(values, { create: true }, async (catalogue) => {
      const options = { collection: optionalString(values, 'collection'), copy: values.copy === true, signal, onProgress };
      const summary = await runImport(catalogue, plan, options).finally(() => io.progress(''));
      printSummary(summary, io);
      return summary.failed.length > 0 ? SOME_ROWS_FAILED : 0;
    });
  },
};
