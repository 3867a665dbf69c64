import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalogue } from '../../src-main/engine/catalogue/catalogue';
import { runImport, type ImportSummary } from '../../src-main/engine/catalogue/import';
import { accessionPattern, DEFAULT_ACCESSION_PATTERN, planFromFileNames, planFromFolderTree } from '../../src-main/engine/catalogue/import-folders';
import { planFromManifest } from '../../src-main/engine/catalogue/import-manifest';
import { makePhoto, tempDir, writePngHeader } from '../helpers/files';

let tmp: ReturnType<typeof tempDir>;
let cat: Catalogue;
beforeEach(() => {
  tmp = tempDir();
  cat = Catalogue.open(join(tmp.dir, 'cat.sqlite'), { create: true });
});
afterEach(() => {
  cat.close();
  tmp.remove();
});

const HEADER = 'image_path,instance_id,subcategory,title,material,view';

/** Six photos of three objects and a manifest naming them, with a multi-line quoted title. */
async function smallDataset(): Promise<string> {
  const rows = [
    ['pots/eg1_a.png', 'EG1', 'Pottery', '"Jar, red"', 'clay', 'front'],
    ['pots/eg1_b.jpg', 'EG1', '', '', 'clay', 'back'],
    ['glass/eg2_a.png', 'EG2', 'Glass', '"Bottle ""blue""\nfragment"', 'glass', 'front'],
    ['glass/eg2_b.png', 'EG2', 'Glass', '', 'glass', 'side'],
    ['eg3_a.jpg', 'EG3', '', '', 'bronze', 'front'],
    ['eg3_b.png', 'EG3', '', '', 'stone', 'back'],
  ];
  for (const [i, [file]] of rows.entries()) await makePhoto(join(tmp.dir, 'photos', file), i + 1, file.endsWith('.jpg') ? 'jpeg' : 'png');
  return writeManifest([HEADER, ...rows.map((r) => r.join(','))]);
}

function writeManifest(lines: string[], name = 'photos/manifest.csv'): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, `${lines.join('\r\n')}\r\n`);
  return path;
}

const codes = (summary: ImportSummary) => Object.fromEntries(summary.failed.map((f) => [f.where, f.code]));

