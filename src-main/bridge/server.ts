import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { CONTENT_SECURITY_POLICY, parsePhotoPath, type EventMessage } from '../contract';
import { dispatch } from '../engine/workspace/dispatch';
import { Workspace, type WorkspaceOptions } from '../engine/workspace/workspace';
import { decode, encode } from './codec';

/**
 * The loopback-only test bridge: serves the built renderer and implements the contract over
 * HTTP (calls as POST, events as server-sent events) through the same Workspace and the same
 * checks as the desktop app. Tests start it; the packaged app never includes it.
 */
export interface Bridge {
  url: string;
  workspace: Workspace;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.woff2': 'font/woff2', '.json': 'application/json',
};
/** Photos travel as base64 JSON: a 200 MB photo and its encoding fit. */
const MAX_BODY = 300_000_000;
const LOOPBACK = new Set(['127.0.0.1', '::ffff:127.0.0.1']);

export async function startBridge(options: { workspace: WorkspaceOptions; rendererDir: string }): Promise<Bridge> {
  const listeners = new Set<ServerResponse>();
  const broadcast = (message: EventMessage) => {
    for (const res of listeners) res.write(`data: ${JSON.stringify(message)}\n\n`);
  };
  const workspace = new Workspace(options.workspace, broadcast);
  let origin = '';
  const server = createServer((req, res) => {
    if (!fromThisMachine(req, origin)) return send(res, 403, 'text/plain', 'Refused: the bridge answers only this machine.');
    route(req, res).catch((e: unknown) => {
      console.error(e);
      if (!res.headersSent) send(res, 500, 'text/plain', 'fault');
    });
  });
  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    if (req.method === 'POST' && url.pathname.startsWith('/call/')) {
      const answer = await dispatch(workspace.handlers, decodeURIComponent(url.pathname.slice(6)), decode(await body(req)));
      return send(res, 200, 'application/json', encode(answer));
    }
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed');
    if (url.pathname === '/events') return subscribe(res, listeners);
    if (url.pathname.startsWith('/photo/')) {
      const request = parsePhotoPath(url.pathname.slice(7), url.search);
      const photo = request && await workspace.photo(request);
      return photo ? send(res, 200, 'image/jpeg', photo) : send(res, 404, 'text/plain', 'no such photo');
    }
    return serveFile(res, options.rendererDir, url.pathname);
  };
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    workspace,
    async close() {
      for (const res of listeners) res.end();
      await workspace.close();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** Loopback peers only, addressed by the bridge's own origin (no DNS rebinding, no other site's page). */
function fromThisMachine(req: IncomingMessage, origin: string): boolean {
  if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) return false;
  if (`http://${req.headers.host}` !== origin) return false;
  return req.headers.origin === undefined || req.headers.origin === origin;
}

function send(res: ServerResponse, status: number, type: string, content: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(content);
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy(new Error('request too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

function subscribe(res: ServerResponse, listeners: Set<ServerResponse>): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
  res.write(': connected\n\n');
  listeners.add(res);
  res.on('close', () => listeners.delete(res));
}

/** A file of the built renderer; nothing outside its folder. */
async function serveFile(res: ServerResponse, root: string, pathname: string): Promise<void> {
  const base = resolve(root);
  const file = resolve(join(base, decodeURIComponent(pathname === '/' ? '/index.html' : pathname)));
  if (!file.startsWith(base + sep)) return send(res, 404, 'text/plain', 'not found');
  const content = await readFile(file).catch(() => null);
  if (!content) return send(res, 404, 'text/plain', 'not found');
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(content);
}
