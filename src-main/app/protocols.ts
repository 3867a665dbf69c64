import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { CONTENT_SECURITY_POLICY, parsePhotoPath, type PhotoRequest } from '../contract';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2',
};

function notFound(): Response {
  return new Response('not found', { status: 404 });
}

/** lens://app/<file>: a file of the built renderer, never one outside its folder. */
export async function serveApp(request: Request, rendererDir: string): Promise<Response> {
  const url = new URL(request.url);
  if (url.host !== 'app') return notFound();
  const base = resolve(rendererDir);
  const file = resolve(join(base, decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)));
  if (!file.startsWith(base + sep)) return notFound();
  const content = await readFile(file).catch(() => null);
  if (!content) return notFound();
  return new Response(new Uint8Array(content), {
    headers: { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' },
  });
}

/** lens-photo://catalogue/<id> or lens-photo://query/<id>: a photo of the open catalogue by id, nothing else. */
export async function servePhoto(request: Request, photo: (r: PhotoRequest) => Promise<Uint8Array | null>): Promise<Response> {
  const url = new URL(request.url);
  const wanted = parsePhotoPath(`${url.host}${url.pathname}`, url.search);
  const bytes = wanted && await photo(wanted);
  if (!bytes) return notFound();
  return new Response(new Uint8Array(bytes), { headers: { 'Content-Type': 'image/jpeg', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' } });
}
