import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalogue } from '../../src-main/engine/catalogue/catalogue';
import { storedClassifier, trainCatalogueClassifier } from '../../src-main/engine/identify/instance-classifier';
import { prepareEvaluationSet } from '../../src-main/engine/evaluation/dataset';
import { DEFAULT_VARIANT } from '../../src-main/engine/evaluation/descriptors';
import { evaluate } from '../../src-main/engine/evaluation/protocols';
import { DEFAULT_RECIPE } from '../../src-main/engine/identify/recipe';
import { REPO, tempDir } from '../helpers/files';
import { COIL, hasCoil, manifestRows, syntheticPhoto } from '../helpers/photos';
import { syntheticSet } from './synthetic-set';

let tmp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  tmp = tempDir();
  const rows = ['image_path,instance_id,subcategory'];
  for (let object = 0; object < 4; object++) {
    for (let k = 0; k < 6; k++) {
      await syntheticPhoto(join(tmp.dir, `o${object}-${k}.png`), object * 7 + 1, 80 + 8 * k); // same picture, another size: a distinct photo
      rows.push(`o${object}-${k}.png,EG${object},${object < 2 ? 'Ceramics' : 'Coins'}`);
    }
  }
  writeFileSync(join(tmp.dir, 'photos.csv'), `${rows.join('\n')}\n`);
});
afterAll(() => tmp.remove());

function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'bin', 'artefact-lens.js'), ...args], { cwd: tmp.dir, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: join(tmp.dir, 'cache') } },
      (error, out, err) => resolve({ code: error ? Number(error.code) : 0, out, err }));
  });
}

describe('artefact-lens evaluate', () => {
  it('embeds once into the cache, and writes the summary the benchmark harness reads and an HTML report', async () => {
    const args = ['evaluate', '--manifest', 'photos.csv', '--protocol', 'paper', '--min-images', '3', '--seed', '1-2', '--model', 'mobilenet-v2-140', '--classifier', 'knn,prototype', '--pooling', 'gem', '--flip'];
    const first = await cli(...args, '--json', 'out.json', '--html', 'out.html');
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const report = JSON.parse(readFileSync(join(tmp.dir, 'out.json'), 'utf8'));
    expect(report.summary).toHaveLength(2);
    for (const row of report.summary) {
      expect(Object.keys(row)).toEqual(expect.arrayContaining(['protocol', 'minImages', 'classifier', 'model', 'top1', 'top3', 'top5', 'top10', 'nTest']));
      expect(row).toMatchObject({ protocol: 'paper', minImages: 3, model: 'mobilenet-v2-140', nTest: 3 });
    }
    expect(report.runs.map((r: { seed: number }) => r.seed)).toEqual([1, 1, 2, 2]);
    expect(Object.keys(report.means[0].bySubcollection)).toEqual(['Ceramics', 'Coins']);
    const html = readFileSync(join(tmp.dir, 'out.html'), 'utf8');
    expect(html).toMatch(/<svg[^]*Top-1 by photos per object/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const again = await cli(...args);
    expect(again.out).toBe(first.out); // same seeds, same cached descriptors, same figures
    // By default the descriptors are identification's, with the options given changing one part; raw ones on request.
    expect(report.settings.descriptors).toBe('pooling gem, flip, whiten fitted on catalogue+prototypes');
    expect(first.out.trim().split('\n').at(-1)).toBe('Descriptors: pooling gem, flip, whiten fitted on catalogue+prototypes.');
    expect((await cli(...args, '--descriptors', 'raw', '--json', 'raw.json')).code).toBe(0);
    expect(JSON.parse(readFileSync(join(tmp.dir, 'raw.json'), 'utf8')).settings.descriptors).toBe('pooling gem, flip, none');
  });

  it('refuses a protocol it does not know, and a field run without splits, with a hint', async () => {
    const [unknown, field] = await Promise.all([
      cli('evaluate', '--manifest', 'photos.csv', '--protocol', 'guess'),
      cli('evaluate', '--manifest', 'photos.csv', '--protocol', 'field', '--model', 'mobilenet-v2-140'),
    ]);
    expect([unknown.code, unknown.err]).toEqual([2, expect.stringMatching(/--protocol guess is not valid\. Use one of paper, field, open/)]);
    expect([field.code, field.err]).toEqual([2, expect.stringMatching(/needs --catalogue-split and --query-split/)]);
  });
});

describe('a classifier stored in a catalogue', () => {
  it('is found again for its recipe, and is stale once the catalogue changes', async () => {
    const catalogue = Catalogue.open(join(tmp.dir, 'classifier.sqlite'), { create: true });
    try {
      const set = syntheticSet([4, 4, 4]);
      const rows = { objectIds: Int32Array.from(set.photos, (p) => p.objectId), vectors: set.descriptors.get('m/mean')!, dims: 32 };
      await trainCatalogueClassifier(catalogue, DEFAULT_RECIPE, rows, { epochs: 3 });
      expect(storedClassifier(catalogue, { ...DEFAULT_RECIPE, flip: false })).toBeUndefined();
      const stored = storedClassifier(catalogue, DEFAULT_RECIPE)!;
      expect([...stored.classifier.objectIds]).toEqual([1, 2, 3]);
      expect(stored.stale).toBe(false);
      catalogue.addPhotos(catalogue.collectionId('main'), [{ instanceId: 'EG9', subcollection: null, title: null, objectMetadata: {}, sha256: 'a'.repeat(64),
        originalPath: '/x.png', managedPath: null, format: 'png', width: 1, height: 1, metadata: {} }]);
      expect(storedClassifier(catalogue, DEFAULT_RECIPE)!.stale).toBe(true);
      // One photo for most objects: nothing to learn how an object's photos vary from.
      const singles = syntheticSet([1, 1, 2]);
      const singleRows = { objectIds: Int32Array.from(singles.photos, (p) => p.objectId), vectors: singles.descriptors.get('m/mean')!, dims: 32 };
      await expect(trainCatalogueClassifier(catalogue, DEFAULT_RECIPE, singleRows)).rejects.toThrow(/most of the catalogue's 3 objects have a single photo/);
    } finally {
      catalogue.close();
    }
  });
});

describe.runIf(hasCoil)('on COIL-100 photos', () => {
  it('finds most test photos of six objects with the paper protocol', async () => {
    const picked = manifestRows(COIL).filter((r) => ['coil-002', 'coil-003', 'coil-004', 'coil-005', 'coil-006', 'coil-007'].includes(r.instance_id!))
      .filter((_, i) => i % 9 === 0);
    const manifest = join(tmp.dir, 'coil.csv');
    writeFileSync(manifest, `image_path,instance_id,subcategory\n${picked.map((r) => `${join(COIL, r.image_path!)},${r.instance_id},`).join('\n')}\n`);
    expect(existsSync(manifest)).toBe(true);
    const set = await prepareEvaluationSet(manifest, ['mobilenet-v2-140'], { cachePath: join(tmp.dir, 'coil-cache.sqlite') });
    expect(set.photos).toHaveLength(picked.length);
    const result = await evaluate(set, { protocol: 'paper', models: [['mobilenet-v2-140']], classifiers: ['knn'], seeds: [1, 2, 3], minImages: [3], variant: DEFAULT_VARIANT });
    expect(result.summary[0]!.top1).toBeGreaterThan(0.8);
  });
});
