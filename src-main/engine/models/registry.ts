import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors';
import { readModelCard, type ModelCard } from './card';

/** models/ of the checkout; the packaged app passes its resources folder instead. */
export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../../models', import.meta.url));

export const DEFAULT_MODEL_ID = 'inception-v3-mixed5';

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every model card in the folder, sorted by id. */
export function listModelCards(modelsDir = DEFAULT_MODELS_DIR): ModelCard[] {
  return readdirSync(modelsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => readModelCard(join(modelsDir, f)))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The sha256 of each installed model file, by id: what a catalogue's descriptors are checked against (Catalogue.fromOtherModelFile). */
export function installedModelFiles(modelsDir = DEFAULT_MODELS_DIR): Map<string, string> {
  return new Map(listModelCards(modelsDir).map((c) => [c.id, c.sha256]));
}

export function findModelCard(id: string, modelsDir = DEFAULT_MODELS_DIR): ModelCard {
  const cards = listModelCards(modelsDir);
  const card = cards.find((c) => c.id === id);
  if (!card) {
    throw new UserError('MODEL_UNKNOWN', `There is no model "${id}".`,
      `Choose one of: ${cards.map((c) => c.id).join(', ') || '(none installed)'}.`);
  }
  return card;
}

/** Bytes of each model's file (an evaluation report's size chart); 0 for one that cannot be read. */
export function modelBytes(models: readonly string[], modelsDir = DEFAULT_MODELS_DIR): Record<string, number> {
  return Object.fromEntries(models.map((id) => {
    try {
      return [id, statSync(join(modelsDir, findModelCard(id, modelsDir).file)).size];
    } catch {
      return [id, 0]; // a size is only for the chart; the evaluation itself already needed the model
    }
  }));
}

/** The card's .onnx file, checked to exist and to be the file the card describes. */
export function modelFile(card: ModelCard, modelsDir = DEFAULT_MODELS_DIR): string {
  const path = join(modelsDir, card.file);
  const regenerate = card.converter
    ? 'Regenerate it with `npm run models` (it is built from the installed packages, offline).'
    : 'Copy the model file again from where you obtained it.';
  if (!existsSync(path)) {
    throw new UserError('MODEL_MISSING', `The model file ${path} for "${card.id}" is missing.`, regenerate);
  }
  if (card.sha256 && sha256File(path) !== card.sha256) {
    throw new UserError('MODEL_CORRUPT', `The model file ${path} for "${card.id}" is damaged or is not the model its card describes.`, regenerate);
  }
  return path;
}
