/**
 * npm run bench:identify-field — identification itself, as a user runs it, on the one-picture
 * case of ../shared/datasets/grocery-dev: a catalogue of each product's catalogue picture;
 * shop photos identified first with no field photos, then after learning a quarter of the
 * train photos as field photos (every fourth), on val and on the other train photos; then, the
 * other train photos added to the catalogue (several photos an object, as museums have), on val.
 * Prints top-1, top-5 and the share answered (not "not in the catalogue"). Everything but the
 * dataset lives in a temporary folder.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Catalogue } from '../../src-main/engine/catalogue/catalogue';
import { runImport } from '../../src-main/engine/catalogue/import';
import { Describer } from '../../src-main/engine/identify/describe';
import { learnFieldDomain } from '../../src-main/engine/identify/field-domain';
import { Identifier } from '../../src-main/engine/identify/identifier';
import { DEFAULT_RECIPE } from '../../src-main/engine/identify/recipe';
import { embedCatalogue } from '../../src-main/engine/jobs/embed-catalogue';
import { DATASETS, manifestRows } from '../helpers/photos';

const GROCERY = join(DATASETS, 'grocery-dev');
if (!existsSync(join(GROCERY, 'manifest.csv'))) {
  console.log(`bench:identify-field skipped: ${GROCERY} is absent.`);
  process.exit(0);
}

const rows = manifestRows(GROCERY);
const train = rows.filter((r) => r.split === 'train');
const field = train.filter((_, i) => i % 4 === 3);
const sets = { val: rows.filter((r) => r.split === 'val'), 'other train': train.filter((_, i) => i % 4 !== 3) };
const asImport = (r: Record<string, string>) => ({ where: 'new' as const, path: join(GROCERY, r.image_path!), instanceId: r.instance_id!, subcollection: r.subcategory || null, title: null, metadata: {} });
const dir = mkdtempSync(join(tmpdir(), 'bench-identify-field-'));
const catalogue = Catalogue.open(join(dir, 'catalogue.sqlite'), { create: true });
const describer = await Describer.open(DEFAULT_RECIPE);
try {
  await runImport(catalogue, {
    rows: rows.filter((r) => r.split === 'catalogue').map(asImport),
    failures: [],
  });
  await embedCatalogue(catalogue, describer);
  mkdirSync(join(dir, 'field'));
  for (const r of field) symlinkSync(join(GROCERY, r.image_path), join(dir, 'field', basename(r.image_path)));

  const run = async (label: string, photos: Record<string, string>[]) => {
    const identifier = new Identifier(catalogue, describer);
    let t = performance.now();
    await identifier.prepare();
    const prepare = performance.now() - t;
    let [top1, top5, answered] = [0, 0, 0];
    let decision = '';
    const [times, thresholds]: number[][] = [[], []];
    for (const r of photos) {
      t = performance.now();
      const answer = await identifier.identify([{ path: join(GROCERY, r.image_path) }], { top: 5 });
      times.push(performance.now() - t);
      const rank = answer.results.findIndex((m) => m.instanceId === r.instance_id) + 1;
      top1 += rank === 1 ? 1 : 0;
      top5 += rank >= 1 ? 1 : 0;
      answered += answer.notInCatalogue ? 0 : 1;
      thresholds.push(answer.threshold);
      const { evidence, fieldPhotos } = answer.calibration;
      decision = evidence ? `, with local evidence, from ${evidence.fieldPhotos} field photos' runner-ups`
        : fieldPhotos ? `, reached by ${(100 * fieldPhotos.reaching).toFixed(1)} % of the field photos` : '';
    }
    const pct = (n: number) => `${((100 * n) / photos.length).toFixed(1)} %`;
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
    console.log(`${label.padEnd(46)} ${String(photos.length).padStart(4)} photos  top-1 ${pct(top1)}  top-5 ${pct(top5)}  answered ${pct(answered)} (median threshold ${median(thresholds).toFixed(3)}${decision})  `
      + `median ${median(times).toFixed(0)} ms a photo (prepare ${(prepare / 1000).toFixed(1)} s)`);
  };

  console.log(`bench:identify-field — ${catalogue.stats().objects} products, one catalogue picture each; provider ${describer.pool(DEFAULT_RECIPE.parts[0]!.model).provider}`);
  await run('val, no field photos', sets.val);
  const learned = await learnFieldDomain(catalogue, describer, join(dir, 'field'));
  for (const [name, photos] of Object.entries(sets)) await run(`${name}, ${learned.count} train photos as field photos`, photos);
  // Field photos learned, embedding keeps the added photos' cells from its own inference.
  await runImport(catalogue, { rows: sets['other train'].map(asImport), failures: [] });
  const t = performance.now();
  const { embedded } = await embedCatalogue(catalogue, describer);
  console.log(`added the ${sets['other train'].length} other train photos: ${embedded} descriptors in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  await run(`val, catalogue + other train, ${learned.count} field photos`, sets.val);
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
} finally {
  await describer.close();
  catalogue.close();
  rmSync(dir, { recursive: true, force: true });
}
