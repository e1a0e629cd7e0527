import { startEngines } from '#local/engines/index';
import type { RunningEngines, StartEnginesOptions } from '#local/engines/types';

/** Time for beforeAll/afterAll to start or stop both engines on a busy machine. */
const ENGINE_HOOK_TIMEOUT_MS = 180_000;

/**
 * Starts the embedded engines once for the enclosing jest suite (beforeAll) and stops them after
 * it (afterAll, which jest runs even when tests or beforeAll failed). Call the returned function
 * inside tests or hooks, not at module level.
 *
 * @example
 * ```ts
 * const engines = useEngines();
 * it('writes', async () => {
 *   const { kinesis } = localClients(engines().endpoints);
 * });
 * ```
 */
export function useEngines(options: StartEnginesOptions = {}): () => RunningEngines {
  let engines: RunningEngines | undefined;
  beforeAll(async () => {
    engines = await startEngines(options);
  }, ENGINE_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await engines?.stop();
  }, ENGINE_HOOK_TIMEOUT_MS);
  return () => {
    if (engines === undefined) {
      throw new Error(
        'useEngines(): engines are not running; use the getter inside a test or hook',
      );
    }
    return engines;
  };
}
