#!/usr/bin/env node
// Runs the TypeScript sources directly: the command line ships with the app, not as a build.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
