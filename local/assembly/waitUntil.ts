import { setTimeout as sleep } from 'node:timers/promises';
import { ACTIVE_POLL_INTERVAL_MS, ACTIVE_TIMEOUT_MS } from './constants';

/**
 * Polls `probe` until it returns true, or throws `onTimeout()` once the deadline passes.
 * @internal
 */
export async function waitUntil(
  probe: () => Promise<boolean>,
  onTimeout: () => Error,
  timeoutMs: number = ACTIVE_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw onTimeout();
    await sleep(ACTIVE_POLL_INTERVAL_MS);
  }
}
