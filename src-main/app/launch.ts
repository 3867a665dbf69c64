/**
 * `npm start`: builds the app and opens it in Electron. Where the Electron binary was never
 * downloaded (an offline install), it says so and how to get it, instead of a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

/** The path of the Electron binary, or null when node_modules/electron has none. */
export function electronBinary(): string | null {
  try {
    return createRequire(import.meta.url)('electron') as string;
  } catch {
    return null; // node_modules/electron/index.js throws when its download never happened.
  }
}

export const MISSING_BINARY = [
  'Artefact Lens cannot start: the Electron binary is missing (node_modules/electron/dist was never downloaded).',
  'On a machine connected to the internet, run:  node node_modules/electron/install.js',
  'then run npm start again. The browser tests (npm test) work without it.',
].join('\n');

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const binary = electronBinary();
  if (!binary) {
    console.error(MISSING_BINARY);
    process.exit(1);
  }
  run('npm', ['run', 'build']);
  run(binary, ['.']);
}
