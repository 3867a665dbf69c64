import { existsSync } from 'node:fs';
import { copyFile, mkdir, rename } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { isUserError, UserError, type UserErrorCode } from '../errors';
import type { Catalogue, Metadata, NewPhoto } from './catalogue';
import { checkPhoto, type CheckedPhoto } from './photo-check';

/** One photo of one object, as a source (manifest, folder tree, file names) describes it. */
export interface ImportRow {
  /** Where the row came from, for reports: 'line 7', or the photo's path within the folder. */
  where: string;
  /** Absolute path of the photo. */
  path: string;
  instanceId: string;
  subcollection: string | null;
  title: string | null;
  /** Extra manifest columns of this row. */
  metadata: Metadata;
  /** A sha256 the source promises; a photo with other content is refused. */
  expectedSha256?: string;
}

export type FailureCode = UserErrorCode | 'DUPLICATE_ROW' | 'SUBCOLLECTION_CONFLICT' | 'CONTENT_MISMATCH' | 'ROW_INVALID';

export interface RowFailure {
  where: string;
  code: FailureCode;
  reason: string;
}

/** What a source yields: rows to import and rows already refused while reading the source. */
export interface ImportPlan {
  rows: ImportRow[];
  failures: RowFailure[];
}

export interface ImportProgress {
  done: number;
  total: number;
  /** Photos checked per second so far. */
  rate: number;
}

export interface ImportOptions {
  /** Collection the objects belong to; made if missing. */
  collection?: string;
  /** Keep a copy of every photo beside the catalogue so evidence survives moved originals. */
  copy?: boolean;
  /** Photos committed per transaction: what a crash can lose, and must redo. */
  batchSize?: number;
  onProgress?: (progress: ImportProgress) => void;
  signal?: AbortSignal;
}

export interface ImportSummary {
  total: number;
  imported: number;
  /** Photos the object already had (same content): nothing was added for them. */
  alreadyPresent: number;
  failed: RowFailure[];
}

export const DEFAULT_COLLECTION = 'main';
const DEFAULT_BATCH_SIZE = 50;
/** Photos checked at once: decoding is CPU-bound, hashing waits on the disk. */
const CONCURRENCY = 4;

interface ObjectFacts {
  subcollection: string | null;
  title: string | null;
  metadata: Metadata;
}

/**
 * Imports a plan into the catalogue in batches, each committed in one transaction, so a crash
 * loses at most one batch and running the import again resumes (present photos are skipped).
 */
export async function runImport(catalogue: Catalogue, plan: ImportPlan, options: ImportOptions = {}): Promise<ImportSummary> {
  const { rows, failures, objects } = screenRows(plan);
  const summary: ImportSummary = { total: plan.rows.length + plan.failures.length, imported: 0, alreadyPresent: 0, failed: failures };
  const collectionId = catalogue.collectionId(options.collection ?? DEFAULT_COLLECTION);
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const started = Date.now();
  let done = 0;
  const tick = () => {
    done++;
    options.onProgress?.({ done, total: rows.length, rate: done / Math.max(0.001, (Date.now() - started) / 1000) });
  };
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    const checked = await checkBatch(catalogue, batch, options, summary.failed, tick);
    commit(catalogue, collectionId, checked, objects, summary);
    if (options.signal?.aborted) throw cancelled(summary);
  }
  return summary;
}

interface Checked {
  row: ImportRow;
  photo: CheckedPhoto;
  managedPath: string | null;
}

