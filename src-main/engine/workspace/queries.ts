import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import type { QueryPhoto } from '../../contract';
import { UserError } from '../errors';
import { probeImage } from '../inference/image';

/**
 * Photos given to Identify. Each is copied into a scratch folder under an id the engine made
 * up, so the window names query photos by id and never hands the engine a path to read later.
 */
export class QueryPhotos {
  private readonly dir = mkdtempSync(join(tmpdir(), 'artefact-lens-queries-'));
  private readonly photos = new Map<string, QueryPhoto & { path: string }>();

  async addBytes(name: string, bytes: Uint8Array): Promise<QueryPhoto> {
    return this.add(name, (target) => writeFile(target, bytes));
  }

  async addFile(path: string): Promise<QueryPhoto> {
    return this.add(basename(path), (target) => copyFile(path, target).catch((cause: unknown) => {
      throw new UserError('FILE_NOT_FOUND', `The photo ${path} cannot be read.`, 'Check that the file exists and the drive holding it is connected.', { cause });
    }));
  }

  private async add(name: string, write: (target: string) => Promise<void>): Promise<QueryPhoto> {
    const id = randomBytes(8).toString('hex');
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, `${id}${extname(name).toLowerCase().replace(/[^.a-z0-9]/g, '')}`);
    await write(path);
    const info = await probeImage(path).catch((e: unknown) => {
      rmSync(path, { force: true });
      throw e instanceof UserError ? new UserError(e.code, `${name}: ${e.what.replace(path, 'the photo')}`, e.hint) : e;
    });
    const photo = { id, name, width: info.width, height: info.height, path };
    this.photos.set(id, photo);
    return { id, name, width: info.width, height: info.height };
  }

  path(id: string): string {
    const photo = this.photos.get(id);
    if (!photo) {
      throw new UserError('FILE_NOT_FOUND', 'A photo to identify is no longer available.', 'Add the photo again.');
    }
    return photo.path;
  }

  name(id: string): string {
    this.path(id); // Refuses a photo that is gone.
    return this.photos.get(id)!.name;
  }

  has(id: string): boolean {
    return this.photos.has(id);
  }

  clear(): void {
    rmSync(this.dir, { recursive: true, force: true });
    this.photos.clear();
  }
}
