import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type Bridge } from '../../src-main/bridge/server';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { makePhoto, tempDir } from '../helpers/files';
import sharp from 'sharp';
import {
  buildRenderer, containsText, counts, downloaded, FAST_RECIPE, hasChromium, hoverSomePoint, launchChromium, mapPixels, paintedPixels, screenshot, visible, writeFixture, type Fixture,
} from './support';

/**
 * The built renderer in a real browser, talking to the real engine through the test bridge:
 * the whole of a curator's first session, from an empty catalogue to an identification.
 */
describe.skipIf(!hasChromium)(hasChromium ? 'the workstation in a browser' : 'the workstation in a browser: SKIPPED, /usr/bin/chromium is missing', () => {
  let tmp: ReturnType<typeof tempDir>;
  let bridge: Bridge;
  let context: BrowserContext;
  let page: Page;
  let fixture: Fixture;
  const faults: string[] = [];
  const cacheHome = process.env.XDG_CACHE_HOME;

  beforeAll(async () => {
    tmp = tempDir();
    process.env.XDG_CACHE_HOME = join(tmp.dir, 'cache'); // Evaluate caches its descriptors there.
    const rendererDir = join(tmp.dir, 'renderer');
    [fixture] = await Promise.all([writeFixture(join(tmp.dir, 'photos')), buildRenderer(rendererDir)]);
    if (fixture.synthetic) console.warn('coil100-dev is absent: the browser test runs on generated photos.');
    bridge = await startBridge({ rendererDir, workspace: { settingsDir: join(tmp.dir, 'settings'), recipe: FAST_RECIPE, workers: 1 } });
    ({ context, page } = await launchChromium(join(tmp.dir, 'profile')));
    page.on('pageerror', (e) => faults.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') faults.push(m.text()); });
    await page.goto(bridge.url);
  });

  afterAll(async () => {
    await context?.close();
    await bridge?.close();
    tmp?.remove();
    if (cacheHome === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = cacheHome;
  });

  it('asks for a catalogue before anything can be identified', async () => {
    await visible(page.getByText('Open a catalogue first'));
    await screenshot(page, '01-identify-no-catalogue');
  });

  it('explains, without a stack trace, why a catalogue cannot be opened', async () => {
    await page.getByTestId('nav-catalogue').click();
    await page.getByTestId('open-path').fill(join(tmp.dir, 'nowhere.sqlite'));
    await page.getByTestId('open').click();
    const alert = page.getByRole('alert');
    await containsText(alert, 'nowhere.sqlite does not exist');
    expect(await alert.textContent()).not.toMatch(/\bat \w+ \(|Error:/);
    await screenshot(page, '02-catalogue-start-error');
  });

  it('creates a catalogue and previews a manifest with its detected columns', async () => {
    await page.getByTestId('create-path').fill(join(tmp.dir, 'oriental-museum.sqlite'));
    await page.getByTestId('create').click();
    await containsText(page.getByTestId('catalogue-name'), 'oriental-museum');
    await page.getByTestId('import-path').fill(fixture.manifest);
    await page.getByTestId('preview').click();
    const preview = page.getByTestId('import-preview');
    await containsText(preview, `${fixture.photos + 2} photos of ${fixture.objects + 1} objects`);
    for (const role of ['photo', 'accession number', 'sub-collection', 'title', 'metadata']) await containsText(preview, role);
    await screenshot(page, '03-import-preview');
  });

  it('imports the good rows and lists the bad ones with what to do', async () => {
    await page.getByTestId('start-import').click();
    const report = page.getByTestId('import-report');
    await containsText(report, `${fixture.photos} photos added`);
    await containsText(report, '2 skipped');
    const skipped = page.getByTestId('skipped');
    await containsText(skipped, 'missing.png');
    await containsText(skipped, 'notes.jpg is not an image');
    await screenshot(page, '04-import-report');
  });

  it('embeds the photos with a progress bar, then the catalogue is ready', async () => {
    // Records every state of the progress bar: the job may finish between two screenshots.
    await page.evaluate(`window.progressSeen = [];
      new MutationObserver(() => {
        const bar = document.querySelector('[role=progressbar]');
        if (bar) window.progressSeen.push(bar.textContent);
      }).observe(document.body, { childList: true, subtree: true, characterData: true });`);
    await page.getByRole('button', { name: 'Embed the new photos' }).click();
    await page.locator('[role=progressbar]').first().waitFor({ state: 'visible', timeout: 30_000 });
    await screenshot(page, '04b-catalogue-embedding');
    await containsText(page.getByTestId('embedding-status'), `${fixture.photos} of ${fixture.photos} photos embedded`, 90_000);
    const seen = await page.evaluate<string[]>('window.progressSeen');
    expect(seen.some((t) => /\d+ \/ \d+ photos.*photos\/s/.test(t))).toBe(true);
  });

  it('learns what identification needs in the background once embedding ends, before any photo is identified', async () => {
    const stored = () => {
      const db = new Database(join(tmp.dir, 'oriental-museum.sqlite'), { readonly: true });
      try {
        return db.prepare("SELECT key FROM artifacts WHERE key LIKE 'threshold:%'").all().length;
      } finally {
        db.close();
      }
    };
    const deadline = Date.now() + 60_000;
    while (stored() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(stored()).toBe(1);
  });

  it('learns the field domain from a folder of unlabelled photos, and says which could not be read', async () => {
    const field = join(tmp.dir, 'field');
    await Promise.all([1, 2, 3].map((seed) => makePhoto(join(field, `listing-${seed}.jpg`), seed * 40, 'jpeg', 96)));
    writeFileSync(join(field, 'listing-4.jpg'), 'not a photo');
    await page.getByTestId('tab-field').click();
    await containsText(page.getByTestId('field-domain-status'), 'None learned yet');
    await page.getByTestId('field-folder').fill(field);
    await page.getByTestId('field-learn').click();
    await containsText(page.getByTestId('field-domain-status'), `Learned from 3 photos in ${field}`, 60_000);
    await containsText(page.getByTestId('field-domain-learned'), `1 could not be read: ${join(field, 'listing-4.jpg')} is not an image`);
    await screenshot(page, '04c-catalogue-field-photos');
    await page.getByRole('tab', { name: 'Objects' }).click();
  });

  it('asks for embedding again after an upgrade changed a model file, and describes the field photos again', async () => {
    // As an earlier installation's model file left the catalogue.
    const db = new Database(join(tmp.dir, 'oriental-museum.sqlite'));
    try {
      db.prepare("UPDATE models SET sha256 = 'earlier'").run();
    } finally {
      db.close();
    }
    await page.reload();
    await page.getByTestId('nav-catalogue').click();
    await containsText(page.getByTestId('embedding-status'), `0 of ${fixture.photos} photos embedded`);
    await page.getByTestId('embed').click();
    await containsText(page.getByTestId('embedding-status'), `${fixture.photos} of ${fixture.photos} photos embedded`, 90_000);
    await containsText(page.getByTestId('embed-note'), `A model changed since the field photos were learned: those of ${join(tmp.dir, 'field')} were described again.`, 60_000);
    await page.getByTestId('tab-field').click();
    await containsText(page.getByTestId('field-domain-status'), `Learned from 3 photos in ${join(tmp.dir, 'field')}`);
    await page.getByRole('tab', { name: 'Objects' }).click();
  });

  it('finds objects by accession number and shows an object with its photos', async () => {
    await page.getByTestId('search').fill(fixture.heldOut.instanceId);
    await containsText(page.getByTestId('found'), '1 object');
    await page.getByTestId('object-row').first().click();
    const object = page.getByTestId('object-page');
    await containsText(object, fixture.heldOut.instanceId);
    await counts(object.locator('.strip img'), 8);
    await page.waitForLoadState('networkidle');
    await screenshot(page, '05-catalogue-object');
  });

  it('identifies a held-out photo of a catalogued object at rank 1, with a crop box', async () => {
    await page.getByTestId('nav-identify').click();
    await page.getByTestId('photo-input').setInputFiles(fixture.heldOut.path);
    const canvas = page.locator('.crop');
    await visible(canvas);
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.05, box.y + box.height * 0.05);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.95, box.y + box.height * 0.95, { steps: 5 });
    await page.mouse.up();
    await visible(page.getByText('Only the boxed region is compared.'));
    await page.getByTestId('identify').click();
    await containsText(page.getByTestId('best-match'), `Best match: ${fixture.heldOut.instanceId}`);
    await containsText(page.getByTestId('threshold-basis'), 'Threshold learned from the catalogue\'s own photos');
    await containsText(page.getByTestId('match').first(), fixture.heldOut.instanceId);
    await visible(page.getByRole('region', { name: 'Compare' }));
    await page.waitForLoadState('networkidle');
    await screenshot(page, '06-identify-match');
  });

  it('shows where the evidence for the match lies on both photos, and exports the overlay as a PNG', async () => {
    for (const side of ['query', 'match']) await expect.poll(() => paintedPixels(page.getByTestId(`overlay-${side}`)), { timeout: 30_000 }).toBeGreaterThan(1000);
    await page.getByTestId('opacity').fill('0.6');
    const png = await downloaded(page, () => page.getByTestId('export-query').click());
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width! > 64, meta.height! > 64]).toEqual(['png', true, true]);
    await containsText(page.getByTestId('saved'), 'Downloaded');
    await page.waitForLoadState('networkidle');
    await screenshot(page, '10-compare-overlay');
    await page.getByTestId('overlay-toggle').uncheck();
    await expect.poll(() => page.getByTestId('overlay-query').isVisible()).toBe(false);
    await page.getByTestId('overlay-toggle').check();
  });

  it('maps the catalogue in Explore, with the query photo placed among its objects', async () => {
    await page.getByTestId('nav-explore').click();
    await expect.poll(() => page.getByTestId('map-canvas').getAttribute('data-points'), { timeout: 60_000 }).toBe(String(fixture.photos));
    await counts(page.getByTestId('query-mark'), 1);
    expect(await mapPixels(page)).toBeGreaterThan(1500);
    await containsText(page.getByTestId('legend'), 'Ceramics');
    await containsText(page.getByTestId('query-legend'), '3 best matches');
    await hoverSomePoint(page);
    await containsText(page.getByTestId('map-tooltip'), fixture.heldOut.instanceId.slice(0, 5));
    await page.waitForLoadState('networkidle');
    await screenshot(page, '11-explore-map');
  });

  it('selects a group with the lasso and exports its accession numbers', async () => {
    await page.getByTestId('colour-by').selectOption('object');
    await page.getByTestId('mode-lasso').click();
    const box = (await page.getByTestId('map-canvas').boundingBox())!;
    await page.mouse.move(box.x + 4, box.y + 4);
    await page.mouse.down();
    for (const [fx, fy] of [[0.99, 0.01], [0.99, 0.99], [0.01, 0.99], [0.01, 0.02]]) await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy, { steps: 4 });
    await page.mouse.up();
    await containsText(page.getByTestId('selection'), `${fixture.photos} photos of ${fixture.objects} objects`);
    const csv = (await downloaded(page, () => page.getByTestId('export-csv').click())).toString('utf8');
    expect(csv.split('\r\n')[0]).toBe('accession_number,title,sub_collection,photos_selected');
    expect(csv).toContain(`${fixture.heldOut.instanceId},`);
    await screenshot(page, '12-explore-query');
    await page.getByTestId('mode-pan').click();
    await hoverSomePoint(page);
    await page.mouse.down();
    await page.mouse.up();
    await visible(page.getByTestId('object-page'));
    await page.getByTestId('nav-identify').click();
  });

  it('explains a match thoroughly by occlusion, with progress', async () => {
    await page.getByTestId('thorough').click();
    await containsText(page.getByTestId('evidence-note'), 'Thorough map of the query', 90_000);
    expect(await paintedPixels(page.getByTestId('overlay-query'))).toBeGreaterThan(1000);
    expect(await page.getByTestId('overlay-match').isVisible()).toBe(false);
    await screenshot(page, '13-compare-thorough');
  });

  it('evaluates the manifest with the paper\'s protocol and exports the report', async () => {
    await page.getByTestId('nav-evaluate').click();
    await visible(page.getByText('No evaluation yet'));
    await containsText(page.getByTestId('evaluate-missing'), 'Choose the manifest');
    await page.getByTestId('evaluate-manifest').fill(fixture.manifest);
    await page.getByTestId('classifier-prototype').uncheck();
    expect(await page.getByTestId('model-mobilenet-v2-140').isChecked()).toBe(true); // the catalogue's own model
    await page.getByTestId('evaluate-run').click();
    const summary = page.getByTestId('table-summary');
    await counts(summary.locator('tbody tr'), 4);
    for (const n of [3, 4, 5, 6]) await containsText(summary, `≥${n} knn mobilenet-v2-140`);
    await counts(page.getByTestId('chart-line'), 4);
    await containsText(page.getByTestId('table-subcollections'), 'Ceramics');
    const html = (await downloaded(page, () => page.getByTestId('export-html').click())).toString('utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('cf. the paper\'s Table 3');
    const json = JSON.parse((await downloaded(page, () => page.getByTestId('export-json').click())).toString('utf8')) as { runs: unknown[]; dataset: { objects: number } };
    expect([json.runs.length, json.dataset.objects]).toEqual([4, fixture.objects]);
    await containsText(page.getByTestId('evaluation-saved'), 'Downloaded');
    await containsText(page.getByTestId('classifier-status'), 'Not trained');
    await page.getByTestId('classifier-train').click();
    await containsText(page.getByTestId('classifier-status'), `photos of ${fixture.objects} objects; identification uses it`, 90_000);
    await containsText(page.getByTestId('classifier-trained'), 'epochs in');
    await screenshot(page, '14-evaluate');
    await page.getByTestId('nav-identify').click();
  });

  it('says plainly when a photo shows nothing in the catalogue', async () => {
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.getByTestId('photo-input').setInputFiles(fixture.stranger);
    await page.getByTestId('identify').click();
    await containsText(page.getByTestId('not-in-catalogue'), 'Not in the catalogue');
    // The classifier trained in Evaluate now ranks the list: each object shows its probability, and the list says so.
    await containsText(page.getByTestId('ranking-basis'), 'Ranked by probability: the catalogue\'s instance classifier');
    await counts(page.getByTestId('probability'), await page.getByTestId('match').count());
    await page.waitForLoadState('networkidle');
    await screenshot(page, '07-identify-not-in-catalogue');
  });

  it('shows the model cards, the model in use and where it runs; in the dark theme too', async () => {
    await page.getByTestId('nav-models').click();
    await containsText(page.getByTestId('provider'), 'CPU');
    const inUse = page.getByTestId('model-card').filter({ hasText: 'In use' });
    await containsText(inUse, 'mobilenet-v2-140');
    await counts(inUse, 1);
    await screenshot(page, '08-models');
    while (await page.evaluate('document.documentElement.dataset.theme') !== 'dark') await page.getByTestId('theme').click();
    await page.getByTestId('nav-identify').click();
    await screenshot(page, '09-identify-dark');
    expect(faults).toEqual([]);
  });
});
