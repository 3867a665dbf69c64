import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, tempDir } from '../helpers/files';
import { syntheticView as view } from '../helpers/photos';

const CLI = join(REPO, 'bin', 'artefact-lens.js');
const OBJECTS = 10;
const VIEWS = 4;
const MODEL = ['--model', 'mobilenet-v2-140', '--provider', 'cpu'];

const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'utf8' });

function embeddingRows(db: string): { count: number; sizes: number[] } {
  const conn = new Database(db, { readonly: true });
  try {
    return {
      count: conn.prepare('SELECT count(*) FROM embeddings').pluck().get() as number,
      sizes: conn.prepare('SELECT DISTINCT length(vector) FROM embeddings').pluck().all() as number[],
    };
  } finally {
    conn.close();
  }
}

describe('artefact-lens embed and identify', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: string;

  beforeAll(async () => {
    tmp = tempDir();
    db = join(tmp.dir, 'cat.sqlite');
    for (let o = 0; o < OBJECTS; o++) {
      mkdirSync(join(tmp.dir, 'in', `EG${100 + o}`), { recursive: true });
      for (let v = 0; v < VIEWS; v++) await view(join(tmp.dir, 'in', `EG${100 + o}`, `${v}.png`), o * 5 + 1, v);
    }
    expect(run('import', '--db', db, '--folder', join(tmp.dir, 'in')).status).toBe(0);
  });
  afterAll(() => tmp.remove());

  it('refuses to identify before anything is embedded, saying what to do', () => {
    const r = run('identify', '--db', db, join(tmp.dir, 'in', 'EG100', '0.png'));
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('artefact-lens embed');
  });

  it('survives kill -9 mid-embedding and completes on the next run', async () => {
    const child = spawn(process.execPath, [CLI, 'embed', '--db', db, ...MODEL], { cwd: REPO, stdio: 'ignore' });
    while (embeddingRows(db).count === 0) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const partial = embeddingRows(db);
    expect(partial.count).toBeLessThan(OBJECTS * VIEWS);
    expect(partial.sizes).toEqual([1792 * 4]); // every stored vector is whole
    const conn = new Database(db, { readonly: true });
    expect(conn.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
    conn.close();

    const rerun = run('embed', '--db', db, ...MODEL);
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain(`Embedded ${OBJECTS * VIEWS - partial.count} photo descriptors; 0 photos failed.`);
    expect(embeddingRows(db).count).toBe(OBJECTS * VIEWS);
  });

  it('prints the ranked objects as JSON, the photographed object first', async () => {
    const query = await view(join(tmp.dir, 'query.png'), 3 * 5 + 1, 5);
    const r = run('identify', '--db', db, '--json', '--top', '3', query);
    expect(r.status, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout);
    expect(answer.notInCatalogue).toBe(false);
    expect(answer.results).toHaveLength(3);
    expect(answer.results[0]).toMatchObject({ rank: 1, instanceId: 'EG103', subcategory: null, title: null });
    expect(answer.results[0].bestPhoto).toContain(join('EG103', ''));
    expect(answer.results[0].score).toBeGreaterThan(answer.results[1].score);
    expect(answer.thresholdBasis).toMatch(/^Threshold learned from the catalogue's own photos: [\d.]+ % of held-out photos/);
    expect(answer.ranking).toBeNull();
  });

  it('once an instance classifier is trained, lists each object\'s probability and says the list is ranked by it', async () => {
    const train = run('train', '--db', db, '--provider', 'cpu');
    expect(train.status, train.stderr).toBe(0);
    const r = run('identify', '--db', db, '--top', '3', await view(join(tmp.dir, 'query.png'), 3 * 5 + 1, 5));
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain(lines.find((l) => l.startsWith('Ranked by probability: the catalogue\'s instance classifier')));
    expect(lines.find((l) => l.startsWith('rank'))).toMatch(/^rank +score +probability +accession number/);
    expect(lines[0]).toMatch(/^Best match: EG103 \(probability \d+ %; score [\d.]+; threshold [\d.]+\)\.$/);
    expect(lines.find((l) => /^ +1 /.test(l))).toMatch(/^ +1 +[\d.]+ +\d+ % +EG103/);
  });

  it('learns the field domain from a folder, saying it needs 20 photos before they set the threshold', async () => {
    for (let f = 0; f < 3; f++) await view(join(tmp.dir, 'field', `${f}.png`), 90 + f, 2);
    const r = run('domain', '--db', db, '--folder', join(tmp.dir, 'field'), '--provider', 'cpu');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Learned the field domain from 3 photos; 0 could not be read.');
    expect(r.stdout).toContain('once there are 20 of them, learns its "not in the catalogue" threshold from them');
  });

  it('explains a bad crop box and a photo it cannot read in one line', () => {
    const photo = join(tmp.dir, 'in', 'EG100', '0.png');
    const crop = run('identify', '--db', db, '--crop', '0.5,0.5,wide', photo);
    expect(crop.status).toBe(2);
    expect(crop.stderr).toContain('x,y,width,height');
    const missing = run('identify', '--db', db, join(tmp.dir, 'nowhere.jpg'));
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('nowhere.jpg');
  });
});
