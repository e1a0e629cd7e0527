import { setTimeout as delay } from 'node:timers/promises';
import { ENGINE_READY_POLL_MS } from './constants';
import type { EngineProcess } from './EngineProcess';
import { EngineExitedError, EnginePortInUseError, EngineStartTimeoutError } from './errors';

/** Time for the last log lines of an engine that just exited to arrive. */
const LAST_WORDS_MS = 200;

/**
 * Calls `probe` until it resolves: the engine answers real requests.
 *
 * @throws EnginePortInUseError when the engine reports that its port is taken (exited or not)
 * @throws EngineExitedError when the engine exits first for another reason
 * @throws EngineStartTimeoutError when it does not answer within `timeoutMs`
 */
export async function waitUntilReady(
  engine: EngineProcess,
  probe: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (!engine.running) {
      const exit = await engine.exited;
      await delay(LAST_WORDS_MS);
      // The fronts exit when their port is taken: that is worth another start with other ports.
      if (engine.portInUse) throw new EnginePortInUseError(engine.engine, engine.logTail);
      throw new EngineExitedError(engine.engine, exit, engine.logTail);
    }
    if (engine.portInUse) throw new EnginePortInUseError(engine.engine, engine.logTail);
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new EngineStartTimeoutError(engine.engine, timeoutMs, engine.logTail, lastError);
    }
    await Promise.race([delay(ENGINE_READY_POLL_MS), engine.exited]);
  }
}
