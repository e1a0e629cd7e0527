import { LambdaBatchOutcome } from '#local/esm/LambdaBatchOutcome';
import { readMappingSettings } from '#local/esm/readMappingSettings';
import type { PendingBatch, StreamRecord } from '#local/esm/types';
import type { InvocationResult } from '#local/lambda/types';

const NOW = Date.parse('2026-11-26T10:00:00.000Z');

function outcome(properties: Record<string, unknown>): LambdaBatchOutcome {
  const { settings } = readMappingSettings({
    uuid: 'm-1',
    functionName: 'fn',
    eventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
    properties,
  });
  return new LambdaBatchOutcome(settings, { retryDelayMs: 5 });
}

function records(count: number, ageMs = 1000): StreamRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    shardId: 'shardId-000000000000',
    sequenceNumber: `${100 + i}`,
    partitionKey: 'pk',
    data: Buffer.from(`${i}`),
    approximateArrivalTimestamp: NOW - ageMs,
  }));
}

const failed: InvocationResult = {
  ok: false,
  requestId: 'r',
  error: { errorType: 'Error', errorMessage: 'boom' },
  durationMs: 1,
};
const succeeded = (payload: unknown): InvocationResult => ({
  ok: true,
  requestId: 'r',
  payload,
  durationMs: 1,
});

function decide(target: LambdaBatchOutcome, batch: PendingBatch, result: InvocationResult) {
  return target.decide({ mappingId: 'm-1', shardId: 's', batch, result, now: NOW });
}

const sequences = (batch: PendingBatch | undefined) =>
  batch?.records.map((record) => record.sequenceNumber);

describe('LambdaBatchOutcome', () => {
  it('checkpoints the whole batch on success and ignores the response without ReportBatchItemFailures', () => {
    // WHEN
    const decision = decide(
      outcome({}),
      { records: records(3), retries: 0 },
      succeeded({ batchItemFailures: [{ itemIdentifier: '101' }] }),
    );

    // THEN
    expect(decision).toEqual({ checkpoint: '102', next: [] });
  });

  it('checkpoints before the lowest failed sequence number and retries from there', () => {
    // WHEN
    const decision = decide(
      outcome({ FunctionResponseTypes: ['ReportBatchItemFailures'] }),
      { records: records(4), retries: 0 },
      succeeded({ batchItemFailures: [{ itemIdentifier: '103' }, { itemIdentifier: '101' }] }),
    );

    // THEN
    expect(decision.checkpoint).toBe('100');
    expect(decision.next.map(sequences)).toEqual([['101', '102', '103']]);
    expect(decision.next[0]?.retries).toBe(1);
  });

  it('fails the whole batch on an itemIdentifier not in the batch', () => {
    // WHEN
    const decision = decide(
      outcome({ FunctionResponseTypes: ['ReportBatchItemFailures'] }),
      { records: records(2), retries: 0 },
      succeeded({ batchItemFailures: [{ itemIdentifier: '999' }] }),
    );

    // THEN
    expect(decision.checkpoint).toBeUndefined();
    expect(decision.next.map(sequences)).toEqual([['100', '101']]);
  });

  it('bisects a failed batch without using up a retry', () => {
    // WHEN
    const decision = decide(
      outcome({ BisectBatchOnFunctionError: true, MaximumRetryAttempts: 0 }),
      { records: records(5), retries: 0 },
      failed,
    );

    // THEN
    expect(decision.next.map(sequences)).toEqual([
      ['100', '101', '102'],
      ['103', '104'],
    ]);
    expect(decision.next.map((batch) => batch.retries)).toEqual([0, 0]);
  });

  it('discards with RetryAttemptsExhausted once MaximumRetryAttempts retries failed', () => {
    // WHEN
    const decision = decide(
      outcome({ MaximumRetryAttempts: 2 }),
      { records: records(2), retries: 2 },
      failed,
    );

    // THEN
    expect(decision).toMatchObject({
      checkpoint: '101',
      next: [],
      discarded: { condition: 'RetryAttemptsExhausted', invokeCount: 3, retries: 2 },
    });
  });

  it('discards with RecordAgeExceeded when the failed records are older than MaximumRecordAgeInSeconds', () => {
    // WHEN
    const decision = decide(
      outcome({ MaximumRecordAgeInSeconds: 60 }),
      { records: records(2, 61_000), retries: 0 },
      failed,
    );

    // THEN
    expect(decision.discarded?.condition).toBe('RecordAgeExceeded');
  });

  it('retries until success with MaximumRetryAttempts -1', () => {
    // WHEN
    const decision = decide(outcome({}), { records: records(1), retries: 500 }, failed);

    // THEN
    expect(decision.next.map((batch) => batch.retries)).toEqual([501]);
    expect(decision.delayMs).toBe(5);
  });
});
