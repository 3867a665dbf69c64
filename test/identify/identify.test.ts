import { copyFileSync, cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalogue } from '../../src-main/engine/catalogue/catalogue';
import { runImport } from '../../src-main/engine/catalogue/import';
import { planFromFolderTree } from '../../src-main/engine/catalogue/import-folders';
import { planFromManifest } from '../../src-main/engine/catalogue/import-manifest';
import { Describer, queryCentre } from '../../src-main/engine/identify/describe';
import { Identifier } from '../../src-main/engine/identify/identifier';
import { fieldDomain, fieldDomainStatus, fieldQueryCells, learnFieldDomain, queryCellsLearnedAt } from '../../src-main/engine/identify/field-domain';
import { describePictures } from '../../src-main/engine/identify/local-evidence';
import { DEFAULT_RECIPE, recipeKey, storageKey, type DescriptorRecipe } from '../../src-main/engine/identify/recipe';
import { DEFAULT_SHRINKAGE, Postprocessor } from '../../src-main/engine/search/postprocess';
import { dot } from '../../src-main/engine/search/vectors';
import { describeCalibration } from '../../src-main/engine/search/calibrate';
import { describeFieldPhotos, embedCatalogue } from '../../src-main/engine/jobs/embed-catalogue';
import type { Progress } from '../../src-main/engine/jobs/progress';
import { tempDir } from '../helpers/files';
import { randomMatrix } from '../search/synthetic';
import { COIL, hasCoil, manifestRows, syntheticPhoto, syntheticView } from '../helpers/photos';

/** A photo of clutter everywhere, with no plain background. */
async function clutter(path: string): Promise<string> {
  await sharp(Uint8Array.from({ length: 160 * 160 * 3 }, (_, i) => (i * 37 + Math.floor(i / 480) * 91) % 256), { raw: { width: 160, height: 160, channels: 3 } }).png().toFile(path);
  return path;
}

/** Six COIL objects photographed every 60 degrees; the views in between are held out as queries. */
const OBJECTS = ['coil-002', 'coil-003', 'coil-004', 'coil-005', 'coil-006', 'coil-007'];
const inCatalogue = (angle: number) => angle % 60 === 0;
const heldOut = (angle: number) => angle % 60 === 30;

