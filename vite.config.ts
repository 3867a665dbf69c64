import vue from '@vitejs/plugin-vue';
import { defineConfig, type Plugin } from 'vite';
import { CONTENT_SECURITY_POLICY } from './src-main/contract';

/** Writes the one Content-Security-Policy of the contract into index.html. */
const csp: Plugin = {
  name: 'lens-csp',
  transformIndexHtml: (html) => html.replace('%LENS_CSP%', CONTENT_SECURITY_POLICY),
};

/** The renderer (Vue app): built once, loaded by the desktop app and served by the test bridge alike. */
export default defineConfig({
  root: 'src-renderer',
  base: './',
  plugins: [vue(), csp],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    // One stylesheet and no inline code: the policy allows only the app's own files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'chrome120',
  },
});
