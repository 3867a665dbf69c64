import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../errors';
import { decodeCsv, parseCsv, type CsvEncoding, type CsvRecord } from './csv';
import type { ImportPlan, ImportRow, RowFailure } from './import';

const REQUIRED = ['image_path', 'instance_id'] as const;
/** Columns with a meaning of their own; every other column is kept as metadata. */
const KNOWN = new Set<string>([...REQUIRED, 'subcategory', 'title', 'sha256']);

function manifestInvalid(path: string, what: string, hint: string): UserError {
  return new UserError('MANIFEST_INVALID', `${path}: ${what}.`, hint);
}

function readText(path: string, encoding: CsvEncoding): string {
  try {
    return decodeCsv(readFileSync(path), encoding, path);
  } catch (cause) {
    if (cause instanceof UserError) throw cause;
    throw new UserError('FILE_NOT_FOUND', `The manifest ${path} does not exist or cannot be read.`,
      'Check the path and that the drive holding it is connected.', { cause });
  }
}

/** Maps header names (trimmed, lower-case) to column numbers; refuses a header that lacks what import needs. */
function readHeader(path: string, header: CsvRecord | undefined): Map<string, number> {
  if (!header) {
    throw manifestInvalid(path, 'the file is empty', `Give it a header line with at least ${REQUIRED.join(', ')}.`);
  }
  const columns = new Map<string, number>();
  header.fields.forEach((name, i) => {
    const key = name.trim().toLowerCase();
    if (columns.has(key)) throw manifestInvalid(path, `the column "${name}" appears twice in the header`, 'Rename or remove one of them.');
    columns.set(key, i);
  });
  const missing = REQUIRED.filter((c) => !columns.has(c));
  if (missing.length > 0) {
    throw manifestInvalid(path, `the header has no ${missing.join(' or ')} column`,
      `The first line must name the columns, with at least: ${REQUIRED.join(', ')}.`);
  }
  return columns;
}

/**
 * Reads a manifest CSV: image_path (relative to the CSV's folder, or absolute), instance_id,
 * optional subcategory, title and sha256; other columns become the photo's metadata.
 */
export function planFromManifest(path: string, options: { encoding?: CsvEncoding } = {}): ImportPlan {
  const [header, ...records] = parseCsv(readText(path, options.encoding ?? 'utf-8'), path);
  const columns = readHeader(path, header);
  const base = dirname(resolve(path));
  const plan: ImportPlan = { rows: [], failures: [] };
  if (records.length === 0) {
    throw manifestInvalid(path, 'there are no rows under the header', 'Add one line per photo.');
  }
  for (const record of records) {
    const row = toRow(record, columns, base);
    if ('reason' in row) plan.failures.push(row);
    else plan.rows.push(row);
  }
  return plan;
}

function toRow(record: CsvRecord, columns: Map<string, number>, base: string): ImportRow | RowFailure {
  const where = `line ${record.line}`;
  if (record.fields.length > columns.size) {
    return { where, code: 'ROW_INVALID', reason: `It has ${record.fields.length} fields but the header names ${columns.size}; quote any field containing a comma.` };
  }
  const get = (name: string) => (columns.has(name) ? record.fields[columns.get(name)!]?.trim() ?? '' : '');
  const missing = REQUIRED.filter((c) => get(c) === '');
  if (missing.length > 0) return { where, code: 'ROW_INVALID', reason: `It has no ${missing.join(' or ')}.` };
  const metadata: Record<string, string> = {};
  for (const [name, i] of columns) if (!KNOWN.has(name)) metadata[name] = record.fields[i] ?? '';
  return {
    where,
    path: resolve(base, get('image_path')),
    instanceId: get('instance_id'),
    subcollection: get('subcategory') || null,
    title: get('title') || null,
    metadata,
    expectedSha256: get('sha256') || undefined,
  };
}
