import { basename } from 'node:path';
import type { OpenDialogOptions, SaveDialogOptions } from 'electron';
import type { DialogPurpose, SavePurpose } from '../contract';

const CATALOGUE_FILTER = { name: 'Artefact Lens catalogue', extensions: ['sqlite', 'sqlite3', 'db'] };
const PHOTO_FILTER = { name: 'Photos', extensions: ['jpg', 'jpeg', 'png', 'webp', 'tif', 'tiff', 'gif', 'avif', 'heic', 'heif'] };

/** What each file dialog asks for; 'new-catalogue' is a save dialog, the others open. */
export function openDialogOptions(purpose: Exclude<DialogPurpose, 'new-catalogue'>): OpenDialogOptions {
  switch (purpose) {
    case 'open-catalogue': return { title: 'Open a catalogue', properties: ['openFile'], filters: [CATALOGUE_FILTER] };
    case 'manifest': return { title: 'Choose a manifest', properties: ['openFile'], filters: [{ name: 'CSV manifest', extensions: ['csv'] }] };
    case 'folder': return { title: 'Choose the folder of photos', properties: ['openDirectory'] };
    case 'photos': return { title: 'Choose photos of one object', properties: ['openFile', 'multiSelections'], filters: [PHOTO_FILTER] };
  }
}

export const NEW_CATALOGUE_DIALOG = { title: 'Create a catalogue', defaultPath: 'catalogue.sqlite', filters: [CATALOGUE_FILTER] };

const SAVE_DIALOGS: Record<SavePurpose, Omit<SaveDialogOptions, 'defaultPath'>> = {
  overlay: { title: 'Export the overlay', filters: [{ name: 'PNG image', extensions: ['png'] }] },
  'objects-csv': { title: 'Export the accession numbers', filters: [{ name: 'CSV file', extensions: ['csv'] }] },
  'evaluation-html': { title: 'Export the evaluation report', filters: [{ name: 'HTML page', extensions: ['html'] }] },
  'evaluation-json': { title: 'Export the evaluation figures', filters: [{ name: 'JSON file', extensions: ['json'] }] },
};

/** Where to save what the window made; the suggested name is a file name only, never a path the window chose. */
export function saveDialogOptions(purpose: SavePurpose, fileName: string): SaveDialogOptions {
  const defaultPath = basename(fileName.replaceAll('\\', '/'));
  return { defaultPath, ...SAVE_DIALOGS[purpose] };
}
