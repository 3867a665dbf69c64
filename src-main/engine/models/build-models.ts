/**
 * The install step's model build: converts each card's source (a pinned npm package) to the
 * .onnx the card names, unless a file with the card's hash is already there. Run by
 * `npm install` (postinstall) and `npm run models`; needs no network.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ModelCard } from './card';
import { buildColourHistogram } from './convert/colour-histogram';
import { convertGraphModel } from './convert/graph-model';
import { convertLayersModel } from './convert/layers-model';
import { DEFAULT_MODELS_DIR, listModelCards, sha256File } from './registry';
import { readTfjsBundle } from './tfjs/bundle';

const IO_NAMES = { inputName: 'input', embeddingName: 'embedding', featuremapName: 'featuremap', cellsName: 'cells' };

/** Root folder of an installed package, found from its main entry. */
function packageRoot(name: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(name));
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) {
    if (dirname(dir) === dir) throw new Error(`package ${name} is not installed`);
    dir = dirname(dir);
  }
  return dir;
}

function sourceDir(card: ModelCard, modelDir: string): string {
  const root = packageRoot(card.source.package);
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  if (version !== card.source.version) {
    throw new Error(`${card.id} is made from ${card.source.package}@${card.source.version}, but ${version} is installed: run npm ci`);
  }
  const dir = join(root, modelDir);
  for (const [file, hash] of Object.entries(card.source.files)) {
    if (sha256File(join(dir, file)) !== hash) throw new Error(`${card.id}: source file ${file} does not match its pinned sha256`);
  }
  return dir;
}

export function convertCard(card: ModelCard): Uint8Array {
  const converter = card.converter!;
  if (converter.kind === 'colour-histogram') return buildColourHistogram(converter.options, IO_NAMES);
  const bundle = readTfjsBundle(sourceDir(card, converter.modelDir));
  const { stopAt, cellsAt } = converter.options;
  const options = { ...IO_NAMES, stopAt: String(stopAt), cellsAt: cellsAt === undefined ? undefined : String(cellsAt) };
  return converter.kind === 'tfjs-layers' ? convertLayersModel(bundle, options) : convertGraphModel(bundle, options);
}

export function buildModels(modelsDir = DEFAULT_MODELS_DIR, log = console.log): void {
  for (const card of listModelCards(modelsDir).filter((c) => c.converter)) {
    const target = join(modelsDir, card.file);
    if (existsSync(target) && sha256File(target) === card.sha256) {
      log(`model ${card.id}: up to date`);
      continue;
    }
    const started = Date.now();
    const bytes = convertCard(card);
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (hash !== card.sha256) {
      throw new Error(`model ${card.id}: the converter produced sha256 ${hash}, but the card expects ${card.sha256 || '(none)'}. ` +
        'If the converter was changed on purpose, run the parity test and then record the new hash in the card.');
    }
    writeFileSync(`${target}.partial`, bytes);
    renameSync(`${target}.partial`, target);
    log(`model ${card.id}: built ${card.file} (${(bytes.length / 1e6).toFixed(1)} MB) in ${Date.now() - started} ms`);
  }
}
