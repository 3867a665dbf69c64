import type Database from 'better-sqlite3';

/** Tables whose changes make anything fitted on the catalogue (whitening, thresholds) stale. */
const STATEFUL_TABLES = ['objects', 'photos', 'embeddings'] as const;

function stateTriggers(): string {
  return STATEFUL_TABLES.flatMap((table) => ['INSERT', 'UPDATE', 'DELETE'].map((event) => `
    CREATE TRIGGER ${table}_${event.toLowerCase()}_bumps_state AFTER ${event} ON ${table}
    BEGIN UPDATE catalogue_state SET counter = counter + 1 WHERE id = 1; END;`)).join('\n');
}

const NOW = `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

/**
 * Migration i takes a catalogue from user_version i to i + 1. Only ever append: a catalogue a
 * person copied years ago must still open.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT ${NOW}
  );
  CREATE TABLE objects (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    instance_id TEXT NOT NULL,
    title TEXT,
    subcollection TEXT,
    metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    UNIQUE (collection_id, instance_id)
  );
  CREATE INDEX objects_by_subcollection ON objects(subcollection);
  CREATE TABLE photos (
    id INTEGER PRIMARY KEY,
    object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    original_path TEXT NOT NULL,
    managed_path TEXT,
    format TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    added_at TEXT NOT NULL DEFAULT ${NOW},
    UNIQUE (object_id, sha256)
  );
  CREATE INDEX photos_by_sha256 ON photos(sha256);
  CREATE TABLE models (
    id TEXT PRIMARY KEY,
    card TEXT NOT NULL CHECK (json_valid(card)),
    sha256 TEXT NOT NULL,
    added_at TEXT NOT NULL DEFAULT ${NOW}
  );
  -- A rowid table, not WITHOUT ROWID: vectors are kilobytes, too large for a clustered key.
  CREATE TABLE embeddings (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    model_id TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    preprocessing TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (photo_id, model_id, preprocessing)
  );
  -- Loading all vectors of one model in photo order walks this index.
  CREATE INDEX embeddings_by_model ON embeddings(model_id, preprocessing, photo_id);
  CREATE TABLE artifacts (
    key TEXT NOT NULL,
    model_id TEXT NOT NULL DEFAULT '',
    json TEXT CHECK (json IS NULL OR json_valid(json)),
    blob BLOB,
    catalogue_state INTEGER NOT NULL,
    updated_at TEXT NOT NULL DEFAULT ${NOW},
    PRIMARY KEY (key, model_id)
  );
  CREATE TABLE identifications (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL DEFAULT ${NOW},
    query_hashes TEXT NOT NULL CHECK (json_valid(query_hashes)),
    query_paths TEXT NOT NULL CHECK (json_valid(query_paths)),
    model_id TEXT NOT NULL,
    catalogue_state INTEGER NOT NULL,
    answer TEXT NOT NULL CHECK (json_valid(answer))
  );
  -- The log is evidence: nothing may rewrite or remove an entry.
  CREATE TRIGGER identifications_no_update BEFORE UPDATE ON identifications
    BEGIN SELECT RAISE(ABORT, 'the identification log is append-only'); END;
  CREATE TRIGGER identifications_no_delete BEFORE DELETE ON identifications
    BEGIN SELECT RAISE(ABORT, 'the identification log is append-only'); END;
  CREATE TABLE catalogue_state (id INTEGER PRIMARY KEY CHECK (id = 1), counter INTEGER NOT NULL);
  INSERT INTO catalogue_state VALUES (1, 0);
  ${stateTriggers()}
  `,
  `
  -- Each catalogue picture's feature-map cells for local evidence (identify/local-evidence.ts),
  -- a row per picture so that identification reads only its candidates'. Not catalogue state:
  -- they follow from the photos alone.
  CREATE TABLE picture_cells (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    recipe TEXT NOT NULL,
    mean BLOB NOT NULL,
    cells BLOB NOT NULL,
    PRIMARY KEY (recipe, photo_id)
  );
  -- Kept as one artifact before: described again, a row per picture.
  DELETE FROM artifacts WHERE key LIKE 'picture-cells:%';
  `,
  `
  -- Pictures checked for a plain background were kept under the same recipe as every picture of
  -- a one-photo catalogue; they now have their own (cellRecipe). The checks are made again there.
  DELETE FROM picture_cells WHERE length(cells) = 0;
  `,
  `
  -- Several-photo catalogues kept the cells of two pictures an object on a plain background; each
  -- photo now keeps its object cut out or its centre, under recipes of their own (cellRecipe).
  DELETE FROM picture_cells WHERE recipe LIKE '%:plain';
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema up to date; run inside an immediate transaction so two processes cannot race. */
export function migrate(db: Database.Database, fromVersion: number): void {
  if (fromVersion >= SCHEMA_VERSION) return;
  for (let v = fromVersion; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}
