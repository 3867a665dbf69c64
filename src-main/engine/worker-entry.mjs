// Starts a TypeScript worker from the sources (tests, CLI in a checkout): registers tsx in
// this thread first, since a worker does not inherit the parent's loader. Packaged builds
// start the compiled worker directly.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
