import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PhotoRequest } from '../../src-main/contract';
import { handleCall } from '../../src-main/app/ipc';
import { menuTemplate } from '../../src-main/app/menu';
import { serveApp, servePhoto } from '../../src-main/app/protocols';
import { denyPermissionCheck, denyPermissionRequest, filterRequest, guardContents, windowOptions } from '../../src-main/app/security';
import { tempDir } from '../helpers/files';

const tmp = tempDir();
afterAll(() => tmp.remove());

describe('the window', () => {
  it('runs the page without Node, isolated and sandboxed, with no webviews or insecure content', () => {
    expect(windowOptions('/app/preload.cjs').webPreferences).toEqual({
      preload: '/app/preload.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false, webSecurity: true, allowRunningInsecureContent: false, experimentalFeatures: false,
      webviewTag: false, navigateOnDragDrop: false, safeDialogs: true, spellcheck: false,
    });
  });

  it('never navigates, opens windows or attaches webviews', () => {
    const contents = Object.assign(new EventEmitter(), { openHandler: undefined as undefined | (() => unknown), setWindowOpenHandler(h: () => unknown) { this.openHandler = h; } });
    guardContents(contents as never);
    expect(contents.openHandler?.()).toEqual({ action: 'deny' });
    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      let prevented = false;
      contents.emit(name, { preventDefault: () => { prevented = true; } }, 'https://example.org/');
      expect(prevented, name).toBe(true);
    }
  });
});

describe('the session', () => {
  const cancelled = (url: string) => {
    let answer: boolean | undefined;
    filterRequest({ url }, (r) => { answer = r.cancel; });
    return answer;
  };

  it('lets through only the app page and its photos; every network address is blocked', () => {
    expect(cancelled('lens://app/index.html')).toBe(false);
    expect(cancelled('lens-photo://catalogue/12?size=thumb')).toBe(false);
    for (const url of ['https://example.org/', 'http://127.0.0.1:8080/', 'ws://localhost/', 'file:///etc/passwd', 'lens://other/x', 'data:text/html,hi']) {
      expect(cancelled(url), url).toBe(true);
    }
  });

  it('denies every permission request and check', () => {
    let granted: boolean | undefined;
    denyPermissionRequest(null, 'media', (g) => { granted = g; });
    expect(granted).toBe(false);
    expect(denyPermissionCheck()).toBe(false);
  });
});

describe('the protocols', () => {
  const renderer = join(tmp.dir, 'renderer');
  mkdirSync(renderer, { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(tmp.dir, 'secret.txt'), 'not for the page');

  it('serves the renderer with the content security policy, and nothing outside it', async () => {
    const page = await serveApp(new Request('lens://app/index.html'), renderer);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'self'/);
    for (const url of ['lens://app/%2e%2e/secret.txt', 'lens://app/..%2fsecret.txt', 'lens://evil/index.html', 'lens://app/missing.js']) {
      expect((await serveApp(new Request(url), renderer)).status, url).toBe(404);
    }
  });

  it('serves photos by id only: no paths, no traversal, no other kinds', async () => {
    const asked: PhotoRequest[] = [];
    const photo = async (r: PhotoRequest) => { asked.push(r); return r.id === '12' ? new Uint8Array([0xff, 0xd8]) : null; };
    const found = await servePhoto(new Request('lens-photo://catalogue/12?size=thumb'), photo);
    expect(found.status).toBe(200);
    expect(found.headers.get('content-type')).toBe('image/jpeg');
    expect((await servePhoto(new Request('lens-photo://catalogue/13'), photo)).status).toBe(404);
    for (const url of ['lens-photo://catalogue/..%2f..%2fetc%2fpasswd', 'lens-photo://catalogue/%2Fetc%2Fpasswd', 'lens-photo://file/etc/passwd',
      'lens-photo://query/abc', 'lens-photo://catalogue/12?size=huge', 'lens-photo://catalogue/0']) {
      expect((await servePhoto(new Request(url), photo)).status, url).toBe(404);
    }
    expect(asked).toEqual([{ kind: 'catalogue', id: '12', size: 'thumb' }, { kind: 'catalogue', id: '13', size: 'full' }]);
  });
});

describe('calls from the window', () => {
  const frame = (url: string) => ({ senderFrame: { url } }) as never;
  const routes = { local: () => undefined, engine: async () => ({ ok: true as const, value: 'engine answered' }) };

  it('reach the engine only from the app page and only with arguments the contract accepts', async () => {
    expect(await handleCall(frame('lens://app/index.html'), null, routes, 'catalogue.open', { path: '/c.sqlite' })).toEqual({ ok: true, value: 'engine answered' });
    const foreign = await handleCall(frame('https://example.org/'), null, routes, 'catalogue.open', { path: '/c.sqlite' });
    expect(foreign).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    const bad = await handleCall(frame('lens://app/index.html'), null, routes, 'catalogue.open', { path: '/c.sqlite', sql: 'DROP TABLE' });
    expect(bad).toEqual({ ok: false, error: { code: 'INVALID_ARGUMENT', what: 'The window sent catalogue.open.sql that is not expected.', hint: expect.any(String) } });
  });
});

describe('the menu', () => {
  it('has open, create, recent, import, identify and quit, with shortcuts that reach the window', () => {
    const sent: string[] = [];
    const opened: string[] = [];
    const template = menuTemplate(['/museum/oriental.sqlite'], { command: (c) => sent.push(c), openRecent: (p) => opened.push(p) }, 'linux');
    const file = template.find((m) => m.label === '&File')!.submenu as { label?: string; accelerator?: string; role?: string; submenu?: unknown; click?: () => void }[];
    const item = (label: string) => file.find((i) => i.label === label)!;
    expect(['New Catalogue…', 'Open Catalogue…', 'Import Photos…', 'Identify a Photo'].map((l) => item(l).accelerator)).toEqual(['CmdOrCtrl+N', 'CmdOrCtrl+O', 'CmdOrCtrl+I', 'CmdOrCtrl+D']);
    expect(file.find((i) => i.role === 'quit')?.accelerator).toBe('CmdOrCtrl+Q');
    for (const l of ['New Catalogue…', 'Open Catalogue…', 'Import Photos…', 'Identify a Photo']) item(l).click!();
    (item('Open Recent').submenu as { click: () => void }[])[0].click();
    expect(sent).toEqual(['new-catalogue', 'open-catalogue', 'import', 'identify']);
    expect(opened).toEqual(['/museum/oriental.sqlite']);
  });
});
