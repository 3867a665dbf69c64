import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventMessage } from '../../src-main/contract';
import { decode, encode } from '../../src-main/bridge/codec';
import { startBridge, type Bridge } from '../../src-main/bridge/server';
import { makePhoto, tempDir } from '../helpers/files';

/** The test bridge with the real Workspace (no models needed): what it refuses and what it answers. */
let tmp: ReturnType<typeof tempDir>;
let bridge: Bridge;
beforeAll(async () => {
  tmp = tempDir();
  mkdirSync(join(tmp.dir, 'renderer'));
  writeFileSync(join(tmp.dir, 'renderer', 'index.html'), '<!doctype html><title>Artefact Lens</title>');
  await makePhoto(join(tmp.dir, 'photos', 'EG1', 'a.png'), 1, 'png', 64);
  await makePhoto(join(tmp.dir, 'photos', 'EG2', 'b.png'), 2, 'png', 64);
  bridge = await startBridge({ rendererDir: join(tmp.dir, 'renderer'), workspace: { settingsDir: join(tmp.dir, 'settings') } });
});
afterAll(async () => {
  await bridge?.close();
  tmp?.remove();
});

function http(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; type?: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${bridge.url}${path}`, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function call(name: string, args: unknown): Promise<unknown> {
  const res = await http(`/call/${name}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: encode(args) });
  return decode(res.body.toString());
}

/** Collects the bridge's server-sent events until `until` matches one. */
function nextEvent(until: (m: EventMessage) => boolean): Promise<EventMessage> {
  return new Promise((resolve) => {
    request(`${bridge.url}/events`, (res) => {
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        for (const line of text.split('\n').filter((l) => l.startsWith('data: '))) {
          const message = JSON.parse(line.slice(6)) as EventMessage;
          if (until(message)) { res.destroy(); resolve(message); }
        }
      });
    }).end();
  });
}

describe('the test bridge', () => {
  it('carries bytes and the typed arrays of a map through its JSON', () => {
    const value = { bytes: Uint8Array.from([0, 255]), points: Float32Array.from([1.5, -2]), ids: Int32Array.from([-7, 2 ** 30]), plain: { $f32: 1 } };
    expect(decode(encode(value))).toEqual(value);
  });

  it('listens on the loopback address only and refuses other hosts and other sites', async () => {
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await http('/')).status).toBe(200);
    expect((await http('/', { headers: { Host: 'evil.example' } })).status).toBe(403);
    expect((await http('/call/catalogue.current', { method: 'POST', headers: { Origin: 'https://evil.example' }, body: '{}' })).status).toBe(403);
  });

  it('checks every call against the contract and answers errors as {code, what, hint}', async () => {
    expect(await call('catalogue.open', { path: 42 })).toEqual({ ok: false, error: { code: 'INVALID_ARGUMENT', what: 'The window sent catalogue.open.path that is not a piece of text.', hint: expect.any(String) } });
    expect(await call('engine.shutdown', {})).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', what: expect.stringContaining('does not offer') } });
    expect(await call('dialog.open', { purpose: 'manifest' })).toMatchObject({ ok: false, error: { hint: 'Type the path of the file or folder instead.' } });
    const missing = await call('catalogue.open', { path: join(tmp.dir, 'none.sqlite') }) as { error: { what: string; hint: string } };
    expect(missing.error.what).toContain('does not exist');
    expect(JSON.stringify(missing)).not.toMatch(/\n\s+at /);
  });

  it('imports through a job that reports how it ended, then serves the photos by id only', async () => {
    await call('catalogue.create', { path: join(tmp.dir, 'c.sqlite') });
    const finished = nextEvent((m) => m.name === 'job.finished');
    expect(await call('import.start', { source: { kind: 'folder', path: join(tmp.dir, 'photos') } })).toEqual({ ok: true, value: { jobId: 1 } });
    expect((await finished).payload).toEqual({ jobId: 1, kind: 'import', summary: { total: 2, imported: 2, alreadyPresent: 0, failed: [] } });
    const listed = await call('catalogue.objects', { offset: 0, limit: 10, search: 'EG2' }) as { value: { total: number; objects: { coverPhotoId: number }[] } };
    expect(listed.value.total).toBe(1);
    const thumb = await http(`/photo/catalogue/${listed.value.objects[0].coverPhotoId}?size=thumb`);
    expect([thumb.status, thumb.type, thumb.body.subarray(0, 2).toString('hex')]).toEqual([200, 'image/jpeg', 'ffd8']);
    for (const path of ['/photo/catalogue/999', '/photo/catalogue/..%2F..%2Fetc%2Fpasswd', `/photo/file${tmp.dir}/photos/EG1/a.png`, '/..%2Fc.sqlite']) {
      expect((await http(path)).status, path).toBe(404);
    }
  });
});
