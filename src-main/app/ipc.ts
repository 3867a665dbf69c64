import type { BrowserWindow, IpcMainInvokeEvent } from 'electron';
import { checkCall, type Envelope } from '../contract';
import { toErrorData } from '../engine/workspace/dispatch';
import { APP_ORIGIN } from './security';

export interface CallRoutes {
  /** Calls the main process answers itself (the native dialogs). */
  local(name: string, args: unknown, window: BrowserWindow | null): Promise<unknown> | undefined;
  /** Everything else goes to the engine's process. */
  engine(name: string, args: unknown): Promise<Envelope<unknown>>;
}

/**
 * One window call: from the app's own page only, checked against the contract before it goes
 * anywhere, and answered as an envelope (an error crosses as {code, what, hint}, never a stack).
 */
export async function handleCall(event: Pick<IpcMainInvokeEvent, 'senderFrame'>, window: BrowserWindow | null, routes: CallRoutes,
  name: unknown, args: unknown): Promise<Envelope<unknown>> {
  try {
    if (!event.senderFrame?.url.startsWith(`${APP_ORIGIN}/`)) throw new Error(`a call from ${event.senderFrame?.url ?? 'a closed frame'}`);
    const call = checkCall(name, args);
    const local = routes.local(call.name, call.args, window);
    return local ? { ok: true, value: await local } : await routes.engine(call.name, call.args);
  } catch (e) {
    return { ok: false, error: toErrorData(e) };
  }
}
