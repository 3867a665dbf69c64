/// <reference types="vite/client" />
import type { LensTransport } from '../src-main/contract';

declare global {
  interface Window {
    /** Present in the desktop app: the preload's bridge to the main process. */
    lens?: LensTransport;
  }
}
