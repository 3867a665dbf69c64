/**
 * Fits one whitening off the caller's thread: its eigen-decomposition is seconds of plain JS,
 * and a cross-fitted calibration needs several, which then run at once.
 */
import { parentPort } from 'node:worker_threads';
import type { LabelledRows } from './calibrate';
import { fitWhitening, type WhiteningFit } from './fitted-space';

export interface WhiteningRequest {
  rows: LabelledRows;
  fit: WhiteningFit;
}

export type WhiteningReply = { kind: 'done'; bytes: Uint8Array } | { kind: 'failed'; what: string };

const port = parentPort!;
port.once('message', async ({ rows, fit }: WhiteningRequest) => {
  try {
    const bytes = (await fitWhitening(rows, fit)).serialise();
    port.postMessage({ kind: 'done', bytes } satisfies WhiteningReply, [bytes.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ kind: 'failed', what: (e as Error).message } satisfies WhiteningReply);
  }
});
