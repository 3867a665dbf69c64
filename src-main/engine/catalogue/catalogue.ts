import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { UserError } from '../errors';
import { asCatalogueError, openDatabase, type OpenOptions } from './connection';
import { prepareStatements, type Statements } from './statements';

export type { OpenOptions } from './connection';

export type Metadata = Record<string, string>;

export interface ObjectRecord {
  id: number;
  collection: string;
  /** The accession number. */
  instanceId: string;
  title: string | null;
  subcollection: string | null;
  metadata: Metadata;
  photoCount: number;
}

export interface PhotoRecord {
  id: number;
  objectId: number;
  sha256: string;
  originalPath: string;
  /** Absolute path of the copy kept beside the catalogue, if one was made. */
  managedPath: string | null;
  /** The file to read: the managed copy while it exists, else the original. */
  path: string;
  format: string;
  width: number;
  height: number;
  metadata: Metadata;
  addedAt: string;
}

/** One photo of one object, as the importer hands it over after checking and hashing it. */
export interface NewPhoto {
  instanceId: string;
  /** null: the source does not say; it then agrees with whatever the object already has. */
  subcollection: string | null;
  title: string | null;
  objectMetadata: Metadata;
  sha256: string;
  originalPath: string;
  /** Relative to the catalogue's folder (see managedPhotoPath). */
  managedPath: string | null;
  format: string;
  width: number;
  height: number;
  metadata: Metadata;
}

export type AddPhotoOutcome =
  | { status: 'added' | 'present'; objectId: number; photoId: number }
  | { status: 'subcollection-conflict'; existing: string };

export interface ObjectQuery {
  /** Part of an accession number or title; case-insensitive. */
  search?: string;
  subcollection?: string;
  offset?: number;
  limit?: number;
}

export interface LoadedEmbeddings {
  dim: number;
  photoIds: Int32Array;
  objectIds: Int32Array;
  /** Row i (dim floats from i * dim) belongs to photoIds[i]. */
  vectors: Float32Array;
}

export interface Artifact {
  json: unknown;
  blob: Buffer | null;
  /** The catalogue state it was fitted on. */
  catalogueState: number;
  /** True when photos, objects or embeddings changed since it was stored. */
  stale: boolean;
  updatedAt: string;
}

export interface IdentificationEntry {
  queryHashes: string[];
  queryPaths: string[];
  modelId: string;
  answer: unknown;
}

export interface LoggedIdentification extends IdentificationEntry {
  id: number;
  at: string;
  catalogueState: number;
}

export interface CatalogueStats {
  collections: number;
  objects: number;
  photos: number;
  embeddings: { modelId: string; preprocessing: string; count: number }[];
  subcollections: { name: string | null; objects: number; photos: number }[];
  /** Index i: objects with i photos; the last index counts objects with 10 or more. */
  photosPerObject: number[];
  state: number;
}

type Row = Record<string, unknown>;

/** One catalogue: a single SQLite file (plus an optional `<file>.photos` folder of copies). */
export class Catalogue {
  private readonly sql: Statements;

  private constructor(readonly path: string, private readonly db: Database.Database) {
    this.sql = prepareStatements(db);
  }

  static open(path: string, options: OpenOptions = {}): Catalogue {
    const absolute = resolve(path);
    return new Catalogue(absolute, openDatabase(absolute, options));
  }

  close(): void {
    this.db.close();
  }

  /** Changes on every write to objects, photos or embeddings: compare to tell if a fitted thing is stale. */
  state(): number {
    return this.sql.state.get() as number;
  }

  /** Where a managed copy of a photo lives, relative to the catalogue's folder. */
  managedPhotoPath(sha256: string, extension: string): string {
    return join(`${basename(this.path)}.photos`, sha256.slice(0, 2), `${sha256}.${extension}`);
  }

  resolveManagedPath(relative: string): string {
    return join(dirname(this.path), relative);
  }

  collectionId(name: string): number {
    const existing = this.sql.collectionId.get(name) as number | undefined;
    if (existing !== undefined) return existing;
    return this.write(() => Number(this.sql.addCollection.run(name).lastInsertRowid));
  }