describe.skipIf(!hasCoil)('identification on a COIL-100 catalogue (default recipe)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let catalogue: Catalogue;
  let describer: Describer;
  let identifier: Identifier;
  const rows = manifestRows(COIL).filter((r) => OBJECTS.includes(r.instance_id));
  const queries = rows.filter((r) => heldOut(Number(r.view_angle_deg)));

  beforeAll(async () => {
    tmp = tempDir();
    const manifest = join(tmp.dir, 'manifest.csv');
    writeFileSync(manifest, ['image_path,instance_id,subcategory', ...rows.filter((r) => inCatalogue(Number(r.view_angle_deg)))
      .map((r) => `${join(COIL, r.image_path)},${r.instance_id},turntable`)].join('\n'));
    catalogue = Catalogue.open(join(tmp.dir, 'cat.sqlite'), { create: true });
    await runImport(catalogue, planFromManifest(manifest));
    describer = await Describer.open(DEFAULT_RECIPE, { provider: 'cpu' });
    identifier = new Identifier(catalogue, describer);
  });
  afterAll(async () => {
    await describer.close();
    catalogue.close();
    tmp.remove();
  });

  it('embeds every photo for every part of the recipe, reporting progress to the end', async () => {
    const seen: Progress[] = [];
    const summary = await embedCatalogue(catalogue, describer, { onProgress: (p) => seen.push(p) });
    expect(summary).toEqual({ embedded: 36 * DEFAULT_RECIPE.parts.length, failed: [] });
    expect(seen.at(-1)).toMatchObject({ done: 36 * DEFAULT_RECIPE.parts.length, total: 36 * DEFAULT_RECIPE.parts.length });
    expect(seen.every((p) => p.perSecond > 0)).toBe(true);
    expect((await embedCatalogue(catalogue, describer)).embedded).toBe(0);
    // Six photos an object are whitened, not re-ranked by local evidence: no picture's cells are kept.
    expect(catalogue.pictureCellPhotos('inception-v3-mixed5:cells+flip').size).toBe(0);
  });

  it('puts the right object at rank 1 for each held-out view, and accepts nearly all of them', async () => {
    let rejected = 0;
    for (const q of queries) {
      const answer = await identifier.identify([{ path: join(COIL, q.image_path) }], { top: 3 });
      expect(answer.results[0].instanceId, q.image_path).toBe(q.instance_id);
      expect(answer.results[0]).toMatchObject({ rank: 1, subcategory: 'turntable' });
      expect(answer.results[0].score).toBeGreaterThan(answer.results[1].score);
      if (answer.notInCatalogue) rejected++;
    }
    // The threshold is set to accept 95 % of the catalogue's own held-out photos; two side views
    // of object 6 look like none of its photos 60 degrees apart, and two of object 3 come close.
    expect(rejected).toBeLessThanOrEqual(4);
  });

  it('fuses several photos of one object into one query and logs every answer', async () => {
    const views = queries.filter((q) => q.instance_id === 'coil-004').slice(0, 3).map((q) => ({ path: join(COIL, q.image_path) }));
    const answer = await identifier.identify(views);
    expect(answer.results[0].instanceId).toBe('coil-004');
    const log = catalogue.recentIdentifications(1)[0];
    expect(log.id).toBe(answer.logId);
    expect(log.queryPaths).toEqual(views.map((v) => v.path));
    expect(log.queryHashes.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
  });

  it('answers "not in the catalogue" for a photo of something else', async () => {
    const stranger = await syntheticPhoto(join(tmp.dir, 'stranger.png'), 3, 128);
    const answer = await identifier.identify([{ path: stranger }]);
    expect(answer.notInCatalogue).toBe(true);
    expect(answer.results[0].score).toBeLessThan(answer.threshold);
    expect(answer.calibration.basis).toBe('cross-fitted');
    expect(answer.ensemble).toBe(false); // whitened: the backbones are mixed
  });

  it('ignores thresholds that earlier versions stored under other rules', async () => {
    for (const old of ['calibration:', 'calibration:cross-fitted:', 'threshold:']) {
      catalogue.putArtifact(`${old}${recipeKey(DEFAULT_RECIPE)}`, { json: { threshold: 0.857, basis: 'leave-one-out', genuineAcceptRate: 0.95, impostorAcceptRate: 0.01, n: 36 } });
    }
    const answer = await new Identifier(catalogue, describer).identify([{ path: join(COIL, queries[0].image_path) }]);
    expect(answer.calibration).toMatchObject({ basis: 'cross-fitted', impostorsFrom: 'held-out objects' });
    expect(answer.notInCatalogue).toBe(false);
  });

  it('learns again a whitening stored with an earlier default shrinkage', async () => {
    const key = `whitening:${recipeKey(DEFAULT_RECIPE)}`;
    const stored = () => Postprocessor.deserialise(catalogue.getArtifact(key)!.blob!);
    const { inDims } = stored();
    const old = await Postprocessor.fit(randomMatrix(40, inDims, 1), inDims, { shrinkage: 0.1 });
    catalogue.putArtifact(key, { blob: old.serialise() });
    await new Identifier(catalogue, describer).identify([{ path: join(COIL, queries[0].image_path) }]);
    expect(stored().shrinkage).toBeCloseTo(DEFAULT_SHRINKAGE, 6);
  });

  it('fuses the trained instance classifier with retrieval until the catalogue changes', async () => {
    const query = [{ path: join(COIL, queries[0].image_path) }];
    const plain = await identifier.identify(query);
    expect(plain.classifier).toBe('none');
    expect(plain.ranking).toBeNull();
    await identifier.trainClassifier({ epochs: 30 });
    const fused = await identifier.identify(query, { top: 3 });
    expect(fused.classifier).toBe('fused');
    expect(fused.results[0].instanceId).toBe(queries[0].instance_id);
    expect(fused.results[0].probability).toBeGreaterThan(fused.results[1].probability!);
    expect(fused.results.map((r) => r.rank)).toEqual([1, 2, 3]);
    expect(fused.ranking).toMatch(/^Ranked by probability: the catalogue's instance classifier/);
    // The log keeps what the user was shown: the order's reason and each probability.
    expect(catalogue.recentIdentifications(1)[0].answer).toMatchObject({
      ranking: fused.ranking, results: fused.results.map((r) => ({ rank: r.rank, probability: r.probability })),
    });    // A new photo makes the classifier stale: identification falls back to retrieval alone.
    await runImport(catalogue, { rows: [{ where: 'new', path: join(COIL, queries[1].image_path), instanceId: 'coil-099', subcollection: null, title: null, metadata: {} }], failures: [] });
    const stale = await new Identifier(catalogue, describer).identify(query);
    expect(stale.classifier).toBe('stale');
    expect(stale.results.every((r) => r.probability === undefined)).toBe(true);
    expect(stale.ranking).toMatch(/trained before the catalogue last changed.*Train it again/);
  });

  it('refuses a query photo it cannot read, naming it', async () => {
    const bad = join(tmp.dir, 'bad.jpg');
    writeFileSync(bad, 'not a photo');
    await expect(identifier.identify([{ path: bad }])).rejects.toMatchObject({ code: 'NOT_AN_IMAGE', message: expect.stringContaining('bad.jpg') });
  });

  it('re-ranks by its pictures cut out from a plain background once field photos are learned', async () => {
    const before = await new Identifier(catalogue, describer).identify([{ path: join(COIL, queries[0].image_path) }]);
    expect(before.local).toBe(false);
    // Every picture's cells kept, as by a catalogue that had one photo an object: not taken for the plain ones.
    const photoIds = catalogue.listObjects({ limit: 100 }).objects.flatMap((o) => catalogue.objectPhotos(o.id).map((p) => p.id));
    await describePictures(catalogue, describer, photoIds);
    expect(catalogue.pictureCellMeans('inception-v3-mixed5:cells+flip').size).toBe(photoIds.length);
    mkdirSync(join(tmp.dir, 'field'));
    for (const q of queries.slice(6)) copyFileSync(join(COIL, q.image_path), join(tmp.dir, 'field', basename(q.image_path)));
    await learnFieldDomain(catalogue, describer, join(tmp.dir, 'field'));
    // Learning them described the photos' cells local evidence now needs, not the first identification.
    const cells = 'inception-v3-mixed5:cells+flip';
    expect(catalogue.pictureCellPhotos(`${cells}:cut-out`).size).toBe(36);
    const answer = await new Identifier(catalogue, describer).identify([{ path: join(COIL, queries[0].image_path) }]);
    expect(answer).toMatchObject({ postprocess: 'whiten', local: true });
    // Decided on the score and local evidence together, learned from the field photos' runner-up objects.
    const { evidence } = answer.calibration;
    expect(evidence).toMatchObject({ fieldPhotos: queries.length - 6 });
    expect(evidence!.impostorAcceptRate).toBeLessThanOrEqual(0.1);
    expect(describeCalibration(answer.calibration)).toMatch(/^Threshold learned from 30 field photos on the score and local evidence together/);
    expect(answer.results[0]!.instanceId).toBe(queries[0].instance_id);
    // The threshold shown is the score this match needed, given how much of its pictures was found.
    expect(answer.threshold).not.toBe(answer.calibration.threshold);
    expect(answer.notInCatalogue).toBe(answer.results[0]!.score < answer.threshold);
    // Kept with the catalogue: the next identifier reads it rather than identifying the field photos again.
    expect(catalogue.getArtifact(`evidence-threshold:${answer.recipe}`)!.json).toMatchObject({ threshold: evidence });
    const next = new Identifier(catalogue, describer);
    expect((await next.identify([{ path: join(COIL, queries[0].image_path) }])).calibration.evidence).toEqual(evidence);
    // A photo of something else is still answered "not in the catalogue".
    expect((await next.identify([{ path: await syntheticPhoto(join(tmp.dir, 'stranger-field.png'), 3, 128) }])).notInCatalogue).toBe(true);
    // Several photos an object: the warning about one-picture catalogues does not apply.
    expect(answer.ranking).toMatch(/^Ranked by local evidence/);
    expect(answer.ranking).not.toContain('one picture per object');
    // Each of the 36 embedded photos was checked once: COIL's are on black, so all keep their object cells, cut out, and none its centre.
    expect(catalogue.pictureCellPhotos(`${cells}:cut-out`).size).toBe(36);
    expect(catalogue.pictureCellMeans(`${cells}:cut-out`).size).toBe(36);
    expect(catalogue.pictureCellPhotos(`${cells}:centre`).size).toBe(0);
    // A classifier trained now is set aside while local evidence ranks, and the answer says so.
    const trained = new Identifier(catalogue, describer);
    await trained.trainClassifier({ epochs: 5 });
    const aside = await trained.identify([{ path: join(COIL, queries[0].image_path) }]);
    expect(aside).toMatchObject({ classifier: 'set aside', local: true });
    expect(aside.ranking).toMatch(/The instance classifier is set aside/);
    // Photos added now keep their cells as embedding describes them, from the same inference: a
    // COIL view its object cut out, a photo with no plain background its centre.
    const added = join(tmp.dir, 'added.csv');
    const view = queries.find((q) => q.instance_id === 'coil-002')!;
    writeFileSync(added, ['image_path,instance_id', `${join(COIL, view.image_path)},coil-002`,
      `${await clutter(join(tmp.dir, 'shop.png'))},coil-002`].join('\n'));
    await runImport(catalogue, planFromManifest(added));
    await embedCatalogue(catalogue, describer);
    const photos = catalogue.listObjects({ limit: 100 }).objects.reduce((n, o) => n + o.photoCount, 0);
    expect([catalogue.pictureCellPhotos(`${cells}:cut-out`).size, catalogue.pictureCellMeans(`${cells}:cut-out`).size, catalogue.pictureCellMeans(`${cells}:centre`).size])
      .toEqual([photos, photos - 1, 1]);
  });
});

describe('single-photo catalogues and the field domain', () => {
  const recipe: DescriptorRecipe = { ...DEFAULT_RECIPE, flip: false };
  /** Where the catalogue keeps its pictures' cells for this recipe (cellRecipe). */
  const CELLS = 'inception-v3-mixed5:cells';
  let tmp: ReturnType<typeof tempDir>;
  let catalogue: Catalogue;
  let describer: Describer;

  beforeAll(async () => {
    tmp = tempDir();
    for (let o = 0; o < 8; o++) await syntheticView(join(tmp.dir, 'objects', `EG${o}`, 'catalogue.png'), o * 3 + 2, 0);
    for (let f = 0; f < 24; f++) await syntheticView(join(tmp.dir, 'field', `${f}.png`), 100 + f, f % 3 + 1);
    catalogue = Catalogue.open(join(tmp.dir, 'cat.sqlite'), { create: true });
    await runImport(catalogue, planFromFolderTree(join(tmp.dir, 'objects')));
    describer = await Describer.open(recipe, { provider: 'cpu' });
    await embedCatalogue(catalogue, describer);
  });
  afterAll(async () => {
    await describer.close();
    catalogue.close();
    tmp.remove();
  });

  it('centres instead of whitening when objects have one photo each, and learns the field domain from a folder', async () => {
    // Embedding kept each picture's cells, from the same inference: identification describes none again.
    expect(catalogue.pictureCellPhotos(CELLS).size).toBe(8);
    const query = [{ path: await syntheticView(join(tmp.dir, 'query.png'), 5 * 3 + 2, 2) }];
    const before = await new Identifier(catalogue, describer).identify(query);
    // Centred, the two backbones' slices are their own descriptors: they rank as an ensemble, then by local evidence.
    expect(before).toMatchObject({ postprocess: 'centre', ensemble: true, local: true, fieldDomainPhotos: 0, calibration: { impostorsFrom: 'held-out objects', impostorScores: 8 } });
    expect(before.results.map((r) => r.rank)).toEqual(before.results.map((_, i) => i + 1));
    expect(before.results[0].instanceId).toBe('EG5');
    expect(before.results.every((r) => r.probability === undefined)).toBe(true);
    expect(before.ranking).toMatch(/^Ranked by local evidence: how much of each of the 50 closest objects' catalogue pictures is found/);
    // The verdict is weak with one picture per object, and the answer says so.
    expect(before.ranking).toMatch(/"not in the catalogue" is often said of catalogued objects too/);

    expect(await learnFieldDomain(catalogue, describer, join(tmp.dir, 'field'))).toEqual({ count: 24, failed: [] });
    const after = await new Identifier(catalogue, describer).identify(query);
    // The field photos' runner-up objects are now the impostors the threshold is learned from.
    expect(after).toMatchObject({ postprocess: 'centre', fieldDomainPhotos: 24, local: true, calibration: { impostorsFrom: 'field photos', impostorScores: 24 } });
    // And "not in the catalogue" is decided on the score and local evidence together, learned from them.
    expect(after.calibration.evidence).toMatchObject({ fieldPhotos: 24 });
    expect(after.notInCatalogue).toBe(after.results[0]!.score < after.threshold);
    // The field photos' cells are kept too (a mean and a sample): local evidence learns its space from them.
    expect(catalogue.getArtifact(`field-cells:${recipeKey(recipe)}`)).toMatchObject({ json: { photos: 24, sampled: 24 * 17 * 17 } }); // few photos: all their cells
    expect(after.results[0].instanceId).toBe('EG5');
  });

  it('describes only new pictures when the catalogue grows, keeping the cells of those already described', async () => {
    const before = catalogue.pictureCellPhotos(CELLS);
    // With its file gone, a picture described again would bring no cells; kept, it still does.
    rmSync(join(tmp.dir, 'objects', 'EG0', 'catalogue.png'));
    await runImport(catalogue, { rows: [{ where: 'new', path: await syntheticView(join(tmp.dir, 'new', 'EG8.png'), 8 * 3 + 2, 0), instanceId: 'EG8', subcollection: null, title: null, metadata: {} }], failures: [] });
    await embedCatalogue(catalogue, describer);
    const answer = await new Identifier(catalogue, describer).identify([{ path: await syntheticView(join(tmp.dir, 'query8.png'), 8 * 3 + 2, 2) }]);
    expect(answer.local).toBe(true);
    expect([...catalogue.pictureCellPhotos(CELLS)].sort((a, b) => a - b)).toEqual([...before, expect.any(Number)]);
    // Each picture's cells are read as a query needs them: the new object's are there.
    expect(catalogue.pictureCells(CELLS, [answer.results[0]!.bestPhoto.photoId]).size).toBe(1);
  });

  it('keeps the pictures described before an interruption, and describes only the rest next time', async () => {
    const other = Catalogue.open(join(tmp.dir, 'interrupted.sqlite'), { create: true });
    try {
      const rows = Array.from({ length: 24 }, (_, f) => ({ where: 'field', path: join(tmp.dir, 'field', `${f}.png`), instanceId: `F${f}`, subcollection: null, title: null, metadata: {} }));
      await runImport(other, { rows, failures: [] });
      const ids = other.listObjects({ limit: 100 }).objects.map((o) => other.objectPhotos(o.id)[0]!.id);
      const stop = new AbortController();
      // Stopped as soon as the first batch of 16 is written, as a closed window or a killed process would stop it.
      await expect(describePictures(other, describer, ids, { signal: stop.signal, onProgress: () => stop.abort() })).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(other.pictureCellPhotos(CELLS).size).toBe(16);
      const again: Progress[] = [];
      await describePictures(other, describer, ids, { onProgress: (p) => again.push(p) });
      expect(other.pictureCellPhotos(CELLS).size).toBe(24);
      expect(again.at(-1)).toMatchObject({ done: 8, total: 8 });
    } finally {
      other.close();
    }
  });

  it('describes a query\'s cells from the photo and, seen closer, from its centre (of the crop given)', async () => {
    const photo = { path: await syntheticView(join(tmp.dir, 'closer.png'), 7, 1), crop: { x: 0.5, y: 0, width: 0.5, height: 1 } };
    const { x, y, width, height } = queryCentre(photo).crop!;
    [x, y, width, height].forEach((v, i) => expect(v).toBeCloseTo([0.55, 0.1, 0.4, 0.8][i]!, 12));
    const grid = 17 * 17 * describer.cellChannels;
    const [asQuery] = await describer.describe([photo], { cells: 'query' });
    const [own, centre] = await Promise.all([photo, queryCentre(photo)].map(async (p) => (await describer.describe([p], { cells: true }))[0]));
    const cells = (d: typeof own) => ('cells' in d! ? d.cells! : new Float32Array(0));
    expect([cells(own).length, cells(asQuery).length]).toEqual([grid, 2 * grid]);
    expect(cells(asQuery)).toEqual(new Float32Array([...cells(own), ...cells(centre)]));
  });

  it('names the part a catalogue embedded before lacks, and says embedding adds only that', async () => {
    const older = Catalogue.open(join(tmp.dir, 'older.sqlite'), { create: true });
    try {
      await runImport(older, planFromFolderTree(join(tmp.dir, 'objects')));
      const photos = older.listObjects({ limit: 100 }).objects.map((o) => older.objectPhotos(o.id)[0]!.id);
      // Embedded by a recipe without the colour histogram.
      for (const part of recipe.parts.filter((p) => p.model !== 'colour-histogram')) {
        older.registerModel({ id: part.model, sha256: 'earlier' });
        older.writeEmbeddings(part.model, storageKey(part, recipe.flip), photos.map((photoId) => ({ photoId, vector: Float32Array.from({ length: 4 }, Math.random) })));
      }
      const refused = new Identifier(older, describer).identify([{ path: join(tmp.dir, 'query.png') }]);
      await expect(refused).rejects.toThrow(/has no photos embedded for colour-histogram\. Run `artefact-lens embed`/);
      await expect(refused).rejects.toMatchObject({ code: 'CATALOGUE_NOT_EMBEDDED', hint: expect.stringMatching(/embeds only what is missing/) });
    } finally {
      older.close();
    }
  });

  it('refuses a catalogue embedded with another version of a model until embedding describes it again, field photos too', async () => {
    const older = Catalogue.open(join(tmp.dir, 'other-version.sqlite'), { create: true });
    const query = [{ path: await syntheticView(join(tmp.dir, 'query-versions.png'), 5 * 3 + 2, 2) }];
    const part = recipe.parts[0]!;
    /** As an earlier installation's InceptionV3 file left the catalogue: its descriptors, and field photos learned from `folder` with it. */
    const earlier = async (folder: string) => {
      older.registerModel({ id: part.model, sha256: 'earlier' });
      older.writeEmbeddings(part.model, storageKey(part, recipe.flip), older.photosMissingEmbedding(part.model, storageKey(part, recipe.flip), 100)
        .map(({ photoId }) => ({ photoId, vector: Float32Array.from({ length: 768 }, Math.random) })));
      cpSync(join(tmp.dir, 'field'), folder, { recursive: true });
      await learnFieldDomain(older, describer, folder);
    };
    try {
      await runImport(older, planFromFolderTree(join(tmp.dir, 'objects')));
      await embedCatalogue(older, describer);
      const field = join(tmp.dir, 'field-then');
      await earlier(field);
      const refused = new Identifier(older, describer).identify(query);
      await expect(refused).rejects.toThrow(/embedded with another version of inception-v3-mixed5 than the one installed/);
      await expect(refused).rejects.toMatchObject({ code: 'CATALOGUE_NOT_EMBEDDED', hint: expect.stringMatching(/describes the photos again/) });

      expect((await embedCatalogue(older, describer)).fieldPhotos).toEqual({ folder: field, learnedAgain: true, because: 'model' });
      const again = await new Identifier(older, describer).identify(query);
      expect([again.fieldDomainPhotos, again.results[0]!.instanceId]).toEqual([24, 'EG5']);

      // Field photos whose folder is gone cannot be described again: they are forgotten, and embedding says so.
      await earlier(field);
      rmSync(field, { recursive: true });
      const summary = await embedCatalogue(older, describer);
      expect(summary.fieldPhotos).toEqual({ folder: field, learnedAgain: false, because: 'model' });
      expect(describeFieldPhotos(summary.fieldPhotos!)).toMatch(/field-then is gone: learn field photos again/);
      expect(fieldDomainStatus(older, recipe)).toBeNull();
      expect(await new Identifier(older, describer).identify(query)).toMatchObject({ fieldDomainPhotos: 0 });
    } finally {
      older.close();
    }
  });

  it('refuses a field folder without photos', async () => {
    await expect(learnFieldDomain(catalogue, describer, join(tmp.dir, 'objects', 'EG0', 'none'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });

  it('keeps field photos\' cells as a query\'s are described, each beside its own descriptor, past a photo it cannot read', async () => {
    mkdirSync(join(tmp.dir, 'field-with-bad'));
    writeFileSync(join(tmp.dir, 'field-with-bad', '0-bad.png'), 'not a photo');
    const views = await Promise.all([1, 2, 3].map((f) => syntheticView(join(tmp.dir, 'field-with-bad', `${f}.png`), 200 + f, f)));
    expect(await learnFieldDomain(catalogue, describer, join(tmp.dir, 'field-with-bad'))).toMatchObject({ count: 3, failed: [expect.stringContaining('0-bad.png')] });
    const kept = fieldQueryCells(catalogue, recipe, describer.cellChannels)!;
    expect(kept.rows).toEqual([0, 1, 2]);
    const domain = fieldDomain(catalogue, recipe)!;
    const dims = domain.vectors.length / domain.count;
    for (const [k, path] of views.entries()) {
      const [query] = await describer.describe([{ path }], { cells: 'query' });
      if (!('vector' in query!)) throw new Error(`${path} was not described`);
      expect(Array.from(domain.vectors.subarray(kept.rows[k]! * dims, (kept.rows[k]! + 1) * dims))).toEqual(Array.from(query.vector).map((v) => expect.closeTo(v, 5)));
      // Its own cells and its centre's, as a query's; kept as int8.
      expect(kept.cells[k]!.length).toBe(query.cells!.length);
      expect(dot(kept.cells[k]!, 0, query.cells!, 0, describer.cellChannels)).toBeGreaterThan(0.99);
    }
  });

  it('describes again field photos an earlier version learned without their query cells, and says so', async () => {
    const folder = join(tmp.dir, 'field-with-bad');
    // As an earlier version left them: descriptors and cells' sample, no query cells.
    const forget = () => {
      const conn = new Database(join(tmp.dir, 'cat.sqlite'));
      conn.prepare("DELETE FROM artifacts WHERE key LIKE 'field-query-cells:%'").run();
      conn.close();
    };
    forget();
    expect(queryCellsLearnedAt(catalogue, recipe)).toBeUndefined();
    const summary = await embedCatalogue(catalogue, describer);
    expect(summary.fieldPhotos).toEqual({ folder, learnedAgain: true, because: 'earlier version' });
    expect(describeFieldPhotos(summary.fieldPhotos!)).toMatch(/field-with-bad were described again: "not in the catalogue" now weighs local evidence/);
    expect(fieldQueryCells(catalogue, recipe, describer.cellChannels)!.rows).toEqual([0, 1, 2]);
    expect((await embedCatalogue(catalogue, describer)).fieldPhotos).toBeUndefined();
    // Its folder gone, the field photos stay as they were, and the user is told how to bring local evidence in.
    forget();
    rmSync(folder, { recursive: true });
    const gone = await embedCatalogue(catalogue, describer);
    expect(gone.fieldPhotos).toEqual({ folder, learnedAgain: false, because: 'earlier version' });
    expect(describeFieldPhotos(gone.fieldPhotos!)).toMatch(/learned by an earlier version, and their folder .*field-with-bad is gone: learn field photos again/);
    expect(fieldDomainStatus(catalogue, recipe)).toMatchObject({ photos: 3 });
  });
});
