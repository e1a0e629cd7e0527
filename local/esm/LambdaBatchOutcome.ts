import { FAILURE_CONDITIONS, RETRY_DELAY_MS } from './constants';
import { parseBatchItemFailures } from './parseBatchItemFailures';
import type {
  BatchAttempt,
  BatchDecision,
  BatchOutcome,
  KinesisMappingSettings,
  PendingBatch,
} from './types';

/** Options for {@link LambdaBatchOutcome}. */
export interface LambdaBatchOutcomeOptions {
  /**
   * Back-off before a failed batch (or a half of it) is invoked again, in milliseconds.
   * @default 1000
   */
  readonly retryDelayMs?: number;
}

/**
 * Lambda's decision after a Kinesis batch, as "Using Lambda with Kinesis" and "Configure partial
 * batch response" document it:
 * - success checkpoints the batch; with ReportBatchItemFailures the response is read, and a
 *   partial failure checkpoints before the lowest failed sequence number and retries from there
 *   (a retry); without the setting the response is ignored;
 * - a function error (or an invalid partial response) bisects the batch when
 *   BisectBatchOnFunctionError is on and it holds more than one record — the halves keep the
 *   retry count, a split does not use up a retry — else retries it;
 * - records older than MaximumRecordAgeInSeconds are given up on with `RecordAgeExceeded`, and a
 *   batch that failed MaximumRetryAttempts retries with `RetryAttemptsExhausted`: they go to the
 *   on-failure destination, are checkpointed, and the shard moves on.
 *
 * @example
 * ```ts
 * const outcome = new LambdaBatchOutcome(readMappingSettings(definition).settings);
 * ```
 */
export class LambdaBatchOutcome implements BatchOutcome {
  private readonly retryDelayMs: number;

  public constructor(
    private readonly settings: KinesisMappingSettings,
    options: LambdaBatchOutcomeOptions = {},
  ) {
    this.retryDelayMs = options.retryDelayMs ?? RETRY_DELAY_MS;
  }

  public decide(attempt: BatchAttempt): BatchDecision {
    const { batch, result, now } = attempt;
    const { records } = batch;
    let failedFrom = 0;
    let partial = false;
    if (result.ok) {
      if (!this.settings.reportBatchItemFailures) return this.success(batch);
      const response = parseBatchItemFailures(result.payload, records);
      if (response.kind === 'success') return this.success(batch);
      if (response.kind === 'partial') {
        failedFrom = response.failedFrom;
        partial = true;
      }
    }
    const done = records.slice(0, failedFrom);
    const failed = records.slice(failedFrom);
    const checkpoint = done.at(-1)?.sequenceNumber;
    const last = failed.at(-1);
    if (last === undefined) return this.success(batch);
    const maxAgeMs = this.settings.maximumRecordAgeInSeconds * 1000;
    // Every failed record too old: nothing left to retry (the reader drops single expired records before each invocation).
    const expired =
      this.settings.maximumRecordAgeInSeconds !== -1 &&
      now - last.approximateArrivalTimestamp > maxAgeMs;
    // A split does not use up a retry: bisect first, count retries on what can no longer be split.
    const bisect = !partial && this.settings.bisectBatchOnFunctionError && failed.length > 1;
    const exhausted =
      this.settings.maximumRetryAttempts !== -1 &&
      batch.retries >= this.settings.maximumRetryAttempts;
    if (expired || (exhausted && !bisect)) {
      return {
        checkpoint: last.sequenceNumber,
        next: [],
        discarded: {
          records: failed,
          condition: expired
            ? FAILURE_CONDITIONS.RECORD_AGE_EXCEEDED
            : FAILURE_CONDITIONS.RETRY_ATTEMPTS_EXHAUSTED,
          result,
          retries: batch.retries,
          invokeCount: batch.retries + 1,
        },
      };
    }
    const middle = Math.ceil(failed.length / 2);
    const next: PendingBatch[] = bisect
      ? [
          { records: failed.slice(0, middle), retries: batch.retries },
          { records: failed.slice(middle), retries: batch.retries },
        ]
      : [{ records: failed, retries: batch.retries + 1 }];
    return {
      ...(checkpoint !== undefined ? { checkpoint } : {}),
      next,
      delayMs: this.retryDelayMs,
    };
  }

  private success(batch: PendingBatch): BatchDecision {
    const last = batch.records.at(-1);
    return { ...(last ? { checkpoint: last.sequenceNumber } : {}), next: [] };
  }
}