  /** Adds photos (and their objects) in one transaction; a photo the object already has is 'present'. */
  addPhotos(collectionId: number, photos: NewPhoto[]): AddPhotoOutcome[] {
    return this.write(() => photos.map((p) => this.addPhoto(collectionId, p)));
  }

  private addPhoto(collectionId: number, p: NewPhoto): AddPhotoOutcome {
    const object = this.objectFor(collectionId, p);
    if ('existing' in object) return { status: 'subcollection-conflict', existing: object.existing };
    const found = this.sql.findPhoto.get(object.id, p.sha256) as { id: number; managed_path: string | null } | undefined;
    if (found) {
      if (p.managedPath && !found.managed_path) this.sql.setManagedPath.run(p.managedPath, found.id);
      return { status: 'present', objectId: object.id, photoId: found.id };
    }
    const photoId = Number(this.sql.addPhoto.run({
      ...p, objectId: object.id, metadata: JSON.stringify(p.metadata),
    }).lastInsertRowid);
    return { status: 'added', objectId: object.id, photoId };
  }

  private objectFor(collectionId: number, p: NewPhoto): { id: number } | { existing: string } {
    const found = this.sql.findObject.get(collectionId, p.instanceId) as { id: number; subcollection: string | null } | undefined;
    if (!found) {
      const metadata = JSON.stringify(p.objectMetadata);
      return { id: Number(this.sql.addObject.run({ ...p, collectionId, metadata }).lastInsertRowid) };
    }
    if (p.subcollection !== null && found.subcollection !== p.subcollection) {
      if (found.subcollection !== null) return { existing: found.subcollection };
      this.sql.setSubcollection.run(p.subcollection, found.id);
    }
    return { id: found.id };
  }

  getObject(id: number): ObjectRecord | undefined {
    const row = this.sql.object.get(id) as Row | undefined;
    return row && toObject(row);
  }

  listObjects(query: ObjectQuery = {}): { total: number; objects: ObjectRecord[] } {
    const params = {
      search: query.search ? `%${query.search.replace(/[\\%_]/g, '\\$&')}%` : null,
      subcollection: query.subcollection ?? null,
    };
    const rows = this.sql.listObjects.all({ ...params, offset: query.offset ?? 0, limit: query.limit ?? 100 }) as Row[];
    return { total: this.sql.countObjects.get(params) as number, objects: rows.map(toObject) };
  }

  getPhoto(id: number): PhotoRecord | undefined {
    const row = this.sql.photo.get(id) as Row | undefined;
    return row && this.toPhoto(row);
  }

  objectPhotos(objectId: number): PhotoRecord[] {
    return (this.sql.objectPhotos.all(objectId) as Row[]).map((r) => this.toPhoto(r));
  }

  private toPhoto(r: Row): PhotoRecord {
    const managedPath = r.managed_path ? this.resolveManagedPath(r.managed_path as string) : null;
    return {
      id: r.id as number,
      objectId: r.object_id as number,
      sha256: r.sha256 as string,
      originalPath: r.original_path as string,
      managedPath,
      path: this.readablePath(r.original_path as string, managedPath),
      format: r.format as string,
      width: r.width as number,
      height: r.height as number,
      metadata: JSON.parse(r.metadata as string) as Metadata,
      addedAt: r.added_at as string,
    };
  }

  private readablePath(original: string, managed: string | null): string {
    return managed && existsSync(managed) ? managed : original;
  }

  /**
   * Registers the model whose embeddings will be stored. A different file under a known id makes
   * its stored embeddings meaningless, so they are dropped ('replaced'), with the pictures' cells
   * it described and everything learned from them.
   */
  registerModel(card: { id: string; sha256: string }): 'added' | 'unchanged' | 'replaced' {
    return this.write(() => {
      const known = this.sql.model.get(card.id) as string | undefined;
      this.sql.upsertModel.run(card.id, JSON.stringify(card), card.sha256);
      if (known === undefined) return 'added';
      if (known === card.sha256) return 'unchanged';
      this.sql.dropModelEmbeddings.run(card.id);
      this.sql.dropModelCells.run({ id: card.id });
      this.sql.dropModelArtifacts.run({ id: card.id });
      return 'replaced';
    });
  }

