import { checkCall, type CallArgs, type CallName, type CallResult, type Envelope, type ErrorData } from '../../contract';
import { isUserError, UserError } from '../errors';

/** What answers each call of the contract. */
export type Handlers = { [K in CallName]: (args: CallArgs<K>) => Promise<CallResult<K>> | CallResult<K> };

/** The workspace answers everything but the native file dialogs, which only the desktop app has. */
export type WorkspaceHandlers = Omit<Handlers, 'dialog.open' | 'dialog.save'>;

/** An error as the window may see it: a UserError's data, or a sentence in place of anything else. */
export function toErrorData(e: unknown): ErrorData {
  if (isUserError(e)) return e.toData();
  // A fault, not something the person caused: the stack goes to the log, never to the window.
  console.error(e);
  return {
    code: 'INTERNAL',
    what: 'Artefact Lens ran into a fault it did not expect; nothing was changed by the step that failed.',
    hint: 'Try again. If it keeps happening, restart the app and report what you were doing.',
  };
}

/** Checks a call from any transport, runs it, and wraps its answer or error for the trip back. */
export async function dispatch(handlers: Partial<Handlers>, name: unknown, args: unknown): Promise<Envelope<unknown>> {
  try {
    const call = checkCall(name, args);
    const handler = handlers[call.name] as ((a: unknown) => unknown) | undefined;
    if (!handler) {
      throw new UserError('INVALID_ARGUMENT', 'Choosing files from a dialog is only possible in the desktop app.',
        call.name === 'dialog.save' ? 'Download the file from the window instead.' : 'Type the path of the file or folder instead.');
    }
    return { ok: true, value: await handler(call.args) };
  } catch (e) {
    return { ok: false, error: toErrorData(e) };
  }
}
