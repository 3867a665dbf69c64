import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makePhoto, REPO, tempDir } from '../helpers/files';

const OBJECTS = 40;
const PER_OBJECT = 10;
const TOTAL = OBJECTS * PER_OBJECT;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  tmp = tempDir();
  for (let i = 0; i < TOTAL; i++) await makePhoto(join(tmp.dir, 'in', `OBJ${Math.floor(i / PER_OBJECT)}`, `${i}.png`), i + 1);
});
afterAll(() => tmp.remove());

const importArgs = (db: string) => [join(REPO, 'bin', 'artefact-lens.js'), 'import', '--db', db, '--folder', join(tmp.dir, 'in'), '--copy'];

function photoCount(db: string): number {
  try {
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return conn.prepare('SELECT count(*) FROM photos').pluck().get() as number;
    } finally {
      conn.close();
    }
  } catch {
    return 0; // Not made yet, or the schema is not committed yet.
  }
}

it('survives kill -9 mid-import: the file is intact, nothing is half-written, and a re-run completes', async () => {
  const db = join(tmp.dir, 'cat.sqlite');
  const child = spawn(process.execPath, importArgs(db), { cwd: REPO, stdio: 'ignore' });
  let committed = 0;
  while (committed === 0) {
    await new Promise((r) => setTimeout(r, 5));
    committed = photoCount(db);
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const killedAt = photoCount(db);
  expect(killedAt).toBeLessThan(TOTAL); // Else the kill came too late to test anything.

  const conn = new Database(db, { readonly: true });
  expect(conn.pragma('integrity_check', { simple: true })).toBe('ok');
  expect(conn.pragma('foreign_key_check')).toEqual([]);
  expect(conn.prepare('SELECT count(*) FROM objects o WHERE NOT EXISTS (SELECT 1 FROM photos p WHERE p.object_id = o.id)').pluck().get()).toBe(0);
  for (const { sha256, managed_path } of conn.prepare('SELECT sha256, managed_path FROM photos').all() as { sha256: string; managed_path: string }[]) {
    expect(createHash('sha256').update(readFileSync(join(tmp.dir, managed_path))).digest('hex')).toBe(sha256);
  }
  conn.close();

  const rerun = spawnSync(process.execPath, importArgs(db), { cwd: REPO, encoding: 'utf8' });
  expect(rerun.status).toBe(0);
  expect(rerun.stdout).toContain(`Imported ${TOTAL - killedAt} photos; ${killedAt} were already in the catalogue; 0 failed.`);
  const after = new Database(db, { readonly: true });
  expect(after.prepare('SELECT count(*) FROM photos').pluck().get()).toBe(TOTAL);
  expect(after.prepare('SELECT count(*) FROM objects').pluck().get()).toBe(OBJECTS);
  after.close();
});
