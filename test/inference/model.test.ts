import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddingModel } from '../../src-main/engine/inference/model';
import { providerOrder } from '../../src-main/engine/inference/session';
import { DEFAULT_MODELS_DIR, findModelCard, listModelCards } from '../../src-main/engine/models/registry';

const ID = 'mobilenet-v2-140';

/** A models folder holding one real model, its card edited by `edit`. */
function modelsDir(edit: (card: Record<string, any>) => void = () => {}, file?: (path: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'models-'));
  const card = JSON.parse(readFileSync(join(DEFAULT_MODELS_DIR, `${ID}.json`), 'utf8'));
  copyFileSync(join(DEFAULT_MODELS_DIR, card.file), join(dir, card.file));
  file?.(join(dir, card.file));
  edit(card);
  writeFileSync(join(dir, `${ID}.json`), JSON.stringify(card));
  return dir;
}

const openError = (dir: string, settings = {}) => EmbeddingModel.open(ID, { modelsDir: dir, provider: 'cpu', ...settings }).then(() => undefined, (e) => e);

describe('model registry and sessions', () => {
  it('lists the shipped models with their cards: two backbones and the colour histogram', () => {
    const ids = listModelCards().map((c) => c.id);
    expect(ids).toEqual(['colour-histogram', 'inception-v3-mixed5', 'mobilenet-v2-140']);
    expect(findModelCard('inception-v3-mixed5').embeddingDim).toBe(768);
  });

  it('runs on the first provider that works and says which, with why others were passed over', async () => {
    const model = await EmbeddingModel.open(ID);
    expect(providerOrder().at(-1)).toBe('cpu');
    expect(providerOrder()).toContain(model.provider);
    for (const s of model.skippedProviders) expect(s.reason.length).toBeGreaterThan(0);
    const out = await model.run(new Float32Array(model.inputLength).fill(0.5), 1);
    expect(out.embeddings).toHaveLength(1792);
    await model.close();
  });

  it('refuses an unknown model, naming the ones there are', async () => {
    expect(await EmbeddingModel.open('resnet-9000').catch((e) => e)).toMatchObject({ code: 'MODEL_UNKNOWN', message: expect.stringContaining('mobilenet-v2-140') });
  });

  it('says how to regenerate a missing model file', async () => {
    const dir = modelsDir((c) => { c.file = 'gone.onnx'; });
    expect(await openError(dir)).toMatchObject({ code: 'MODEL_MISSING', message: expect.stringContaining('npm run models') });
  });

  it('detects a damaged model file by its hash', async () => {
    const dir = modelsDir(() => {}, (p) => { const b = readFileSync(p); b[b.length >> 1] ^= 0xff; writeFileSync(p, b); });
    expect(await openError(dir)).toMatchObject({ code: 'MODEL_CORRUPT' });
  });

  it('reports a file that is not a model at all', async () => {
    const dir = modelsDir((c) => { c.sha256 = ''; }, (p) => writeFileSync(p, 'not a model'));
    expect(await openError(dir)).toMatchObject({ code: 'MODEL_CORRUPT', message: expect.stringContaining('cannot be loaded') });
  });

  it('refuses a model whose card does not match its inputs and outputs', async () => {
    expect(await openError(modelsDir((c) => { c.input.width = 299; c.input.height = 299; })))
      .toMatchObject({ code: 'MODEL_MISMATCH', message: expect.stringContaining('299') });
    expect(await openError(modelsDir((c) => { c.input.name = 'images'; })))
      .toMatchObject({ code: 'MODEL_MISMATCH', message: expect.stringContaining('"images"') });
    expect(await openError(modelsDir((c) => { c.outputs.embedding.name = 'logits'; })))
      .toMatchObject({ code: 'MODEL_MISMATCH', message: expect.stringContaining('"logits"') });
    // MobileNetV2's file gives no cells of their own: a card naming some is refused.
    expect(await openError(modelsDir((c) => { c.outputs.cells = { name: 'cells', shape: [-1, 1792, 7, 7] }; })))
      .toMatchObject({ code: 'MODEL_MISMATCH', message: expect.stringContaining('no output "cells"') });
  });

  it('refuses an unavailable provider when one is asked for by name', async () => {
    const other = process.platform === 'win32' ? 'coreml' : 'dml';
    expect(await openError(DEFAULT_MODELS_DIR, { provider: other })).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
  });
});
