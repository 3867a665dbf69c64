import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalogue } from '../../src-main/engine/catalogue/catalogue';
import { makePhoto, REPO, tempDir } from '../helpers/files';

let tmp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  tmp = tempDir();
  await makePhoto(join(tmp.dir, 'in', 'EG1', 'a.png'), 1);
  await makePhoto(join(tmp.dir, 'in', 'EG1', 'b.png'), 2);
  await makePhoto(join(tmp.dir, 'in', 'EG2', 'a.jpg'), 3, 'jpeg');
  writeFileSync(join(tmp.dir, 'in', 'EG2', 'broken.jpg'), 'not a photo');
});
afterAll(() => tmp.remove());

/** Runs the installed command as a person would, in the temporary folder. */
function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'bin', 'artefact-lens.js'), ...args], { cwd: tmp.dir, encoding: 'utf8' },
      (error, out, err) => resolve({ code: error ? Number(error.code) : 0, out, err }));
  });
}

const oneLine = (text: string) => text.trimEnd().split('\n').length === 1 && !/\n\s+at /.test(text);

describe('artefact-lens', () => {
  it('lists its commands with --help, and each command explains its options', async () => {
    const [overview, help, stats] = await Promise.all([cli('--help'), cli('import', '--help'), cli('stats', '--help')]);
    expect(overview.code).toBe(0);
    expect(overview.out).toMatch(/import .*\n.*embed .*\n.*identify .*\n.*domain .*\n.*train .*\n.*stats /);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: artefact-lens import --db FILE (--manifest FILE.csv | --folder DIR');
    expect(help.out).toMatch(/--copy +Keep a copy/);
    expect(stats.out).toMatch(/--json/);
  });

  it('imports a folder, reporting the photo it refused, then shows the figures', async () => {
    const first = await cli('import', '--db', 'cat.sqlite', '--folder', 'in');
    expect(first.code).toBe(3);
    expect(first.out).toMatch(/^Imported 3 photos; 0 were already in the catalogue; 1 failed\.\n {2}EG2\/broken\.jpg: .*is not an image/);
    const again = await cli('import', '--db', 'cat.sqlite', '--folder', 'in');
    expect(again.out).toMatch(/^Imported 0 photos; 3 were already in the catalogue; 1 failed\./);
    const [stats, json] = await Promise.all([cli('stats', '--db', 'cat.sqlite'), cli('stats', '--db', 'cat.sqlite', '--json')]);
    expect(stats.code).toBe(0);
    expect(stats.out).toContain('1 collections, 2 objects, 3 photos');
    expect(stats.out).toMatch(/Objects by number of photos:\n {2}1: 1\n {2}2: 1/);
    expect(JSON.parse(json.out)).toMatchObject({ objects: 2, photos: 3, photosPerObject: [0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0] });
    // Descriptors an earlier installation's model file left are named as such.
    const catalogue = Catalogue.open(join(tmp.dir, 'cat.sqlite'));
    try {
      catalogue.registerModel({ id: 'mobilenet-v2-140', sha256: 'earlier' });
      catalogue.writeEmbeddings('mobilenet-v2-140', 'mean', catalogue.photosMissingEmbedding('mobilenet-v2-140', 'mean', 1).map(({ photoId }) => ({ photoId, vector: new Float32Array(4) })));
    } finally {
      catalogue.close();
    }
    expect((await cli('stats', '--db', 'cat.sqlite')).out).toContain('mobilenet-v2-140 (mean): 1, from another version of the model file: run embed');
  });

  it('fails with one line and a non-zero code for mistakes and unusable files', async () => {
    writeFileSync(join(tmp.dir, 'notes.sqlite'), 'not a database at all\n'.repeat(100));
    const cases: [string[], number, RegExp][] = [
      [[], 2, /Usage: artefact-lens <command>/],
      [['frobnicate'], 2, /there is no command "frobnicate"; the commands are import, embed, identify, domain, train, stats, evaluate/],
      [['stats'], 2, /--db is required/],
      [['stats', '--db', 'x.sqlite', '--colour'], 2, /Unknown option '--colour'/],
      [['import', '--db', 'c2.sqlite'], 2, /exactly one of --manifest, --folder or --files/],
      [['import', '--db', 'c2.sqlite', '--files', 'in', '--pattern', '^\\d+'], 2, /no group named id/],
      [['stats', '--db', 'missing.sqlite'], 1, /missing\.sqlite does not exist/],
      [['stats', '--db', 'notes.sqlite'], 1, /notes\.sqlite is not an Artefact Lens catalogue/],
      [['import', '--db', 'c2.sqlite', '--manifest', 'none.csv'], 1, /none\.csv does not exist or cannot be read/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    for (const [i, [args, code, message]] of cases.entries()) {
      const r = results[i];
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.err).toMatch(message);
      if (args.length > 0) expect(oneLine(r.err)).toBe(true);
    }
  });
});
