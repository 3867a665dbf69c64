import { onBeforeUnmount, ref } from 'vue';
import type { DomainSummary, EvaluationSummary, JobFinished, JobProgress, MapSummary, OcclusionSummary, TrainSummary } from '../../src-main/contract';
import { LensError, call, on } from './client';

const KEEP_ENDED = 8;
interface Summaries {
  occlusion: OcclusionSummary;
  map: MapSummary;
  evaluation: EvaluationSummary;
  train: TrainSummary;
  domain: DomainSummary;
}
type ReadingKind = keyof Summaries;

/**
 * A view's own long job (an explanation, a map, an evaluation, training the classifier, the field domain): its progress while it runs, its summary
 * when it ends, and cancel. One at a time: starting again supersedes the one running.
 */
export function useJob<K extends ReadingKind>(kind: K) {
  const progress = ref<JobProgress | null>(null);
  const running = ref<number | null>(null);
  // A quick job (a stored map) can end before the call that started it answers: keep the last few endings.
  const ended = new Map<number, JobFinished>();
  const waiting = new Map<number, (f: JobFinished) => void>();
  const stops = [
    on('job.progress', (p) => { if (p.jobId === running.value) progress.value = p; }),
    on('job.finished', (f) => {
      if (f.kind !== kind) return;
      const waiter = waiting.get(f.jobId);
      if (waiter) return waiter(f);
      ended.set(f.jobId, f);
      if (ended.size > KEEP_ENDED) ended.delete(ended.keys().next().value!);
    }),
  ];
  onBeforeUnmount(() => stops.forEach((stop) => stop()));

  /** Runs the job `start` starts: its summary; null if it was cancelled or superseded; a LensError if it failed. */
  async function run(start: () => Promise<{ jobId: number }>): Promise<Summaries[K] | null> {
    const { jobId } = await start();
    running.value = jobId;
    const finished = ended.get(jobId) ?? await new Promise<JobFinished>((resolve) => waiting.set(jobId, resolve));
    ended.delete(jobId);
    waiting.delete(jobId);
    if (running.value === jobId) [running.value, progress.value] = [null, null];
    if ('error' in finished) {
      if (finished.error.code === 'CANCELLED') return null;
      throw new LensError(finished.error);
    }
    const { summary } = finished as { summary: unknown }; // The kind was checked when the event came.
    return summary as Summaries[K];
  }

  async function cancel(): Promise<void> {
    if (running.value !== null) await call('job.cancel', { jobId: running.value });
  }

  return { progress, running, run, cancel };
}
