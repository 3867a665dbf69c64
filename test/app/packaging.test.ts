import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { electronBinary, MISSING_BINARY } from '../../src-main/app/launch';
import { REPO } from '../helpers/files';

const run = promisify(execFile);
/** electron-builder's own YAML reader. */
const yaml = createRequire(join(REPO, 'node_modules', 'electron-builder', 'package.json'))('js-yaml') as { load(text: string): unknown };

interface BuilderConfig {
  files: string[];
  asarUnpack: string[];
  extraResources: { from: string; to: string; filter: string[] }[];
  linux: { target: string[]; files: string[] };
  win: { target: string[]; files: string[] };
  mac: { target: string[]; files: string[] };
}
const config = yaml.load(readFileSync(join(REPO, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { main: string; dependencies: Record<string, string>; scripts: Record<string, string> };

/** Every worker the engine starts (startEngineWorker(import.meta.url, 'name')): each must be built beside the app. */
function engineWorkers(): string[] {
  const sources = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  const names = sources(join(REPO, 'src-main', 'engine'))
    .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/startEngineWorker\(import\.meta\.url, '([\w-]+)'/g)].map((m) => m[1]!));
  expect(names.length).toBeGreaterThanOrEqual(3);
  return names;
}

describe('the installers', () => {
  beforeAll(async () => {
    await run('npm', ['run', '--silent', 'build:app'], { cwd: REPO });
  }, 120_000);

  it('build Linux AppImage and deb, Windows NSIS and macOS dmg', () => {
    expect([config.linux.target, config.win.target, config.mac.target]).toEqual([['AppImage', 'deb'], ['nsis'], ['dmg']]);
  });

  it('contain the built app the package names, without sources or the test bridge', () => {
    expect(pkg.main).toBe('out/app/main.js');
    for (const file of ['main.js', 'preload.cjs', 'workspace-host.js', ...engineWorkers().map((w) => `${w}.js`)]) expect(existsSync(join(REPO, 'out', 'app', file)), file).toBe(true);
    expect(config.files).toEqual(expect.arrayContaining(['out/app/**', 'dist/renderer/**']));
    expect(config.files.some((f) => f.startsWith('src-'))).toBe(false);
    const built = readdirSync(join(REPO, 'out', 'app')).filter((f) => f.endsWith('.js') || f.endsWith('.cjs'));
    for (const file of built) expect(readFileSync(join(REPO, 'out', 'app', file), 'utf8'), file).not.toContain('startBridge');
  });

  it('carry every generated model and its card as resources', () => {
    expect(config.extraResources).toEqual([{ from: 'models', to: 'models', filter: ['*.onnx', '*.json'] }]);
    const cards = readdirSync(join(REPO, 'models')).filter((f) => f.endsWith('.json'));
    expect(cards.length).toBeGreaterThan(0);
    for (const card of cards) {
      const { file } = JSON.parse(readFileSync(join(REPO, 'models', card), 'utf8')) as { file: string };
      expect(existsSync(join(REPO, 'models', file)), `${file}: run npm run models`).toBe(true);
    }
  });

  it('unpack every native module from the asar', () => {
    const natives = ['better-sqlite3', 'onnxruntime-node', 'sharp', 'usearch'];
    expect(natives.every((n) => n in pkg.dependencies)).toBe(true);
    for (const n of [...natives, '@img']) expect(config.asarUnpack, n).toContain(`node_modules/${n}/**`);
  });

  it('include only their own platform\'s onnxruntime binaries', () => {
    const platforms = readdirSync(join(REPO, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6'));
    const own = { linux: 'linux', win: 'win32', mac: 'darwin' } as const;
    for (const [target, platform] of Object.entries(own)) {
      const excluded = config[target as keyof typeof own].files;
      expect(excluded, target).toEqual(platforms.filter((p) => p !== platform).map((p) => `!node_modules/onnxruntime-node/bin/napi-v6/${p}/**`));
    }
  });
});

describe('npm start', () => {
  it.skipIf(electronBinary() !== null)('says the Electron binary is missing and how to get it (skipped where the binary exists)', async () => {
    const started = await run('npm', ['start', '--silent'], { cwd: REPO }).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(started?.code).toBe(1);
    expect(started?.stderr.trim()).toBe(MISSING_BINARY);
    expect(MISSING_BINARY).toContain('node node_modules/electron/install.js');
  });
});
