/**
 * Frame time of the Explore view's map with 100,000 points: the built renderer in headless
 * chromium, served by the test bridge, with map.get answered by a synthetic map (so no
 * catalogue of 100,000 photos is needed). The map is dragged for about 3 s, one step a frame;
 * frame times come from requestAnimationFrame timestamps. Run: npm run bench:explore [-- points].
 */
import { join } from 'node:path';
import type { CatalogueInfo, CatalogueMapData, Envelope } from '../../src-main/contract';
import { encode } from '../../src-main/bridge/codec';
import { startBridge } from '../../src-main/bridge/server';
import { mulberry32 } from '../../src-main/engine/random';
import { buildRenderer, hasChromium, launchChromium } from '../e2e/support';
import { tempDir } from '../helpers/files';

const POINTS = Number(process.argv[2] ?? 100_000);
const OBJECTS = Math.ceil(POINTS / 10);
const SUBCOLLECTIONS = ['Ceramics', 'Metalwork', 'Textiles', 'Jade', 'Lacquer', 'Paintings', 'Bronzes', null];
const DRAG_MS = 3000;

/** Objects of 10 photos in tight clusters, scattered over 40 loose groups: a catalogue's shape. */
function syntheticMap(): CatalogueMapData {
  const random = mulberry32(7);
  const gaussian = () => Math.sqrt(-2 * Math.log(random() || 1e-9)) * Math.cos(2 * Math.PI * random());
  const groups = Array.from({ length: 40 }, () => [gaussian() * 30, gaussian() * 30]);
  const centres = Array.from({ length: OBJECTS }, (_, o) => groups[o % 40].map((g) => g + gaussian() * 4));
  const points = new Float32Array(POINTS * 2);
  const objectOf = Int32Array.from({ length: POINTS }, (_, i) => Math.floor(i / 10));
  objectOf.forEach((o, i) => points.set([centres[o][0] + gaussian() * 0.4, centres[o][1] + gaussian() * 0.4], 2 * i));
  const objects = Array.from({ length: OBJECTS }, (_, o) => ({ id: o + 1, instanceId: `SYN.${o + 1}`, title: null, subcollection: o % SUBCOLLECTIONS.length }));
  return { method: 'umap', points, photoIds: Int32Array.from({ length: POINTS }, (_, i) => i + 1), objectOf, objects, subcollections: SUBCOLLECTIONS };
}

const catalogue: CatalogueInfo = {
  path: '/synthetic.sqlite', name: 'synthetic', objects: OBJECTS, photos: POINTS, subcollections: [],
  embedding: { models: ['synthetic'], embedded: POINTS, missing: 0 }, classifier: null, fieldDomain: null,
};

/** Drags the map in a circle, one pointer move a frame, and returns the frame intervals (ms). */
const DRAG_IN_PAGE = `(async () => {
  const canvas = document.querySelector('[data-testid=map-canvas]');
  const box = canvas.getBoundingClientRect();
  const [cx, cy] = [box.left + box.width / 2, box.top + box.height / 2];
  const at = (t) => ({ clientX: cx + 120 * Math.cos(t / 400), clientY: cy + 120 * Math.sin(t / 400), bubbles: true, button: 0, buttons: 1 });
  canvas.dispatchEvent(new PointerEvent('pointerdown', at(0)));
  const stamps = [];
  await new Promise((done) => {
    const step = (now) => {
      stamps.push(now);
      window.dispatchEvent(new PointerEvent('pointermove', at(now - stamps[0])));
      if (now - stamps[0] < ${DRAG_MS}) requestAnimationFrame(step); else done();
    };
    requestAnimationFrame(step);
  });
  window.dispatchEvent(new PointerEvent('pointerup', at(0)));
  return stamps.slice(1).map((t, i) => t - stamps[i]);
})()`;

const GL_RENDERER = `(() => {
  const gl = document.createElement('canvas').getContext('webgl2');
  const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
  return gl ? (info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : 'WebGL2') : 'no WebGL2';
})()`;

async function main(): Promise<void> {
  if (!hasChromium) throw new Error('/usr/bin/chromium is missing.');
  const tmp = tempDir();
  const rendererDir = join(tmp.dir, 'renderer');
  await buildRenderer(rendererDir);
  const bridge = await startBridge({ rendererDir, workspace: { settingsDir: join(tmp.dir, 'settings') } });
  const { context, page } = await launchChromium(join(tmp.dir, 'profile'));
  try {
    const answers: Record<string, unknown> = { 'catalogue.current': catalogue, 'map.get': syntheticMap() };
    for (const [call, value] of Object.entries(answers)) {
      const body = encode({ ok: true, value } satisfies Envelope<unknown>);
      await page.route(`**/call/${call}`, (route) => route.fulfill({ status: 200, contentType: 'application/json', body }));
    }
    await page.goto(bridge.url);
    await page.getByTestId('nav-explore').click();
    await page.waitForFunction(`document.querySelector('[data-testid=map-canvas]')?.dataset.points === '${POINTS}'`, undefined, { timeout: 60_000 });
    const renderer = await page.evaluate<string>(GL_RENDERER);
    const raw = await page.evaluate<number[]>(DRAG_IN_PAGE);
    const frames = raw.slice().sort((a, b) => a - b);
    const median = frames[Math.floor(frames.length / 2)];
    const p95 = frames[Math.floor(frames.length * 0.95)];
    console.log(`WebGL: ${renderer}${/SwiftShader/i.test(renderer) ? ' (software fallback: no GPU in headless chromium)' : ''}`);
    const lastDrawn = await page.getByTestId('map-canvas').getAttribute('data-points');
    console.log(`${POINTS.toLocaleString()} points, ${frames.length} frames dragged in ${DRAG_MS / 1000} s (${(1000 * frames.length / raw.reduce((a, b) => a + b, 0)).toFixed(1)} fps overall); last frame in motion drew ${Number(lastDrawn).toLocaleString()} points`);
    console.log(`median frame ${median.toFixed(1)} ms (${(1000 / median).toFixed(1)} fps), 95th percentile ${p95.toFixed(1)} ms; target ≥ 30 fps: ${1000 / median >= 30 ? 'met' : 'NOT met'}`);
  } finally {
    await context.close();
    await bridge.close();
    tmp.remove();
  }
}

await main();
