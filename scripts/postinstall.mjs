// Runs after `npm install` / `npm ci`: fetches Electron's binary where the network allows,
// then builds the ONNX models from the installed packages (offline, deterministic).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// package.json's allowScripts keeps electron's own install script from failing an offline
// install; we run it here instead and let it fail softly, since only `npm start` needs it.
const electronInstaller = 'node_modules/electron/install.js';
if (existsSync(electronInstaller) && !process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  const result = spawnSync(process.execPath, [electronInstaller], { stdio: ['ignore', 'inherit', 'pipe'], timeout: 600_000 });
  if (result.status !== 0) {
    console.warn('artefact-lens: Electron\'s binary could not be downloaded (no network?). Everything but the desktop ' +
      'window works; to open it later, run `node node_modules/electron/install.js` on a connected machine.');
  }
}

const models = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-models.ts'], { stdio: 'inherit' });
process.exit(models.status ?? 1);
