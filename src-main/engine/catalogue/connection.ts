import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { UserError } from '../errors';
import { migrate, SCHEMA_VERSION } from './schema';

export interface OpenOptions {
  /** Make a new, empty catalogue when the file does not exist. */
  create?: boolean;
  readonly?: boolean;
  /** How long to wait for another program's write to finish before giving up. */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 3000;

/** Turns SQLite's lock and format errors into what a person can act on; anything else is a bug. */
export function asCatalogueError(e: unknown, path: string): unknown {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string') return e;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new UserError('CATALOGUE_LOCKED', `The catalogue ${path} is in use by another program.`,
      'Close the other Artefact Lens window or command using it, then try again.', { cause: e });
  }
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) return notACatalogue(path, e);
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY')) {
    return new UserError('CATALOGUE_INVALID', `The catalogue ${path} cannot be opened for writing.`,
      'Check that the folder is writable and the drive is connected.', { cause: e });
  }
  return e;
}

function notACatalogue(path: string, cause?: unknown): UserError {
  return new UserError('CATALOGUE_INVALID', `${path} is not an Artefact Lens catalogue.`,
    'Choose a catalogue file (.sqlite) made by Artefact Lens, or give a new file name to start one.', { cause });
}

function hasTables(db: Database.Database): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master LIMIT 1`).get() !== undefined;
}

/** Refuses files this version cannot read, before anything is written to them. */
function checkVersion(db: Database.Database, path: string, options: OpenOptions): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new UserError('CATALOGUE_TOO_NEW', `The catalogue ${path} was made by a newer Artefact Lens.`,
      'Update the app to open it.');
  }
  if (version === 0 && (hasTables(db) || !options.create)) throw notACatalogue(path);
  if (version < SCHEMA_VERSION && options.readonly) {
    throw new UserError('CATALOGUE_NEEDS_UPGRADE', `The catalogue ${path} was made by an older Artefact Lens.`,
      'Open it once without read-only so it can be upgraded.');
  }
}

function connect(path: string, options: OpenOptions): Database.Database {
  if (!options.create && !existsSync(path)) {
    throw new UserError('FILE_NOT_FOUND', `The catalogue ${path} does not exist.`,
      'Check the path, or create a catalogue by importing photos into it.');
  }
  return new Database(path, {
    readonly: options.readonly ?? false,
    timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
  });
}

/** Opens (or creates) a catalogue file with WAL, foreign keys and an up-to-date schema. */
export function openDatabase(path: string, options: OpenOptions = {}): Database.Database {
  const db = connect(path, options);
  try {
    checkVersion(db, path, options);
    db.pragma('foreign_keys = ON');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // Immediate: takes the write lock now, so a catalogue busy elsewhere fails at open, not
      // mid-import; the version is read again under the lock in case another process just migrated.
      db.transaction(() => migrate(db, db.pragma('user_version', { simple: true }) as number)).immediate();
    }
    return db;
  } catch (e) {
    db.close();
    throw asCatalogueError(e, path);
  }
}
