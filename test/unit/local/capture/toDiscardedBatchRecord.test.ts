import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureCapture } from '#local/capture/FailureCapture';
import { readFailures } from '#local/capture/readFailures';
import { toDiscardedBatchRecord } from '#local/capture/toDiscardedBatchRecord';
import { printFailures } from '#local/cli/failures';

const SOURCE = {
  destinationArn: 'arn:aws:sqs:us-east-1:000000000000:failures',
  eventSourceMappingUuid: 'm-1',
  functionName: 'fn',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
  shardId: 'shardId-000000000001',
};

const discarded = {
  records: [
    {
      shardId: 'shardId-000000000001',
      sequenceNumber: '100',
      partitionKey: 'a',
      data: Buffer.from('{"id":1}'),
      approximateArrivalTimestamp: Date.parse('2026-11-26T10:00:00.000Z'),
    },
    {
      shardId: 'shardId-000000000001',
      sequenceNumber: '200',
      partitionKey: 'b',
      data: Buffer.from('{"id":2}'),
      approximateArrivalTimestamp: Date.parse('2026-11-26T10:00:01.000Z'),
    },
  ],
  condition: 'RetryAttemptsExhausted',
  result: {
    ok: false as const,
    requestId: 'req-1',
    error: { errorType: 'TypeError', errorMessage: 'x' },
    durationMs: 1,
  },
  retries: 2,
  invokeCount: 3,
};

describe('toDiscardedBatchRecord', () => {
  it('builds the on-failure record in AWS shape, with the records under shardflow', () => {
    // WHEN
    const record = toDiscardedBatchRecord(discarded, SOURCE, new Date('2026-11-26T10:00:05.000Z'));

    // THEN
    expect(record).toEqual({
      requestContext: {
        requestId: 'req-1',
        functionArn: SOURCE.functionArn,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2026-11-26T10:00:05.000Z',
      KinesisBatchInfo: {
        shardId: 'shardId-000000000001',
        startSequenceNumber: '100',
        endSequenceNumber: '200',
        approximateArrivalOfFirstRecord: '2026-11-26T10:00:00.000Z',
        approximateArrivalOfLastRecord: '2026-11-26T10:00:01.000Z',
        batchSize: 2,
        streamArn: SOURCE.streamArn,
      },
      shardflow: {
        destinationArn: SOURCE.destinationArn,
        destinationType: 'sqs',
        eventSourceMappingUuid: 'm-1',
        functionName: 'fn',
        error: 'TypeError: x',
        records: [
          {
            sequenceNumber: '100',
            partitionKey: 'a',
            data: Buffer.from('{"id":1}').toString('base64'),
            approximateArrivalTimestamp: '2026-11-26T10:00:00.000Z',
          },
          {
            sequenceNumber: '200',
            partitionKey: 'b',
            data: Buffer.from('{"id":2}').toString('base64'),
            approximateArrivalTimestamp: '2026-11-26T10:00:01.000Z',
          },
        ],
      },
    });
  });
});

describe('FailureCapture and printFailures', () => {
  it('appends JSON lines another process reads, as a table or JSON lines', async () => {
    // GIVEN
    const file = join(
      mkdtempSync(join(tmpdir(), 'shardflow-fail-')),
      '.shardflow',
      'failures.jsonl',
    );
    const capture = new FailureCapture({ file });

    // WHEN
    capture.add(toDiscardedBatchRecord(discarded, SOURCE));
    capture.add(toDiscardedBatchRecord({ ...discarded, condition: 'RecordAgeExceeded' }, SOURCE));
    let table = '';
    let json = '';
    await printFailures({ file, write: (text) => (table += text) });
    await printFailures({ file, json: true, write: (text) => (json += text) });

    // THEN
    expect(readFailures(file)).toEqual(JSON.parse(JSON.stringify(capture.failures)));
    expect(table).toMatch(/CONDITION/);
    expect(table).toMatch(/RetryAttemptsExhausted .*fn .*shardId-000000000001 +2 +3 +100/);
    expect(table).toContain('{"id":1}');
    expect(
      json
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).requestContext.condition),
    ).toEqual(['RetryAttemptsExhausted', 'RecordAgeExceeded']);
  });

  it('prints that there are no failures when the file does not exist', async () => {
    // WHEN
    let out = '';
    const code = await printFailures({
      projectDir: '/nonexistent',
      write: (text) => (out += text),
    });

    // THEN
    expect(code).toBe(0);
    expect(out).toBe(
      'no on-failure destination records in /nonexistent/.shardflow/failures.jsonl\n' +
        'no local runtime is running here, so no failure streams were read\n',
    );
  });
});
