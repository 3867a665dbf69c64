import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEEP = 8;

/** The catalogues opened last, newest first, kept in the settings folder across sessions. */
export class RecentCatalogues {
  private readonly file: string;

  constructor(settingsDir: string) {
    mkdirSync(settingsDir, { recursive: true });
    this.file = join(settingsDir, 'recent-catalogues.json');
  }

  list(): string[] {
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string').slice(0, KEEP) : [];
    } catch {
      return []; // No file yet, or one damaged by hand: start the list again.
    }
  }

  add(path: string): void {
    writeFileSync(this.file, JSON.stringify([path, ...this.list().filter((p) => p !== path)].slice(0, KEEP)));
  }
}
