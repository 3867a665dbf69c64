import type Database from 'better-sqlite3';

const PHOTO_COLUMNS = `id, object_id, sha256, original_path, managed_path, format, width, height, metadata, added_at`;
const OBJECT_COLUMNS = `o.id, c.name AS collection, o.instance_id, o.title, o.subcollection, o.metadata,
  (SELECT count(*) FROM photos p WHERE p.object_id = o.id) AS photo_count`;
const OBJECT_FILTER = `WHERE (@search IS NULL OR o.instance_id LIKE @search ESCAPE '\\' OR o.title LIKE @search ESCAPE '\\')
  AND (@subcollection IS NULL OR o.subcollection = @subcollection)`;

/** Every statement the catalogue runs, prepared once per connection. */
export function prepareStatements(db: Database.Database) {
  const s = (sql: string) => db.prepare(sql);
  return {
    state: s(`SELECT counter FROM catalogue_state WHERE id = 1`).pluck(),

    collectionId: s(`SELECT id FROM collections WHERE name = ?`).pluck(),
    addCollection: s(`INSERT INTO collections (name) VALUES (?)`),

    findObject: s(`SELECT id, subcollection FROM objects WHERE collection_id = ? AND instance_id = ?`),
    addObject: s(`INSERT INTO objects (collection_id, instance_id, title, subcollection, metadata)
      VALUES (@collectionId, @instanceId, @title, @subcollection, @metadata)`),
    setSubcollection: s(`UPDATE objects SET subcollection = ? WHERE id = ?`),
    object: s(`SELECT ${OBJECT_COLUMNS} FROM objects o JOIN collections c ON c.id = o.collection_id WHERE o.id = ?`),
    listObjects: s(`SELECT ${OBJECT_COLUMNS} FROM objects o JOIN collections c ON c.id = o.collection_id
      ${OBJECT_FILTER} ORDER BY o.instance_id COLLATE NOCASE, o.id LIMIT @limit OFFSET @offset`),
    countObjects: s(`SELECT count(*) FROM objects o ${OBJECT_FILTER}`).pluck(),

    findPhoto: s(`SELECT id, managed_path FROM photos WHERE object_id = ? AND sha256 = ?`),
    addPhoto: s(`INSERT INTO photos (object_id, sha256, original_path, managed_path, format, width, height, metadata)
      VALUES (@objectId, @sha256, @originalPath, @managedPath, @format, @width, @height, @metadata)`),
    setManagedPath: s(`UPDATE photos SET managed_path = ? WHERE id = ?`),
    photo: s(`SELECT ${PHOTO_COLUMNS} FROM photos WHERE id = ?`),
    objectPhotos: s(`SELECT ${PHOTO_COLUMNS} FROM photos WHERE object_id = ? ORDER BY id`),

    model: s(`SELECT sha256 FROM models WHERE id = ?`).pluck(),
    upsertModel: s(`INSERT INTO models (id, card, sha256) VALUES (?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET card = excluded.card, sha256 = excluded.sha256, added_at = excluded.added_at`),
    dropModelEmbeddings: s(`DELETE FROM embeddings WHERE model_id = ?`),
    // Cells and what was learned are keyed by the models they come from: "id:…", or recipeKey's
    // "…:id:…,id:…" (a model's id follows the start, a colon or a comma).
    dropModelCells: s(`DELETE FROM picture_cells WHERE substr(recipe, 1, length(@id) + 1) = @id || ':'`),
    dropModelArtifacts: s(`DELETE FROM artifacts WHERE model_id = @id OR instr(':' || replace(key, ',', ':'), ':' || @id || ':') > 0`),

    missingEmbedding: s(`SELECT id, original_path, managed_path FROM photos p WHERE id > @after AND NOT EXISTS
      (SELECT 1 FROM embeddings e WHERE e.photo_id = p.id AND e.model_id = @modelId AND e.preprocessing = @preprocessing)
      ORDER BY id LIMIT @limit`),
    embeddingBytes: s(`SELECT length(vector) FROM embeddings WHERE model_id = ? AND preprocessing = ? LIMIT 1`).pluck(),
    countEmbeddings: s(`SELECT count(*) FROM embeddings WHERE model_id = ? AND preprocessing = ?`).pluck(),
    upsertEmbedding: s(`INSERT INTO embeddings (photo_id, model_id, preprocessing, vector) VALUES (?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET vector = excluded.vector`),
    embeddings: s(`SELECT e.photo_id, p.object_id, e.vector FROM embeddings e JOIN photos p ON p.id = e.photo_id
      WHERE e.model_id = ? AND e.preprocessing = ? ORDER BY e.photo_id`).raw(),

    putArtifact: s(`INSERT OR REPLACE INTO artifacts (key, model_id, json, blob, catalogue_state)
      VALUES (@key, @modelId, @json, @blob, (SELECT counter FROM catalogue_state WHERE id = 1))`),
    artifact: s(`SELECT json, blob, catalogue_state, updated_at FROM artifacts WHERE key = ? AND model_id = ?`),
    artifactSummary: s(`SELECT json, blob IS NOT NULL AS has_blob, catalogue_state, updated_at FROM artifacts WHERE key = ? AND model_id = ?`),

    pictureCellPhotos: s(`SELECT photo_id FROM picture_cells WHERE recipe = ?`).pluck(),
    pictureCellMeans: s(`SELECT photo_id, mean FROM picture_cells WHERE recipe = ? AND length(mean) > 0`).raw(),
    pictureCells: s(`SELECT cells FROM picture_cells WHERE recipe = ? AND photo_id = ?`).pluck(),
    putPictureCells: s(`INSERT OR REPLACE INTO picture_cells (photo_id, recipe, mean, cells) VALUES (?, ?, ?, ?)`),

    logIdentification: s(`INSERT INTO identifications (query_hashes, query_paths, model_id, catalogue_state, answer)
      VALUES (@queryHashes, @queryPaths, @modelId, (SELECT counter FROM catalogue_state WHERE id = 1), @answer)`),
    identifications: s(`SELECT id, at, query_hashes, query_paths, model_id, catalogue_state, answer
      FROM identifications ORDER BY id DESC LIMIT ?`),

    counts: s(`SELECT (SELECT count(*) FROM collections) AS collections, (SELECT count(*) FROM objects) AS objects,
      (SELECT count(*) FROM photos) AS photos`),
    embeddingCounts: s(`SELECT model_id, preprocessing, count(*) AS count FROM embeddings GROUP BY model_id, preprocessing`),
    subcollections: s(`SELECT o.subcollection AS name, count(DISTINCT o.id) AS objects, count(p.id) AS photos
      FROM objects o LEFT JOIN photos p ON p.object_id = o.id GROUP BY o.subcollection ORDER BY o.subcollection`),
    photosPerObject: s(`SELECT min(n, 10) AS bucket, count(*) AS objects FROM
      (SELECT count(p.id) AS n FROM objects o LEFT JOIN photos p ON p.object_id = o.id GROUP BY o.id) GROUP BY bucket`),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
