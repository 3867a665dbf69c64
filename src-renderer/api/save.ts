import type { SavePurpose } from '../../src-main/contract';
import { call, hasDialogs } from './client';

const TYPES: Record<SavePurpose, string> = { overlay: 'image/png', 'objects-csv': 'text/csv', 'evaluation-html': 'text/html', 'evaluation-json': 'application/json' };

/**
 * Saves what the window made: through the desktop app's save dialog, or as a download in a
 * browser. Says where it went, or null when the person cancelled.
 */
export async function saveFile(purpose: SavePurpose, fileName: string, bytes: Uint8Array): Promise<string | null> {
  if (hasDialogs()) {
    const path = await call('dialog.save', { purpose, fileName, bytes });
    return path && `Saved to ${path}`;
  }
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: TYPES[purpose] }));
  const link = Object.assign(document.createElement('a'), { href: url, download: fileName });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return `Downloaded ${fileName}`;
}
