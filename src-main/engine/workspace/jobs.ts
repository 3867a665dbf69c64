import type { EventMessage, JobFinished, JobKind, JobProgress } from '../../contract';
import { UserError } from '../errors';
import type { Progress } from '../jobs/progress';
import { toErrorData } from './dispatch';

export type Emit = (message: EventMessage) => void;

/** Progress events at most this often: a bar does not need more, and the window stays calm. */
const PROGRESS_INTERVAL_MS = 100;

type Work<S> = (signal: AbortSignal, report: (p: Progress) => void) => Promise<S>;
type SummaryOf<K extends JobKind> = Extract<JobFinished, { kind: K; summary: unknown }>['summary'];

/** Numbers jobs across runners, so job.cancel names one job whichever runner has it. */
export interface JobIds {
  next: number;
}

/** How messages name the jobs that write to the catalogue: as what keeps it busy, and as what cannot start. */
const WORDING: Partial<Record<JobKind, { busy: string; start: string }>> = {
  import: { busy: 'an import', start: 'start an import' },
  embed: { busy: 'embedding photos', start: 'start embedding' },
  train: { busy: 'training its classifier', start: 'train the classifier' },
  domain: { busy: 'learning the field domain', start: 'learn the field domain' },
};

/**
 * One long job at a time of a kind of work (writing to the catalogue: an import, an
 * embedding, training the classifier, learning the field domain; or an explanation; or a map): it streams progress events, can be cancelled,
 * and announces how it ended.
 */
export class JobRunner {
  private running?: { id: number; kind: JobKind; controller: AbortController; done: Promise<void> };

  constructor(private readonly emit: Emit, private readonly ids: JobIds = { next: 1 }) {}

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Refuses what cannot happen while a job writes to the catalogue. */
  assertIdle(doing: string): void {
    if (!this.running) return;
    const busy = WORDING[this.running.kind]?.busy ?? this.running.kind;
    throw new UserError('CATALOGUE_LOCKED', `The catalogue is busy with ${busy}, so it cannot ${doing} now.`,
      'Wait for it to finish, or cancel it, then try again.');
  }

  /** Refuses a job of `kind` while another one runs: callers check before slow preparations. */
  assertCanStart(kind: JobKind): void {
    this.assertIdle(WORDING[kind]?.start ?? `start ${kind}`);
  }

  start<K extends JobKind>(kind: K, work: Work<SummaryOf<K>>, after: () => void = () => {}): number {
    this.assertCanStart(kind);
    const id = this.ids.next++;
    const controller = new AbortController();
    let shown = 0;
    const report = (p: Progress) => {
      if (Date.now() - shown < PROGRESS_INTERVAL_MS && p.done < p.total) return;
      shown = Date.now();
      this.emit({ name: 'job.progress', payload: { jobId: id, kind, ...p } satisfies JobProgress });
    };
    const done = work(controller.signal, report).then(
      (summary) => ({ jobId: id, kind, summary }) as JobFinished,
      (e: unknown) => ({ jobId: id, kind, error: toErrorData(e) }) as JobFinished,
    ).then((finished) => {
      this.running = undefined;
      after();
      this.emit({ name: 'job.finished', payload: finished });
    });
    this.running = { id, kind, controller, done };
    return id;
  }

  /** Starts a job in place of the one running, which is cancelled: a newer request makes it moot. */
  async replace<K extends JobKind>(kind: K, work: Work<SummaryOf<K>>): Promise<number> {
    while (this.running) await this.stop(); // Of two requests at once, the later one runs.
    return this.start(kind, work);
  }

  cancel(jobId: number): void {
    if (this.running?.id === jobId) this.running.controller.abort();
  }

  /** Cancels what runs and waits until it has stopped writing. */
  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.controller.abort();
    await running.done;
  }
}
