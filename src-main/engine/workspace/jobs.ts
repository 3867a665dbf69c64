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

/**
 * One long job at a time of a kind of work (writing to the catalogue: an import or an
 * embedding; or an explanation; or a map): it streams progress events, can be cancelled,
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
    const busy = { import: 'an import', embed: 'embedding photos', train: 'training its classifier', domain: 'learning the field domain' }[this.running.kind as string] ?? this.running.kind;
    throw new UserError('CATALOGUE_LOCKED', `The catalogue is busy with ${busy}, so it cannot ${doing} now.`,
      'Wait for it to finish, or cancel it, then try again.');
  }

  start<K extends JobKind>(kind: K, work: Work<SummaryOf<K>>, after: () => void = () => {}): number {
    this.assertIdle({ import: 'start an import', embed: 'start embedding', train: 'train the classifier', domain: 'learn the field domain' }[kind as string] ?? `start ${kind}`);
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