  /** Photos with no embedding yet for this model and preprocessing, in id order after `afterPhotoId`. */
  photosMissingEmbedding(modelId: string, preprocessing: string, limit: number, afterPhotoId = 0): { photoId: number; path: string }[] {
    const rows = this.sql.missingEmbedding.all({ modelId, preprocessing, limit, after: afterPhotoId }) as Row[];
    return rows.map((r) => ({
      photoId: r.id as number,
      path: this.readablePath(r.original_path as string, r.managed_path ? this.resolveManagedPath(r.managed_path as string) : null),
    }));
  }

  /**
   * True when the stored embeddings of `modelId` come from another file than the one installed
   * (its sha256, undefined when none is): an upgrade changed it, and they no longer compare.
   */
  fromOtherModelFile(modelId: string, installedSha: string | undefined): boolean {
    const known = this.sql.model.get(modelId) as string | undefined;
    return known !== undefined && known !== installedSha;
  }

  /** Stores (or replaces) vectors in one transaction; all vectors of a model and preprocessing share one size. */
  writeEmbeddings(modelId: string, preprocessing: string, rows: { photoId: number; vector: Float32Array }[]): void {
    this.write(() => {
      if (this.sql.model.get(modelId) === undefined) {
        throw new UserError('MODEL_UNKNOWN', `The model ${modelId} is not registered in ${this.path}.`,
          'Register the model with the catalogue before storing its embeddings.');
      }
      const bytes = (this.sql.embeddingBytes.get(modelId, preprocessing) as number | undefined) ?? rows[0]?.vector.byteLength;
      for (const { photoId, vector } of rows) {
        if (vector.byteLength !== bytes) throw mismatchedSize(modelId, vector.length, bytes / 4);
        this.sql.upsertEmbedding.run(photoId, modelId, preprocessing, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength));
      }
    });
  }

  /** All vectors of one model and preprocessing as one contiguous array, in photo id order. */
  loadEmbeddings(modelId: string, preprocessing: string): LoadedEmbeddings {
    // A read transaction: the count and the rows come from the same snapshot.
    return this.db.transaction(() => {
      const count = this.sql.countEmbeddings.get(modelId, preprocessing) as number;
      const dim = ((this.sql.embeddingBytes.get(modelId, preprocessing) as number | undefined) ?? 0) / 4;
      const photoIds = new Int32Array(count);
      const objectIds = new Int32Array(count);
      const bytes = new Uint8Array(count * dim * 4);
      let i = 0;
      for (const [photoId, objectId, vector] of this.sql.embeddings.iterate(modelId, preprocessing) as Iterable<[number, number, Buffer]>) {
        if (vector.length !== dim * 4) throw mismatchedSize(modelId, vector.length / 4, dim);
        photoIds[i] = photoId;
        objectIds[i] = objectId;
        bytes.set(vector, i * dim * 4); // Vectors are stored little-endian, as every supported CPU is.
        i++;
      }
      return { dim, photoIds, objectIds, vectors: new Float32Array(bytes.buffer) };
    })();
  }

  /** Stores something fitted on the catalogue (whitening, thresholds), stamped with the current state. */
  putArtifact(key: string, value: { json?: unknown; blob?: Uint8Array }, modelId = ''): void {
    this.write(() => this.sql.putArtifact.run({
      key, modelId, json: value.json === undefined ? null : JSON.stringify(value.json), blob: value.blob ?? null,
    }));
  }

  getArtifact(key: string, modelId = ''): Artifact | undefined {
    const row = this.sql.artifact.get(key, modelId) as Row | undefined;
    return row && { ...this.artifactFacts(row), blob: row.blob as Buffer | null };
  }

  /** An artifact's facts without its blob (a classifier's weights are megabytes): for status lines. */
  getArtifactSummary(key: string, modelId = ''): (Omit<Artifact, 'blob'> & { hasBlob: boolean }) | undefined {
    const row = this.sql.artifactSummary.get(key, modelId) as Row | undefined;
    return row && { ...this.artifactFacts(row), hasBlob: row.has_blob === 1 };
  }

  private artifactFacts(row: Row): Omit<Artifact, 'blob'> {
    return {
      json: row.json === null ? undefined : JSON.parse(row.json as string),
      catalogueState: row.catalogue_state as number,
      stale: row.catalogue_state !== this.state(),
      updatedAt: row.updated_at as string,
    };
  }

  /** Photos whose cells are kept under `recipe` (picture_cells), or that were checked and have none to keep (an empty row). */
  pictureCellPhotos(recipe: string): Set<number> {
    return new Set(this.sql.pictureCellPhotos.all(recipe) as number[]);
  }

  /** Each kept picture's mean cell, as stored (empty rows left out). */
  pictureCellMeans(recipe: string): Map<number, Buffer> {
    return new Map(this.sql.pictureCellMeans.all(recipe) as [number, Buffer][]);
  }

  /** The kept cells of these pictures, as stored; pictures without are left out. */
  pictureCells(recipe: string, photoIds: Iterable<number>): Map<number, Buffer> {
    return this.db.transaction(() => new Map([...photoIds].flatMap((id) => {
      const cells = this.sql.pictureCells.get(recipe, id) as Buffer | undefined;
      return cells ? [[id, cells] as const] : [];
    })))();
  }

  /** Keeps (or replaces) pictures' cells in one transaction. */
  writePictureCells(recipe: string, rows: { photoId: number; mean: Uint8Array; cells: Uint8Array }[]): void {
    this.write(() => {
      for (const r of rows) this.sql.putPictureCells.run(r.photoId, recipe, r.mean, r.cells);
    });
  }

  /** Appends to the identification log (the schema refuses updates and deletes); returns the entry's id. */
  logIdentification(entry: IdentificationEntry): number {
    return this.write(() => Number(this.sql.logIdentification.run({
      queryHashes: JSON.stringify(entry.queryHashes),
      queryPaths: JSON.stringify(entry.queryPaths),
      modelId: entry.modelId,
      answer: JSON.stringify(entry.answer),
    }).lastInsertRowid));
  }

  recentIdentifications(limit = 50): LoggedIdentification[] {
    return (this.sql.identifications.all(limit) as Row[]).map((r) => ({
      id: r.id as number,
      at: r.at as string,
      queryHashes: JSON.parse(r.query_hashes as string) as string[],
      queryPaths: JSON.parse(r.query_paths as string) as string[],
      modelId: r.model_id as string,
      catalogueState: r.catalogue_state as number,
      answer: JSON.parse(r.answer as string) as unknown,
    }));
  }

  stats(): CatalogueStats {
    return this.db.transaction(() => {
      const counts = this.sql.counts.get() as { collections: number; objects: number; photos: number };
      const photosPerObject = new Array<number>(11).fill(0);
      for (const r of this.sql.photosPerObject.all() as { bucket: number; objects: number }[]) photosPerObject[r.bucket] = r.objects;
      const embeddings = (this.sql.embeddingCounts.all() as Row[]).map((r) => ({
        modelId: r.model_id as string, preprocessing: r.preprocessing as string, count: r.count as number,
      }));
      const subcollections = this.sql.subcollections.all() as CatalogueStats['subcollections'];
      return { ...counts, embeddings, subcollections, photosPerObject, state: this.state() };
    })();
  }

  /** A write transaction that takes the lock up front, so a busy catalogue fails cleanly after the timeout. */
  private write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      throw asCatalogueError(e, this.path);
    }
  }
}

function toObject(r: Row): ObjectRecord {
  return {
    id: r.id as number,
    collection: r.collection as string,
    instanceId: r.instance_id as string,
    title: r.title as string | null,
    subcollection: r.subcollection as string | null,
    metadata: JSON.parse(r.metadata as string) as Metadata,
    photoCount: r.photo_count as number,
  };
}

function mismatchedSize(modelId: string, got: number, expected: number): UserError {
  return new UserError('MODEL_MISMATCH', `An embedding of ${got} numbers does not match the ${expected} already stored for ${modelId}.`,
    'The model changed under the same id: register it again so old embeddings are dropped, then re-embed.');
}
