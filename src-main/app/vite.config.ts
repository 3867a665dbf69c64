import { builtinModules } from 'node:module';
import { defineConfig, type UserConfig } from 'vite';

/** Loaded by the app at run time from node_modules (native code), never bundled. */
const NATIVE = ['electron', 'better-sqlite3', 'onnxruntime-node', 'sharp', 'usearch'];
const external = [...NATIVE, ...builtinModules, /^node:/];

/**
 * The desktop app's Node side, into out/app: the main process, the engine's utility process and
 * the engine's workers (pool.ts starts ./embed-worker.js beside itself, so chunks stay flat).
 * `--mode preload` builds the preload, which a sandbox requires to be one CommonJS file.
 */
export default defineConfig(({ mode }): UserConfig => ({
  build: {
    ssr: true,
    outDir: 'out/app',
    emptyOutDir: false,
    target: 'node22',
    minify: false,
    sourcemap: true,
    rollupOptions: mode === 'preload'
      ? { input: { preload: 'src-main/app/preload.ts' }, external: ['electron'], output: { format: 'cjs', entryFileNames: '[name].cjs' } }
      : {
        input: {
          main: 'src-main/app/main.ts',
          'workspace-host': 'src-main/app/workspace-host.ts',
          'embed-worker': 'src-main/engine/inference/embed-worker.ts',
          'projection-worker': 'src-main/engine/projection/projection-worker.ts',
          'whitening-worker': 'src-main/engine/search/whitening-worker.ts',
        },
        external,
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
      },
  },
  ssr: { noExternal: true, external: NATIVE },
}));
