import { ref } from 'vue';
import type { ErrorData } from '../../src-main/contract';
import { errorData } from './client';

/** Runs a step of a view, keeping whether it is busy and the error to show if it failed. */
export function useAttempt() {
  const error = ref<ErrorData | null>(null);
  const busy = ref(false);
  async function attempt(work: () => Promise<unknown>): Promise<void> {
    error.value = null;
    busy.value = true;
    try {
      await work();
    } catch (e) {
      error.value = errorData(e);
    } finally {
      busy.value = false;
    }
  }
  return { error, busy, attempt };
}
