import { RetryUntilSuccess } from '#local/esm/RetryUntilSuccess';
import type { StreamRecord } from '#local/esm/types';

const record = (sequenceNumber: string): StreamRecord => ({
  shardId: 'shardId-000000000000',
  sequenceNumber,
  partitionKey: 'k',
  data: new Uint8Array(),
  approximateArrivalTimestamp: 0,
});

describe('RetryUntilSuccess', () => {
  const records = [record('1'), record('2')];

  it('checkpoints the last record of a successful batch and ignores the response', () => {
    // WHEN
    const decision = new RetryUntilSuccess().decide({
      mappingId: 'm',
      shardId: 's',
      batch: { records, retries: 3 },
      result: {
        ok: true,
        requestId: 'r',
        payload: { batchItemFailures: [{ itemIdentifier: '1' }] },
        durationMs: 1,
      },
      now: 0,
    });

    // THEN
    expect(decision).toEqual({ checkpoint: '2', next: [] });
  });

  it('retries the same records after the back-off on function error, without a checkpoint', () => {
    // WHEN
    const decision = new RetryUntilSuccess(250).decide({
      mappingId: 'm',
      shardId: 's',
      batch: { records, retries: 0 },
      result: {
        ok: false,
        requestId: 'r',
        error: { errorType: 'Error', errorMessage: 'x' },
        durationMs: 1,
      },
      now: 0,
    });

    // THEN
    expect(decision).toEqual({ next: [{ records, retries: 1 }], delayMs: 250 });
  });
});
