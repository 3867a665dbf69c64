import type { CallArgs, CallName, CallResult, ErrorData, EventMessage, EventName, Events, LensTransport, PhotoKind, PhotoSize } from '../../src-main/contract';
import { bridgeTransport } from './bridge';

/** An error the engine answered with: what happened and what to do. */
export class LensError extends Error {
  constructor(readonly data: ErrorData) {
    super(data.what);
  }
}

let chosen: LensTransport | undefined;

/** The desktop app's preload when there is one, else the test bridge that served this page. */
function transport(): LensTransport {
  chosen ??= window.lens ?? bridgeTransport();
  return chosen;
}

export async function call<K extends CallName>(name: K, args: CallArgs<K>): Promise<CallResult<K>> {
  const answer = await transport().call(name, args);
  if (!answer.ok) throw new LensError(answer.error);
  return answer.value as CallResult<K>;
}

export function on<K extends EventName>(name: K, listener: (payload: Events[K]) => void): () => void {
  return transport().on((m: EventMessage) => {
    if (m.name === name) listener(m.payload as Events[K]);
  });
}

export function photoUrl(kind: PhotoKind, id: number | string, size: PhotoSize = 'thumb'): string {
  return transport().photoUrl(kind, id, size);
}

export function hasDialogs(): boolean {
  return transport().hasDialogs;
}

export function pathForFile(file: File): string | null {
  return transport().pathForFile?.(file) ?? null;
}

/** Anything thrown, as something a curator can read. */
export function errorData(e: unknown): ErrorData {
  if (e instanceof LensError) return e.data;
  return {
    code: 'INTERNAL',
    what: 'Artefact Lens could not reach its engine.',
    hint: 'Restart the app. If it keeps happening, report what you were doing.',
  };
}