describe('importing a manifest', () => {
  it('adds objects with their sub-collection, title and shared metadata, and photos with their own', async () => {
    const summary = await runImport(cat, planFromManifest(await smallDataset()));
    expect(summary).toEqual({ total: 6, imported: 6, alreadyPresent: 0, failed: [] });
    const { objects } = cat.listObjects();
    expect(objects.map((o) => [o.instanceId, o.subcollection, o.title, o.photoCount])).toEqual([
      ['EG1', 'Pottery', 'Jar, red', 2], ['EG2', 'Glass', 'Bottle "blue"\nfragment', 2], ['EG3', null, null, 2],
    ]);
    expect(objects[0].metadata).toEqual({ material: 'clay' });
    expect(objects[2].metadata).toEqual({});
    const [photo] = cat.objectPhotos(objects[0].id);
    expect(photo).toMatchObject({ format: 'png', width: 16, height: 16, metadata: { material: 'clay', view: 'front' }, managedPath: null });
    expect(photo.path).toBe(join(tmp.dir, 'photos', 'pots', 'eg1_a.png'));
    expect(photo.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('adds nothing when the same manifest is imported again', async () => {
    const manifest = await smallDataset();
    await runImport(cat, planFromManifest(manifest));
    const state = cat.state();
    const again = await runImport(cat, planFromManifest(manifest));
    expect(again).toEqual({ total: 6, imported: 0, alreadyPresent: 6, failed: [] });
    expect(cat.stats()).toMatchObject({ objects: 3, photos: 6 });
    expect(cat.state()).toBe(state);
  });

  it('reports each bad row by line and reason, and imports the good ones', async () => {
    const manifest = await smallDataset();
    const dir = join(tmp.dir, 'photos');
    writeFileSync(join(dir, 'letter.jpg'), 'Dear curator, this is not a photo.');
    writeFileSync(join(dir, 'empty.jpg'), '');
    const jpeg = readFileSync(await makePhoto(join(dir, 'whole.jpg'), 99, 'jpeg', 200));
    writeFileSync(join(dir, 'half.jpg'), jpeg.subarray(0, jpeg.length >> 1));
    writePngHeader(join(dir, 'huge.png'), 30_000, 30_000);
    await makePhoto(join(dir, 'glass', 'eg2_c.png'), 98);
    const lines = readFileSync(manifest, 'utf8').trimEnd().split('\r\n');
    writeManifest([
      ...lines, // lines 1-8 (the quoted title spans two)
      'missing.jpg,EG4,,,,', // 9
      'letter.jpg,EG5,,,,', // 10
      'empty.jpg,EG6,,,,', // 11
      'half.jpg,EG7,,,,', // 12
      'huge.png,EG8,,,,', // 13
      'pots/eg1_a.png,EG1,,,,', // 14: the same photo of EG1 again
      'glass/eg2_c.png,EG2,Pottery,,,', // 15: EG2 is in Glass
      ',EG9,,,,', // 16
      'whole.jpg,EG10,,,,,extra', // 17
    ]);
    const summary = await runImport(cat, planFromManifest(manifest));
    expect(codes(summary)).toEqual({
      'line 9': 'FILE_NOT_FOUND', 'line 10': 'NOT_AN_IMAGE', 'line 11': 'FILE_EMPTY', 'line 12': 'IMAGE_CORRUPT',
      'line 13': 'IMAGE_TOO_LARGE', 'line 14': 'DUPLICATE_ROW', 'line 15': 'SUBCOLLECTION_CONFLICT',
      'line 16': 'ROW_INVALID', 'line 17': 'ROW_INVALID',
    });
    expect(summary.failed.find((f) => f.where === 'line 13')?.reason).toMatch(/30000 x 30000 pixels/);
    expect(summary.failed.find((f) => f.where === 'line 15')?.reason).toMatch(/"Glass" on line 4, here "Pottery"/);
    expect(summary).toMatchObject({ total: 15, imported: 6, alreadyPresent: 0 });
    expect(cat.stats()).toMatchObject({ objects: 3, photos: 6 });
  });

  it('refuses a photo whose content differs from the sha256 the manifest gives', async () => {
    await makePhoto(join(tmp.dir, 'a.png'), 1);
    const summary = await runImport(cat, planFromManifest(writeManifest(['image_path,instance_id,sha256', `a.png,A,${'0'.repeat(64)}`], 'm.csv')));
    expect(codes(summary)).toEqual({ 'line 2': 'CONTENT_MISMATCH' });
  });

  it('refuses a manifest that is not UTF-8, naming the line, unless told it is windows-1252', async () => {
    await makePhoto(join(tmp.dir, 'a.png'), 1);
    const path = join(tmp.dir, 'excel.csv');
    writeFileSync(path, Buffer.concat([Buffer.from('image_path,instance_id,title\r\na.png,A,Caf'), Buffer.from([0xe9, 0x20, 0x80]), Buffer.from('\r\n')]));
    expect(() => planFromManifest(path)).toThrow(expect.objectContaining({
      code: 'MANIFEST_INVALID', message: expect.stringMatching(/line 2 is not valid UTF-8.*CSV UTF-8/),
    }));
    await runImport(cat, planFromManifest(path, { encoding: 'windows-1252' }));
    expect(cat.listObjects().objects[0].title).toBe('Caf\u00e9 \u20ac');
  });

  it('refuses an empty manifest, one without rows, and one missing required columns', () => {
    const cases: [string, RegExp][] = [
      ['', /the file is empty/], ['\uFEFF\r\n', /the file is empty/], ['image_path,instance_id\r\n', /no rows/],
      ['image_path,title\r\na.png,x\r\n', /no instance_id column/], ['photo,accession\r\na.png,x\r\n', /no image_path or instance_id column/],
    ];
    for (const [text, message] of cases) {
      const path = join(tmp.dir, 'm.csv');
      writeFileSync(path, text);
      expect(() => planFromManifest(path)).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID', message: expect.stringMatching(message) }));
    }
  });
});

describe('managed copies', () => {
  it('keeps a copy beside the catalogue that is used while it exists, and falls back to the original', async () => {
    const original = await makePhoto(join(tmp.dir, 'in', 'A', 'a.jpg'), 5, 'jpeg');
    await runImport(cat, planFromFolderTree(join(tmp.dir, 'in')), { copy: true });
    const [photo] = cat.objectPhotos(cat.listObjects().objects[0].id);
    expect(photo.managedPath).toBe(join(tmp.dir, 'cat.sqlite.photos', photo.sha256.slice(0, 2), `${photo.sha256}.jpg`));
    expect(readFileSync(photo.managedPath!)).toEqual(readFileSync(original));
    rmSync(original);
    expect(cat.getPhoto(photo.id)?.path).toBe(photo.managedPath);
    copyFileSync(photo.managedPath!, original);
    rmSync(photo.managedPath!);
    expect(cat.getPhoto(photo.id)?.path).toBe(original);
  });

  it('adds the copy to a photo imported earlier without one', async () => {
    await makePhoto(join(tmp.dir, 'in', 'A', 'a.png'), 5);
    await runImport(cat, planFromFolderTree(join(tmp.dir, 'in')));
    const summary = await runImport(cat, planFromFolderTree(join(tmp.dir, 'in')), { copy: true });
    expect(summary.alreadyPresent).toBe(1);
    const [photo] = cat.objectPhotos(cat.listObjects().objects[0].id);
    expect(existsSync(photo.managedPath!)).toBe(true);
  });
});

describe('importing folders', () => {
  it('takes object folders, and sub-collection folders above them', async () => {
    await makePhoto(join(tmp.dir, 'in', 'EG1', 'front.png'), 1);
    await makePhoto(join(tmp.dir, 'in', 'EG1', 'back.png'), 2);
    await makePhoto(join(tmp.dir, 'in', 'Glass', 'EG2', 'a.png'), 3);
    await makePhoto(join(tmp.dir, 'in', 'stray.png'), 4);
    writeFileSync(join(tmp.dir, 'in', 'EG1', 'notes.txt'), 'not a photo');
    const summary = await runImport(cat, planFromFolderTree(join(tmp.dir, 'in')), { collection: 'Egypt' });
    expect(codes(summary)).toEqual({ 'stray.png': 'ROW_INVALID' });
    expect(cat.listObjects().objects.map((o) => [o.collection, o.instanceId, o.subcollection, o.photoCount])).toEqual([
      ['Egypt', 'EG1', null, 2], ['Egypt', 'EG2', 'Glass', 1],
    ]);
  });

  it('reads accession numbers from file names, dropping view suffixes by default', async () => {
    const names = ['EG1234aa', 'EG1234_q1', 'EG1234d2', 'EG1234pc', 'EG1234_small', 'EG1234', 'EG77_2'];
    expect(names.map((n) => DEFAULT_ACCESSION_PATTERN.exec(n)?.groups?.id)).toEqual([...Array(6).fill('EG1234'), 'EG77']);
    for (const [i, name] of names.entries()) await makePhoto(join(tmp.dir, 'in', `${name}.jpg`), i, 'jpeg');
    await makePhoto(join(tmp.dir, 'in', 'sub', 'holiday snap.jpg'), 50, 'jpeg');
    const summary = await runImport(cat, planFromFileNames(join(tmp.dir, 'in')));
    expect(codes(summary)).toEqual({ [join('sub', 'holiday snap.jpg')]: 'ROW_INVALID' });
    expect(cat.listObjects().objects.map((o) => [o.instanceId, o.photoCount])).toEqual([['EG1234', 6], ['EG77', 1]]);
  });

  it('takes a pattern of the person\'s own, and refuses one without an id group or that does not compile', async () => {
    await makePhoto(join(tmp.dir, 'in', '1923.45-front.png'), 1);
    await runImport(cat, planFromFileNames(join(tmp.dir, 'in'), accessionPattern('^(?<id>\\d+\\.\\d+)-')));
    expect(cat.listObjects().objects[0].instanceId).toBe('1923.45');
    expect(() => accessionPattern('^\\d+')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/no group named id/) }));
    expect(() => accessionPattern('(?<id>[')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('progress and cancelling', () => {
  it('reports progress, and on cancel keeps what was committed so a re-run finishes the job', async () => {
    for (let i = 0; i < 12; i++) await makePhoto(join(tmp.dir, 'in', `O${i % 4}`, `${i}.png`), i);
    const abort = new AbortController();
    const seen: number[] = [];
    const run = runImport(cat, planFromFolderTree(join(tmp.dir, 'in')), {
      batchSize: 4, signal: abort.signal,
      onProgress: ({ done, total }) => {
        seen.push(done);
        expect(total).toBe(12);
        if (done === 5) abort.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED', message: expect.stringMatching(/photos were added and are kept/) });
    const kept = cat.stats().photos;
    expect(kept).toBeGreaterThanOrEqual(5);
    expect(kept).toBeLessThan(12);
    const rest = await runImport(cat, planFromFolderTree(join(tmp.dir, 'in')));
    expect(rest).toMatchObject({ imported: 12 - kept, alreadyPresent: kept });
    expect(seen.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
  });
});

const COIL = '/work/shared/datasets/coil100-dev';

describe('a real dataset', () => {
  it.skipIf(!existsSync(join(COIL, 'manifest.csv')))('imports five COIL-100 objects, verifying every photo against the manifest sha256', async () => {
    const [header, ...lines] = readFileSync(join(COIL, 'manifest.csv'), 'utf8').trimEnd().split('\n');
    const wanted = lines.filter((l) => /,coil-00[2-6],/.test(l)).map((l) => `${join(COIL, l.split(',')[0])},${l.split(',').slice(1).join(',')}`);
    const manifest = writeManifest([header, ...wanted], 'coil.csv');
    const summary = await runImport(cat, planFromManifest(manifest));
    expect(summary).toEqual({ total: wanted.length, imported: wanted.length, alreadyPresent: 0, failed: [] });
    const stats = cat.stats();
    expect(stats).toMatchObject({ objects: 5, photos: wanted.length });
    expect(cat.listObjects({ search: 'coil-003' }).objects[0].photoCount).toBe(wanted.filter((l) => l.includes(',coil-003,')).length);
    const [photo] = cat.objectPhotos(cat.listObjects().objects[0].id);
    expect(photo).toMatchObject({ width: 128, height: 128, metadata: { view_angle_deg: '0' } });
  });
});
