/** What every long job reports: the app shows it as a bar, the CLI as a line. */
export interface Progress {
  phase: string;
  done: number;
  total: number;
  /** Items per second since the job started. */
  perSecond: number;
  /** Seconds left at that rate; null until there is a rate. */
  etaSeconds: number | null;
}

export type ProgressListener = (p: Progress) => void;

export class ProgressMeter {
  private readonly started = performance.now();
  private done = 0;

  constructor(private readonly total: number, private readonly listener: ProgressListener = () => {}, private phase = '') {}

  advance(count: number, phase = this.phase): Progress {
    this.done += count;
    this.phase = phase;
    const seconds = (performance.now() - this.started) / 1000;
    const perSecond = seconds > 0 ? this.done / seconds : 0;
    const p: Progress = {
      phase,
      done: this.done,
      total: this.total,
      perSecond,
      etaSeconds: perSecond > 0 ? (this.total - this.done) / perSecond : null,
    };
    this.listener(p);
    return p;
  }
}
