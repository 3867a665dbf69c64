import { utilityProcess, type UtilityProcess } from 'electron';
import type { Envelope, EventMessage, PhotoRequest } from '../contract';
import type { HostMessage, HostOptions, HostRequest } from './host-protocol';

type Pending = (answer: Envelope<unknown> | Uint8Array | null) => void;

const STOPPED: Envelope<never> = {
  ok: false,
  error: { code: 'INTERNAL', what: 'The engine stopped unexpectedly; the step in progress did not finish.', hint: 'Try again: the engine restarts by itself. Work committed before is kept.' },
};

/** The main process's handle on the engine's utility process; restarts it if it dies. */
export class WorkspaceHost {
  private child?: UtilityProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly entry: string, private readonly options: HostOptions, private readonly onEvent: (m: EventMessage) => void) {}

  call(name: string, args: unknown): Promise<Envelope<unknown>> {
    return this.send({ id: this.nextId++, kind: 'call', name, args }) as Promise<Envelope<unknown>>;
  }

  async photo(request: PhotoRequest): Promise<Uint8Array | null> {
    const answer = await this.send({ id: this.nextId++, kind: 'photo', request });
    return answer instanceof Uint8Array ? answer : null;
  }

  stop(): void {
    this.child?.kill();
  }

  private send(request: HostRequest): Promise<Envelope<unknown> | Uint8Array | null> {
    return new Promise((resolve) => {
      this.pending.set(request.id, resolve);
      this.process().postMessage(request);
    });
  }

  private process(): UtilityProcess {
    if (this.child) return this.child;
    const child = utilityProcess.fork(this.entry, [JSON.stringify(this.options)], { serviceName: 'Artefact Lens engine', stdio: 'inherit' });
    child.on('message', (message: HostMessage) => {
      if (message.kind === 'event') return this.onEvent(message.event);
      this.pending.get(message.id)?.(message.answer);
      this.pending.delete(message.id);
    });
    child.on('exit', () => {
      this.child = undefined;
      for (const resolve of this.pending.values()) resolve(STOPPED); // A photo request reads it as no photo.
      this.pending.clear();
    });
    this.child = child;
    return child;
  }
}
