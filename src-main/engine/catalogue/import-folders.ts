import { readdirSync, statSync } from 'node:fs';
import { extname, join, parse, resolve, sep } from 'node:path';
import { UserError } from '../errors';
import type { ImportPlan, ImportRow, RowFailure } from './import';

/** Files looked at in a folder import; anything else (notes, spreadsheets, Thumbs.db) is passed over. */
const PHOTO_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif', '.heic', '.heif']);

/**
 * The default accession-number pattern: letters then digits form the number; a trailing view
 * suffix is dropped, with or without a separator, as in the museum photos of Winterbottom et al.:
 * EG1234aa, EG1234_q1, EG1234d2, EG1234pc, EG1234_small, EG1234-2 -> EG1234.
 */
export const DEFAULT_ACCESSION_PATTERN = /^(?<id>[A-Za-z]+\d+)(?:[_-]?[a-z][a-z0-9]*|[_-]\d+)?$/;

/** Photo files below a folder, as paths relative to it, sorted so imports are repeatable. */
export function listPhotos(root: string): string[] {
  let entries: string[];
  try {
    if (!statSync(root).isDirectory()) throw new Error('not a folder');
    entries = readdirSync(root, { recursive: true }) as string[];
  } catch (cause) {
    throw new UserError('FILE_NOT_FOUND', `${root} is not a folder that can be read.`,
      'Check the path and that the drive holding it is connected.', { cause });
  }
  return entries
    .filter((p) => PHOTO_EXTENSIONS.has(extname(p).toLowerCase()) && !p.split(sep).some((part) => part.startsWith('.')))
    .sort();
}

function row(root: string, file: string, instanceId: string, subcollection: string | null): ImportRow {
  return { where: file, path: join(root, file), instanceId, subcollection, title: null, metadata: {} };
}

/**
 * One folder per object, named by its accession number (DIR/OBJECT/photo); a photo one level
 * deeper (DIR/SUBCOLLECTION/OBJECT/photo) also names its sub-collection.
 */
export function planFromFolderTree(dir: string): ImportPlan {
  const root = resolve(dir);
  const plan: ImportPlan = { rows: [], failures: [] };
  for (const file of listPhotos(root)) {
    const parts = file.split(sep);
    if (parts.length === 2) plan.rows.push(row(root, file, parts[0], null));
    else if (parts.length === 3) plan.rows.push(row(root, file, parts[1], parts[0]));
    else plan.failures.push(misplaced(file));
  }
  return plan;
}

function misplaced(where: string): RowFailure {
  return { where, code: 'ROW_INVALID',
    reason: 'It is not in an object folder: use FOLDER/OBJECT/photo or FOLDER/SUB-COLLECTION/OBJECT/photo.' };
}

/** Checks a person's pattern: it must compile and name the accession number as the group `id`. */
export function accessionPattern(source: string): RegExp {
  let pattern: RegExp;
  try {
    pattern = new RegExp(source);
  } catch (cause) {
    throw new UserError('INVALID_ARGUMENT', `The file-name pattern ${source} is not a valid regular expression.`,
      'Check its brackets and escapes.', { cause });
  }
  if (!/\(\?<id>/.test(source)) {
    throw new UserError('INVALID_ARGUMENT', `The file-name pattern ${source} has no group named id.`,
      'Mark the accession number with (?<id>...), for example ^(?<id>[A-Z]+\\d+).');
  }
  return pattern;
}

/** Takes each photo's accession number from its file name (without extension), anywhere below the folder. */
export function planFromFileNames(dir: string, pattern: RegExp = DEFAULT_ACCESSION_PATTERN): ImportPlan {
  const root = resolve(dir);
  const plan: ImportPlan = { rows: [], failures: [] };
  for (const file of listPhotos(root)) {
    const id = pattern.exec(parse(file).name)?.groups?.id;
    if (id) plan.rows.push(row(root, file, id, null));
    else plan.failures.push({ where: file, code: 'ROW_INVALID', reason: `Its name does not match the accession-number pattern ${pattern.source}.` });
  }
  return plan;
}
