import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from './types';

/** The real clock: `Date.now()` and abortable timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    if (signal?.aborted) return;
    try {
      await delay(ms, undefined, signal ? { signal } : {});
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  },
};
