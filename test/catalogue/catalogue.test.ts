import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalogue, type NewPhoto } from '../../src-main/engine/catalogue/catalogue';
import { REPO, tempDir } from '../helpers/files';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => { tmp = tempDir(); });
afterEach(() => tmp.remove());

function photo(instanceId: string, sha256: string, extra: Partial<NewPhoto> = {}): NewPhoto {
  return {
    instanceId, subcollection: null, title: null, objectMetadata: {}, sha256, originalPath: `/photos/${sha256}.jpg`,
    managedPath: null, format: 'jpeg', width: 4, height: 3, metadata: {}, ...extra,
  };
}

/** A catalogue with objects A (2 photos) and B (1 photo) and a registered model. */
function seeded(): Catalogue {
  const cat = Catalogue.open(join(tmp.dir, 'c.sqlite'), { create: true });
  const collection = cat.collectionId('main');
  cat.addPhotos(collection, [photo('A', 'a1', { subcollection: 'Pottery', title: 'Jar' }), photo('A', 'a2'), photo('B', 'b1')]);
  cat.registerModel({ id: 'm', sha256: 'x' });
  return cat;
}

const sha = (path: string) => readFileSync(path).toString('base64');

describe('opening a catalogue', () => {
  it('makes a new file in WAL mode with foreign keys, and reopens it', () => {
    const path = join(tmp.dir, 'new.sqlite');
    Catalogue.open(path, { create: true }).close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThan(0);
    db.close();
    const cat = Catalogue.open(path);
    expect(cat.stats().objects).toBe(0);
    cat.close();
  });

  it('upgrades a catalogue of the first version, dropping the picture cells it kept as one artifact', () => {
    const path = join(tmp.dir, 'v1.sqlite');
    const made = Catalogue.open(path, { create: true });
    made.putArtifact('picture-cells:old', { json: { photoIds: [] }, blob: new Uint8Array(8) });
    made.putArtifact('recipe', { json: { kept: true } });
    made.close();
    const db = new Database(path);
    db.exec('DROP TABLE picture_cells');
    db.pragma('user_version = 1');
    db.close();
    expect(() => Catalogue.open(path, { readonly: true })).toThrow(expect.objectContaining({ code: 'CATALOGUE_NEEDS_UPGRADE' }));
    const upgraded = Catalogue.open(path);
    expect(upgraded.getArtifact('picture-cells:old')).toBeUndefined();
    expect(upgraded.getArtifact('recipe')!.json).toEqual({ kept: true });
    expect(upgraded.pictureCellPhotos('m:cells').size).toBe(0);
    upgraded.close();
  });

  it('upgrades a catalogue of the third version, dropping the cells kept for two plain pictures an object', () => {
    const made = seeded();
    const cells = { photoId: 1, mean: new Uint8Array(4), cells: new Uint8Array(8) };
    for (const recipe of ['m:cells+flip', 'm:cells+flip:plain']) made.writePictureCells(recipe, [cells]);
    made.close();
    const db = new Database(join(tmp.dir, 'c.sqlite'));
    db.pragma('user_version = 3');
    db.close();
    const upgraded = Catalogue.open(join(tmp.dir, 'c.sqlite'));
    expect([upgraded.pictureCellPhotos('m:cells+flip').size, upgraded.pictureCellPhotos('m:cells+flip:plain').size]).toEqual([1, 0]);
    upgraded.close();
  });

  it('upgrades a catalogue of the second version, forgetting which pictures were checked for a plain background', () => {
    const made = seeded();
    const [kept, checked] = [1, 2].map((id) => ({ photoId: id, mean: new Uint8Array(id === 1 ? 4 : 0), cells: new Uint8Array(id === 1 ? 8 : 0) }));
    made.writePictureCells('m:cells', [kept, checked]);
    made.close();
    const db = new Database(join(tmp.dir, 'c.sqlite'));
    db.pragma('user_version = 2');
    db.close();
    const upgraded = Catalogue.open(join(tmp.dir, 'c.sqlite'));
    // The described picture stays; the empty row, a check made under the shared recipe, is made again under the plain one.
    expect([...upgraded.pictureCellPhotos('m:cells')]).toEqual([1]);
    upgraded.close();
  });

  it('refuses a missing file unless asked to create it', () => {
    expect(() => Catalogue.open(join(tmp.dir, 'none.sqlite'))).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
    expect(existsSync(join(tmp.dir, 'none.sqlite'))).toBe(false);
  });

  it('refuses a catalogue from a newer version and leaves the file untouched', () => {
    const path = join(tmp.dir, 'future.sqlite');
    const db = new Database(path);
    db.exec('CREATE TABLE future (x)');
    db.pragma('user_version = 99');
    db.close();
    const before = sha(path);
    for (const options of [{}, { readonly: true }, { create: true }]) {
      expect(() => Catalogue.open(path, options)).toThrow(expect.objectContaining({
        code: 'CATALOGUE_TOO_NEW', message: expect.stringMatching(/newer Artefact Lens.*Update the app/),
      }));
    }
    expect(sha(path)).toBe(before);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('refuses a file that is not SQLite, and a SQLite file of another program', () => {
    const text = join(tmp.dir, 'notes.sqlite');
    writeFileSync(text, 'these are my notes, not a database\n'.repeat(200));
    expect(() => Catalogue.open(text, { create: true })).toThrow(expect.objectContaining({ code: 'CATALOGUE_INVALID' }));
    const other = join(tmp.dir, 'other.sqlite');
    new Database(other).exec('CREATE TABLE customers (name)');
    const before = sha(other);
    expect(() => Catalogue.open(other, { create: true })).toThrow(expect.objectContaining({
      code: 'CATALOGUE_INVALID', message: expect.stringContaining('is not an Artefact Lens catalogue'),
    }));
    expect(sha(other)).toBe(before);
  });

  it('says a catalogue another process is writing is locked, within the busy timeout, and still lets it be read', async () => {
    seeded().close();
    const path = join(tmp.dir, 'c.sqlite');
    const holder = spawn(process.execPath, ['-e', `
      const db = new (require('better-sqlite3'))(${JSON.stringify(path)});
      db.exec('BEGIN EXCLUSIVE'); db.exec("INSERT INTO collections (name) VALUES ('held')");
      console.log('locked'); setInterval(() => {}, 1000);`], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once('data', () => resolve());
        holder.once('exit', () => reject(new Error('the process holding the lock died')));
      });
      const started = Date.now();
      expect(() => Catalogue.open(path, { busyTimeoutMs: 300 })).toThrow(expect.objectContaining({
        code: 'CATALOGUE_LOCKED', message: expect.stringMatching(/c\.sqlite is in use by another program.*Close the other/),
      }));
      expect(Date.now() - started).toBeLessThan(3000);
      const reader = Catalogue.open(path, { readonly: true, busyTimeoutMs: 300 });
      expect(reader.stats().photos).toBe(3);
      reader.close();
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe('objects and photos', () => {
  it('groups photos under objects, skips a photo an object already has, and counts them', () => {
    const cat = seeded();
    const again = cat.addPhotos(cat.collectionId('main'), [photo('A', 'a1'), photo('C', 'a1')]);
    expect(again.map((o) => o.status)).toEqual(['present', 'added']);
    const stats = cat.stats();
    expect(stats).toMatchObject({ collections: 1, objects: 3, photos: 4 });
    expect(stats.photosPerObject.slice(0, 3)).toEqual([0, 2, 1]);
    expect(stats.subcollections).toEqual([{ name: null, objects: 2, photos: 2 }, { name: 'Pottery', objects: 1, photos: 2 }]);
    cat.close();
  });

  it('refuses to move an object to a second sub-collection but fills in a missing one', () => {
    const cat = seeded();
    const main = cat.collectionId('main');
    expect(cat.addPhotos(main, [photo('A', 'a3', { subcollection: 'Glass' })])).toEqual([{ status: 'subcollection-conflict', existing: 'Pottery' }]);
    cat.addPhotos(main, [photo('B', 'b2', { subcollection: 'Glass' })]);
    expect(cat.listObjects({ subcollection: 'Glass' }).objects.map((o) => o.instanceId)).toEqual(['B']);
    cat.close();
  });

  it('lists objects by search and page, and returns their photos', () => {
    const cat = seeded();
    const page = cat.listObjects({ search: 'ja', limit: 10 });
    expect(page.total).toBe(1);
    expect(page.objects[0]).toMatchObject({ instanceId: 'A', title: 'Jar', subcollection: 'Pottery', photoCount: 2, collection: 'main' });
    expect(cat.listObjects({ search: '%' }).total).toBe(0);
    expect(cat.listObjects({ offset: 1, limit: 1 })).toMatchObject({ total: 2, objects: [{ instanceId: 'B' }] });
    const photos = cat.objectPhotos(page.objects[0].id);
    expect(photos.map((p) => p.sha256)).toEqual(['a1', 'a2']);
    expect(cat.getPhoto(photos[0].id)).toMatchObject({ path: '/photos/a1.jpg', managedPath: null, width: 4 });
    expect(cat.getObject(page.objects[0].id)?.instanceId).toBe('A');
    expect(cat.getObject(999)).toBeUndefined();
    cat.close();
  });
});

describe('embeddings', () => {
  it('lists photos still to embed, stores vectors and loads them as one array in photo order', () => {
    const cat = seeded();
    const missing = cat.photosMissingEmbedding('m', 'plain', 10);
    expect(missing.map((m) => m.path)).toEqual(['/photos/a1.jpg', '/photos/a2.jpg', '/photos/b1.jpg']);
    cat.writeEmbeddings('m', 'plain', missing.slice(0, 2).map(({ photoId }) => ({ photoId, vector: Float32Array.of(photoId, 0.5) })));
    expect(cat.photosMissingEmbedding('m', 'plain', 10).map((m) => m.photoId)).toEqual([missing[2].photoId]);
    expect(cat.photosMissingEmbedding('m', 'flip', 10)).toHaveLength(3);
    const loaded = cat.loadEmbeddings('m', 'plain');
    expect(loaded.dim).toBe(2);
    expect([...loaded.photoIds]).toEqual([missing[0].photoId, missing[1].photoId]);
    expect(new Set(loaded.objectIds).size).toBe(1);
    expect([...loaded.vectors]).toEqual([missing[0].photoId, 0.5, missing[1].photoId, 0.5]);
    cat.close();
  });

  it('refuses vectors of a model it does not know and vectors of another size, and forgets a replaced model\'s', () => {
    const cat = seeded();
    const [{ photoId }] = cat.photosMissingEmbedding('m', 'plain', 1);
    expect(() => cat.writeEmbeddings('other', 'plain', [{ photoId, vector: new Float32Array(2) }])).toThrow(expect.objectContaining({ code: 'MODEL_UNKNOWN' }));
    cat.writeEmbeddings('m', 'plain', [{ photoId, vector: new Float32Array(2) }]);
    expect(() => cat.writeEmbeddings('m', 'plain', [{ photoId, vector: new Float32Array(3) }])).toThrow(expect.objectContaining({ code: 'MODEL_MISMATCH' }));
    expect(cat.registerModel({ id: 'm', sha256: 'x' })).toBe('unchanged');
    const cells = { photoId, mean: new Uint8Array(4), cells: new Uint8Array(8) };
    for (const recipe of ['m:cells+flip', 'mm:cells+flip']) cat.writePictureCells(recipe, [cells]);
    const [learned, learnedElse] = ['whitening:x:mean:1,m:gem3+flip:1|whiten|prototype', 'whitening:mm:mean:1|whiten|prototype'];
    for (const key of [learned, learnedElse]) cat.putArtifact(key, { json: {} });
    expect(cat.registerModel({ id: 'm', sha256: 'new weights' })).toBe('replaced');
    expect(cat.loadEmbeddings('m', 'plain').photoIds).toHaveLength(0);
    // What the old file described or taught goes with it; another model's stays.
    expect([...cat.pictureCellPhotos('m:cells+flip')]).toEqual([]);
    expect([...cat.pictureCellPhotos('mm:cells+flip')]).toEqual([photoId]);
    expect(cat.getArtifact(learned)).toBeUndefined();
    expect(cat.getArtifact(learnedElse)).toBeDefined();
    cat.close();
  });

  it('loads 100,000 vectors quickly', () => {
    seeded().close();
    const path = join(tmp.dir, 'c.sqlite');
    const n = 100_000;
    const dim = 128;
    const db = new Database(path);
    // Rows made inside SQLite: the test measures loading, not writing.
    db.exec(`WITH RECURSIVE i(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM i WHERE k < ${n})
      INSERT INTO photos (object_id, sha256, original_path, format, width, height)
        SELECT 1 + k % 2, 'h' || k, '/p' || k, 'png', 1, 1 FROM i;
      INSERT INTO embeddings (photo_id, model_id, preprocessing, vector)
        SELECT id, 'm', 'plain', zeroblob(${dim * 4}) FROM photos;`);
    db.prepare(`UPDATE embeddings SET vector = ? WHERE photo_id = (SELECT max(id) FROM photos)`).run(Buffer.from(new Float32Array(dim).fill(7).buffer));
    db.close();
    const cat = Catalogue.open(path);
    const started = performance.now();
    const loaded = cat.loadEmbeddings('m', 'plain');
    const seconds = (performance.now() - started) / 1000;
    expect(loaded.photoIds.length).toBe(n + 3);
    expect(loaded.vectors.length).toBe((n + 3) * dim);
    expect(loaded.vectors[(n + 2) * dim]).toBe(7);
    expect(loaded.vectors[(n + 1) * dim]).toBe(0);
    expect(seconds).toBeLessThan(2);
    cat.close();
  });
});

describe('catalogue state, fitted artifacts and the identification log', () => {
  it('marks an artifact stale once photos or embeddings change', () => {
    const cat = seeded();
    cat.putArtifact('whitening', { json: { k: 2 }, blob: Buffer.from([1, 2, 3]) }, 'm');
    expect(cat.getArtifact('whitening', 'm')).toMatchObject({ json: { k: 2 }, stale: false });
    expect([...cat.getArtifact('whitening', 'm')!.blob!]).toEqual([1, 2, 3]);
    expect(cat.getArtifact('whitening')).toBeUndefined();
    const { blob, ...facts } = cat.getArtifact('whitening', 'm')!;
    expect(cat.getArtifactSummary('whitening', 'm')).toEqual({ ...facts, hasBlob: true });
    cat.putArtifact('threshold', { json: { t: 0.5 } });
    expect(cat.getArtifactSummary('threshold')).toMatchObject({ json: { t: 0.5 }, hasBlob: false });
    expect(blob).not.toBeNull();
    const [{ photoId }] = cat.photosMissingEmbedding('m', 'plain', 1);
    cat.writeEmbeddings('m', 'plain', [{ photoId, vector: new Float32Array(2) }]);
    expect(cat.getArtifact('whitening', 'm')?.stale).toBe(true);
    cat.close();
  });

  it('appends identifications and refuses to change or delete them', () => {
    const cat = seeded();
    const id = cat.logIdentification({ queryHashes: ['q'], queryPaths: ['/q.jpg'], modelId: 'm', answer: { top: ['A'] } });
    expect(cat.recentIdentifications()).toEqual([expect.objectContaining({ id, queryPaths: ['/q.jpg'], answer: { top: ['A'] }, catalogueState: cat.state() })]);
    cat.close();
    const db = new Database(join(tmp.dir, 'c.sqlite'));
    expect(() => db.exec('UPDATE identifications SET answer = \'{}\'')).toThrow(/append-only/);
    expect(() => db.exec('DELETE FROM identifications')).toThrow(/append-only/);
    db.close();
  });
});
