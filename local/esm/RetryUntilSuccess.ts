import { RETRY_DELAY_MS } from './constants';
import type { BatchAttempt, BatchDecision, BatchOutcome } from './types';

/**
 * The first version's batch outcome: a successful invocation checkpoints the whole batch (the
 * response is ignored, as without ReportBatchItemFailures); a function error retries the same
 * batch after a back-off, until it succeeds — Lambda's behaviour with MaximumRetryAttempts -1,
 * no bisect and no record age limit.
 */
export class RetryUntilSuccess implements BatchOutcome {
  /**
   * @param delayMs back-off before each retry, in milliseconds
   * @default 1000
   */
  public constructor(private readonly delayMs: number = RETRY_DELAY_MS) {}

  public decide(attempt: BatchAttempt): BatchDecision {
    const { batch, result } = attempt;
    if (result.ok) {
      const last = batch.records.at(-1);
      return { ...(last ? { checkpoint: last.sequenceNumber } : {}), next: [] };
    }
    return {
      next: [{ records: batch.records, retries: batch.retries + 1 }],
      delayMs: this.delayMs,
    };
  }
}