/** Checks, hashes (and copies) the batch's photos; stops starting new ones once cancelled. */
async function checkBatch(catalogue: Catalogue, batch: ImportRow[], options: ImportOptions,
  failed: RowFailure[], tick: () => void): Promise<Checked[]> {
  // Indexed by position: workers finish out of order, reports and photo ids keep the source's.
  const results: (Checked | RowFailure | undefined)[] = new Array(batch.length);
  let next = 0;
  const worker = async () => {
    while (next < batch.length && !options.signal?.aborted) {
      const index = next++;
      results[index] = await checkRow(catalogue, batch[index], options.copy ?? false);
      tick();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const checked: Checked[] = [];
  for (const r of results) {
    if (r && 'photo' in r) checked.push(r);
    else if (r) failed.push(r);
  }
  return checked;
}

async function checkRow(catalogue: Catalogue, row: ImportRow, copy: boolean): Promise<Checked | RowFailure> {
  try {
    const photo = await checkPhoto(row.path);
    if (row.expectedSha256 && row.expectedSha256.toLowerCase() !== photo.sha256) {
      return { where: row.where, code: 'CONTENT_MISMATCH', reason: `${row.path} is not the photo the manifest describes: its sha256 differs.` };
    }
    // Copied before the row that names it is committed: a crash leaves at most an unused copy.
    const managedPath = copy ? await copyIntoCatalogue(catalogue, row.path, photo) : null;
    return { row, photo, managedPath };
  } catch (e) {
    if (!isUserError(e)) throw e;
    return { where: row.where, code: e.code, reason: e.message };
  }
}

/** Copies a photo to `<catalogue>.photos/<sha prefix>/<sha>.<ext>` unless that content is already there. */
async function copyIntoCatalogue(catalogue: Catalogue, source: string, photo: CheckedPhoto): Promise<string> {
  const extension = extname(source).slice(1).toLowerCase() || photo.format;
  const relative = catalogue.managedPhotoPath(photo.sha256, extension);
  const target = catalogue.resolveManagedPath(relative);
  if (!existsSync(target)) {
    await mkdir(dirname(target), { recursive: true });
    const partial = `${target}.${process.pid}.partial`;
    await copyFile(source, partial);
    await rename(partial, target); // Atomic: the managed path never names half a file.
  }
  return relative;
}

function commit(catalogue: Catalogue, collectionId: number, checked: Checked[],
  objects: Map<string, ObjectFacts>, summary: ImportSummary): void {
  const photos: NewPhoto[] = checked.map(({ row, photo, managedPath }) => {
    const object = objects.get(row.instanceId)!;
    return {
      instanceId: row.instanceId,
      subcollection: object.subcollection,
      title: object.title,
      objectMetadata: object.metadata,
      sha256: photo.sha256,
      originalPath: row.path,
      managedPath,
      format: photo.format,
      width: photo.width,
      height: photo.height,
      metadata: row.metadata,
    };
  });
  catalogue.addPhotos(collectionId, photos).forEach((outcome, i) => {
    if ('existing' in outcome) {
      summary.failed.push({ where: checked[i].row.where, code: 'SUBCOLLECTION_CONFLICT',
        reason: `${checked[i].row.instanceId} is already catalogued in the sub-collection "${outcome.existing}".` });
    } else if (outcome.status === 'added') summary.imported++;
    else summary.alreadyPresent++;
  });
}

function cancelled(summary: ImportSummary): UserError {
  return new UserError('CANCELLED', `Import cancelled: ${summary.imported} photos were added and are kept.`,
    'Run the same import again to carry on where it stopped.');
}

/**
 * Refuses rows that contradict others before any photo is read: a repeated photo of an object,
 * and an object given two sub-collections. Gathers each object's facts: its sub-collection, its
 * first title, and as its metadata the columns that are the same on every one of its rows.
 */
function screenRows(plan: ImportPlan): { rows: ImportRow[]; failures: RowFailure[]; objects: Map<string, ObjectFacts> } {
  const failures = [...plan.failures];
  const rows: ImportRow[] = [];
  const seen = new Map<string, string>();
  const objects = new Map<string, ObjectFacts & { stated?: string }>();
  for (const row of plan.rows) {
    const key = `${row.instanceId}\0${row.path}`;
    const first = seen.get(key);
    if (first) {
      failures.push({ where: row.where, code: 'DUPLICATE_ROW', reason: `Repeats ${first}: the same photo of ${row.instanceId}.` });
      continue;
    }
    const object = objects.get(row.instanceId);
    if (object && row.subcollection && object.subcollection && row.subcollection !== object.subcollection) {
      failures.push({ where: row.where, code: 'SUBCOLLECTION_CONFLICT',
        reason: `${row.instanceId} is in the sub-collection "${object.subcollection}" on ${object.stated}, here "${row.subcollection}".` });
      continue;
    }
    seen.set(key, row.where);
    rows.push(row);
    if (!object) objects.set(row.instanceId, { subcollection: null, title: row.title, metadata: { ...row.metadata } });
    mergeFacts(objects.get(row.instanceId)!, row);
  }
  return { rows, failures, objects };
}

function mergeFacts(object: ObjectFacts & { stated?: string }, row: ImportRow): void {
  if (object.subcollection === null && row.subcollection) {
    object.subcollection = row.subcollection;
    object.stated = row.where;
  }
  object.title ??= row.title;
  for (const [key, value] of Object.entries(object.metadata)) {
    if (row.metadata[key] !== value) delete object.metadata[key];
  }
}
