import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

export const REPO = join(import.meta.dirname, '..', '..');

/** A fresh temporary folder, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'artefact-lens-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A small photo whose content (and so sha256) differs for every seed. */
export async function makePhoto(path: string, seed: number, format: 'png' | 'jpeg' = 'png', size = 16): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  const background = { r: seed % 256, g: Math.floor(seed / 256) % 256, b: (seed * 7) % 256 };
  await sharp({ create: { width: size, height: size, channels: 3, background } }).toFormat(format).toFile(path);
  return path;
}

/** A PNG whose header claims width x height; only the header is real, so it costs a few bytes. */
export function writePngHeader(path: string, width: number, height: number): void {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  writeFileSync(path, Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0)),
  ]));
}
