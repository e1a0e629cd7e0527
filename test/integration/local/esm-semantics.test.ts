import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  PutRecordsCommand,
  UpdateShardCountCommand,
} from '@aws-sdk/client-kinesis';
import { localClients } from '#local/aws/index';
import type { CapturedFailure } from '#local/capture/types';
import { printFailures } from '#local/cli/failures';
import { systemClock } from '#local/esm/systemClock';
import type { Clock } from '#local/esm/types';
import { startLocalRuntime } from '#local/runtime/startLocalRuntime';
import type { LocalRuntime, LocalRuntimeOptions } from '#local/runtime/types';
import { useEngines } from '#test/helpers/engines';

const FIXTURE = join(__dirname, '../../fixtures/esm');

interface Audit {
  readonly fn: string;
  readonly ids: (string | undefined)[];
  readonly seqs: string[];
  readonly pks: string[];
  readonly startedAt: number;
  readonly endedAt?: number;
  readonly window?: { start: string; end: string };
  readonly state?: { count?: number };
  readonly shardId?: string;
  readonly eventSourceARN?: string;
  readonly isFinalInvokeForWindow?: boolean;
  readonly isWindowTerminatedEarly?: boolean;
  readonly event?: Record<string, unknown>;
}

interface Sent {
  readonly id: string;
  readonly key: string;
  readonly sequenceNumber: string;
  readonly shardId: string;
}

async function put(
  kinesis: KinesisClient,
  stream: string,
  items: readonly ({ id: string; key?: string } & Record<string, unknown>)[],
): Promise<Sent[]> {
  const response = await kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: items.map((item) => ({
        PartitionKey: item.key ?? 'pk',
        Data: Buffer.from(JSON.stringify(item)),
      })),
    }),
  );
  expect(response.FailedRecordCount ?? 0).toBe(0);
  return (response.Records ?? []).map((record, index) => ({
    id: items[index]?.id ?? '',
    key: items[index]?.key ?? 'pk',
    sequenceNumber: record.SequenceNumber as string,
    shardId: record.ShardId as string,
  }));
}

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe('event source mappings with AWS semantics (engines)', () => {
  const engines = useEngines();
  const stateDir = mkdtempSync(join(tmpdir(), 'shardflow-esm-'));
  const failuresFile = join(stateDir, 'failures.jsonl');
  const logs: string[] = [];
  const warnings: string[] = [];
  let offsetMs = 0;
  const clock: Clock = { now: () => Date.now() + offsetMs, sleep: systemClock.sleep };

  const audits = (fn: string): Audit[] =>
    logs
      .filter((line) => line.startsWith(`[${fn}] AUDIT `))
      .map((line) => JSON.parse(line.slice(line.indexOf('AUDIT ') + 6)) as Audit);
  const invokedIds = (fn: string) => audits(fn).map((audit) => audit.ids);

  const options = (): LocalRuntimeOptions => ({
    cdkOut: FIXTURE,
    engines: engines(),
    log: (line) => logs.push(line),
    warn: (line) => warnings.push(line),
    pollIntervalMs: 100,
    retryDelayMs: 100,
    shardDiscoveryIntervalMs: 300,
    scheduleTimeScale: 0.01,
    stateDir,
    failuresFile,
    clock,
  });

  describe('with the fixture running', () => {
    let runtime: LocalRuntime;
    let kinesis: KinesisClient;
    const failuresOf = (fn: string): CapturedFailure[] =>
      runtime.failures().filter((failure) => failure.shardflow.functionName === fn);
    const mappingStats = (fn: string) =>
      runtime.stats().filter((stats) => stats.functionName === fn);

    beforeAll(async () => {
      runtime = await startLocalRuntime(options());
      kinesis = localClients(engines().endpoints).kinesis;
    });

    afterAll(async () => {
      await runtime?.stop();
      kinesis?.destroy();
    });

    it('BatchSize / MaximumBatchingWindowInSeconds ("Using Lambda with Kinesis": invoke when the batch is full or the batching window expires)', async () => {
      // GIVEN BatchSize 3, window 1 s
      const items = Array.from({ length: 7 }, (_, i) => ({ id: `b${i}` }));

      // WHEN
      const putAt = Date.now();
      await put(kinesis, 'esm-batching', items);
      await waitFor(() => invokedIds('esm-batching-fn').flat().length === 7);

      // THEN two full batches right away, the rest when the window expired
      expect(invokedIds('esm-batching-fn')).toEqual([
        ['b0', 'b1', 'b2'],
        ['b3', 'b4', 'b5'],
        ['b6'],
      ]);
      const last = audits('esm-batching-fn').at(-1) as Audit;
      expect(last.startedAt - putAt).toBeGreaterThanOrEqual(900);
    });

    it('6 MB payload limit ("Using Lambda with Kinesis": a batch is invoked before its payload would exceed 6 MB)', async () => {
      // GIVEN five records of about 1 MB (1.33 MB base64 each), BatchSize 10, a 300 s batching window
      const pad = 'x'.repeat(999_950);
      const items = Array.from({ length: 5 }, (_, i) => ({ id: `big${i}`, pad }));

      // WHEN
      await put(kinesis, 'esm-big', items.slice(0, 3));
      await put(kinesis, 'esm-big', items.slice(3));
      await waitFor(() => invokedIds('esm-big-fn').length === 1, 60_000);

      // THEN four fit under 6 MB and are invoked at once (long before the window), the fifth waits
      expect(invokedIds('esm-big-fn')).toEqual([['big0', 'big1', 'big2', 'big3']]);
    });

    it('MaximumRetryAttempts ("Using Lambda with Kinesis": exhausted retries go to the on-failure destination as RetryAttemptsExhausted, then the shard moves on)', async () => {
      // GIVEN MaximumRetryAttempts 2, an SQS on-failure destination
      const sent = await put(kinesis, 'esm-retry', [
        { id: 'r1' },
        { id: 'r2', poison: true },
        { id: 'r3' },
      ]);

      // WHEN
      await waitFor(() => failuresOf('esm-retry-fn').length === 1);
      const after = await put(kinesis, 'esm-retry', [{ id: 'r4' }]);
      await waitFor(() => invokedIds('esm-retry-fn').some((ids) => ids.includes('r4')));

      // THEN the batch was offered 1 + 2 times, then discarded with AWS's failure record
      expect(invokedIds('esm-retry-fn')).toEqual([
        ['r1', 'r2', 'r3'],
        ['r1', 'r2', 'r3'],
        ['r1', 'r2', 'r3'],
        ['r4'],
      ]);
      const [failure] = failuresOf('esm-retry-fn');
      expect(failure).toMatchObject({
        requestContext: {
          requestId: expect.any(String),
          functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:esm-retry-fn',
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: 3,
        },
        responseContext: {
          statusCode: 200,
          executedVersion: '$LATEST',
          functionError: 'Unhandled',
        },
        version: '1.0',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        KinesisBatchInfo: {
          shardId: sent[0]?.shardId,
          startSequenceNumber: sent[0]?.sequenceNumber,
          endSequenceNumber: sent[2]?.sequenceNumber,
          approximateArrivalOfFirstRecord: expect.stringMatching(/Z$/),
          approximateArrivalOfLastRecord: expect.stringMatching(/Z$/),
          batchSize: 3,
          streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/esm-retry',
        },
        shardflow: {
          destinationArn: 'arn:aws:sqs:us-east-1:000000000000:esm-failures',
          destinationType: 'sqs',
          error: 'Error: poison record',
        },
      });
      expect(
        failure?.shardflow.records.map((record) =>
          JSON.parse(Buffer.from(record.data, 'base64').toString()),
        ),
      ).toEqual([{ id: 'r1' }, { id: 'r2', poison: true }, { id: 'r3' }]);
      await waitFor(
        () => mappingStats('esm-retry-fn')[0]?.shards[0]?.checkpoint === after[0]?.sequenceNumber,
      );
    });

    it('MaximumRecordAgeInSeconds ("Using Lambda with Kinesis": records older than the maximum age are discarded as RecordAgeExceeded)', async () => {
      // GIVEN MaximumRecordAgeInSeconds 60, retries unlimited, an SNS destination
      await put(kinesis, 'esm-age', [{ id: 'a1', poison: true }]);
      await waitFor(() => invokedIds('esm-age-fn').length >= 2);
      expect(failuresOf('esm-age-fn')).toEqual([]);

      // WHEN the record is two minutes old
      offsetMs = 120_000;
      try {
        await waitFor(() => failuresOf('esm-age-fn').length === 1);
      } finally {
        offsetMs = 0;
      }
      await put(kinesis, 'esm-age', [{ id: 'a2' }]);
      await waitFor(() => invokedIds('esm-age-fn').some((ids) => ids.includes('a2')));

      // THEN
      expect(failuresOf('esm-age-fn')[0]).toMatchObject({
        requestContext: { condition: 'RecordAgeExceeded' },
        KinesisBatchInfo: { batchSize: 1 },
        shardflow: { destinationType: 'sns' },
      });
      expect(invokedIds('esm-age-fn').filter((ids) => ids.includes('a1')).length).toBeGreaterThan(
        1,
      );
    });

    it('BisectBatchOnFunctionError ("Using Lambda with Kinesis": a failed batch is split in two, a split does not use up a retry)', async () => {
      // GIVEN bisect on, MaximumRetryAttempts 0, an S3 destination
      await put(kinesis, 'esm-bisect', [
        { id: 'x1' },
        { id: 'x2' },
        { id: 'x3' },
        { id: 'x4', poison: true },
      ]);

      // WHEN
      await waitFor(() => failuresOf('esm-bisect-fn').length === 1);

      // THEN halves were retried although no retry is allowed; only the poison record is discarded
      expect(invokedIds('esm-bisect-fn')).toEqual([
        ['x1', 'x2', 'x3', 'x4'],
        ['x1', 'x2'],
        ['x3', 'x4'],
        ['x3'],
        ['x4'],
      ]);
      expect(failuresOf('esm-bisect-fn')[0]).toMatchObject({
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 },
        KinesisBatchInfo: { batchSize: 1 },
        shardflow: { destinationType: 's3' },
      });
    });

    it('ReportBatchItemFailures ("Configure partial batch response": checkpoint before the lowest failed sequence number and retry from there)', async () => {
      // GIVEN records x2 and x4 fail on their first attempt
      const sent = await put(kinesis, 'esm-partial', [
        { id: 'p1', respond: 'lowest-poison' },
        { id: 'p2', failOnce: true },
        { id: 'p3' },
        { id: 'p4', failOnce: true },
      ]);

      // WHEN
      await waitFor(() => invokedIds('esm-partial-fn').length === 2);
      await sleep(500);

      // THEN
      expect(invokedIds('esm-partial-fn')).toEqual([
        ['p1', 'p2', 'p3', 'p4'],
        ['p2', 'p3', 'p4'],
      ]);
      expect(failuresOf('esm-partial-fn')).toEqual([]);
      await waitFor(
        () => mappingStats('esm-partial-fn')[0]?.shards[0]?.checkpoint === sent[3]?.sequenceNumber,
      );
    });

    it.each(['undefined', 'null', 'empty-object', 'empty-list', 'null-list'])(
      'ReportBatchItemFailures ("Configure partial batch response": a %s response is complete success)',
      async (respond) => {
        // GIVEN
        const before = invokedIds('esm-partial-fn').length;

        // WHEN
        await put(kinesis, 'esm-partial', [
          { id: `ok-${respond}`, respond },
          { id: `ok2-${respond}` },
        ]);
        await waitFor(() => invokedIds('esm-partial-fn').length > before);
        await sleep(400);

        // THEN one invocation, nothing discarded
        expect(invokedIds('esm-partial-fn').slice(before)).toEqual([
          [`ok-${respond}`, `ok2-${respond}`],
        ]);
        expect(failuresOf('esm-partial-fn')).toEqual([]);
      },
    );

    it.each(['empty-id', 'null-id', 'unknown-id', 'wrong-key'])(
      'fails the whole batch on a %s itemIdentifier ("Configure partial batch response": complete failure conditions)',
      async (respond) => {
        // GIVEN MaximumRetryAttempts 1
        const failuresBefore = failuresOf('esm-partial-fn').length;
        const before = invokedIds('esm-partial-fn').length;

        // WHEN
        await put(kinesis, 'esm-partial', [
          { id: `bad-${respond}`, respond },
          { id: `y-${respond}` },
        ]);
        await waitFor(() => failuresOf('esm-partial-fn').length > failuresBefore);

        // THEN the whole batch was retried once, then discarded
        expect(invokedIds('esm-partial-fn').slice(before)).toEqual([
          [`bad-${respond}`, `y-${respond}`],
          [`bad-${respond}`, `y-${respond}`],
        ]);
        expect(failuresOf('esm-partial-fn').at(-1)).toMatchObject({
          requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 },
          KinesisBatchInfo: { batchSize: 2 },
        });
        expect(failuresOf('esm-partial-fn').at(-1)?.responseContext.functionError).toBeUndefined();
      },
    );

    it('FunctionResponseTypes unset ("Configure partial batch response": without ReportBatchItemFailures the response is ignored)', async () => {
      // WHEN a handler reports a failed item on a mapping without the setting
      await put(kinesis, 'esm-ignored', [
        { id: 'i1', respond: 'lowest-poison' },
        { id: 'i2', poison: true },
      ]);
      await waitFor(() => invokedIds('esm-ignored-fn').length === 1);
      await sleep(500);

      // THEN
      expect(invokedIds('esm-ignored-fn')).toEqual([['i1', 'i2']]);
      expect(failuresOf('esm-ignored-fn')).toEqual([]);
    });

    it('ParallelizationFactor ("Using Lambda with Kinesis": concurrent batches per shard, order kept per partition key)', async () => {
      // GIVEN PF 4, BatchSize 2, a handler taking 300 ms
      const items = Array.from({ length: 16 }, (_, i) => ({ id: `q${i}`, key: `key-${i % 8}` }));

      // WHEN
      const sent = await put(kinesis, 'esm-parallel', items);
      await waitFor(() => invokedIds('esm-parallel-fn').flat().length >= 16, 30_000);

      // THEN every record once, batches overlapped in time
      const calls = audits('esm-parallel-fn');
      expect(calls.flatMap((call) => call.ids).sort()).toEqual(items.map((item) => item.id).sort());
      const overlapping = calls.some((a) =>
        calls.some(
          (b) => a !== b && a.startedAt < (b.endedAt ?? 0) && b.startedAt < (a.endedAt ?? 0),
        ),
      );
      expect(overlapping).toBe(true);
      // THEN order per partition key
      for (let k = 0; k < 8; k++) {
        const key = `key-${k}`;
        const expected = sent.filter((item) => item.key === key).map((item) => item.sequenceNumber);
        const seen = [...calls]
          .sort((a, b) => a.startedAt - b.startedAt)
          .flatMap((call) => call.seqs.filter((_, index) => call.pks[index] === key));
        expect(seen).toEqual(expected);
      }
      // THEN the shard checkpoint reaches the last record once every lane is done
      await waitFor(
        () =>
          mappingStats('esm-parallel-fn')[0]?.shards[0]?.checkpoint === sent.at(-1)?.sequenceNumber,
      );
      expect(mappingStats('esm-parallel-fn')[0]?.recordsDelivered).toBe(16);
    });

    it('FilterCriteria ("Using event filtering with a Kinesis event source": patterns on data; records matching no filter are dropped and checkpointed)', async () => {
      // GIVEN filters: click with 5 < n <= 10 | page prefix /home | tag exists and kind anything-but bot, crawler
      const sent = await put(kinesis, 'esm-filter', [
        { id: 'f1', type: 'click', n: 6 },
        { id: 'f2', type: 'click', n: 11 },
        { id: 'f3', type: 'view', n: 6 },
        { id: 'f4', page: '/home/x' },
        { id: 'f5', page: '/about' },
        { id: 'f6', tag: 'x', kind: 'human' },
        { id: 'f7', tag: 'x', kind: 'bot' },
        { id: 'f8', kind: 'human' },
        { id: 'f9', type: 'click', n: [1, 7] },
        { id: 'f10', type: 'other' },
      ]);

      // WHEN
      await waitFor(
        () =>
          mappingStats('esm-filter-fn')[0]?.shards[0]?.checkpoint === sent.at(-1)?.sequenceNumber,
      );

      // THEN
      expect(invokedIds('esm-filter-fn').flat()).toEqual(['f1', 'f4', 'f6', 'f9']);
      expect(mappingStats('esm-filter-fn')[0]?.shards[0]?.recordsFiltered).toBe(6);
    });

    it('TumblingWindowInSeconds ("Tumbling windows": window, state passed between invocations, final invoke for the window)', async () => {
      // GIVEN a 3 s window, BatchSize 2; start right after a window boundary
      await sleep(3000 - (Date.now() % 3000) + 100);

      // WHEN three records arrive in one window, one in a later window
      await put(kinesis, 'esm-window', [{ id: 'w1' }, { id: 'w2' }, { id: 'w3' }]);
      await waitFor(() => audits('esm-window-fn').some((audit) => audit.isFinalInvokeForWindow));
      await put(kinesis, 'esm-window', [{ id: 'w4' }]);
      await waitFor(() => invokedIds('esm-window-fn').flat().includes('w4'));

      // THEN
      const calls = audits('esm-window-fn');
      const first = calls[0] as Audit;
      const start = Date.parse(first.window?.start ?? '');
      expect(start % 3000).toBe(0);
      expect(first.window?.end).toBe(new Date(start + 3000).toISOString().replace('.000Z', 'Z'));
      expect(first).toMatchObject({
        ids: ['w1', 'w2'],
        state: {},
        shardId: 'shardId-000000000000',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/esm-window',
        isFinalInvokeForWindow: false,
        isWindowTerminatedEarly: false,
      });
      const finalIndex = calls.findIndex((call) => call.isFinalInvokeForWindow);
      const inWindow = calls.slice(0, finalIndex + 1);
      expect(inWindow.flatMap((call) => call.ids)).toEqual(['w1', 'w2', 'w3']);
      expect(inWindow.map((call) => call.state?.count ?? 0)).toEqual(
        inWindow.map((_, index) =>
          inWindow.slice(0, index).reduce((total, call) => total + call.ids.length, 0),
        ),
      );
      expect(calls[finalIndex]?.window).toEqual(first.window);
      const later = calls.find((call) => call.ids.includes('w4'));
      expect(later?.state).toEqual({});
      expect(Date.parse(later?.window?.start ?? '')).toBeGreaterThan(start);
    });

    it('Enabled false ("event source mapping parameters": a disabled mapping does not poll)', async () => {
      // WHEN
      await put(kinesis, 'esm-disabled', [{ id: 'd1' }]);
      await sleep(1000);

      // THEN
      expect(audits('esm-disabled-fn')).toEqual([]);
      expect(mappingStats('esm-disabled-fn')[0]?.state).toBe('Disabled');
    });

    it('several mappings on one stream ("Using Lambda with Kinesis": each mapping reads every record)', async () => {
      // WHEN
      const items = Array.from({ length: 6 }, (_, i) => ({ id: `o${i}` }));
      await put(kinesis, 'esm-fanout', items);
      await waitFor(
        () =>
          invokedIds('esm-fanout-a-fn').flat().length === 6 &&
          invokedIds('esm-fanout-b-fn').flat().length === 6,
      );

      // THEN
      expect(invokedIds('esm-fanout-a-fn').flat()).toEqual(items.map((item) => item.id));
      expect(invokedIds('esm-fanout-b-fn')).toEqual([
        ['o0', 'o1', 'o2', 'o3'],
        ['o4', 'o5'],
      ]);
    });

    it('function Timeout ("Using Lambda with Kinesis": a timed-out invocation is a function error)', async () => {
      // GIVEN Timeout 1 s, MaximumRetryAttempts 0
      await put(kinesis, 'esm-timeout', [{ id: 't1', sleepMs: 1500 }]);

      // WHEN
      await waitFor(() => failuresOf('esm-timeout-fn').length === 1);

      // THEN
      expect(failuresOf('esm-timeout-fn')[0]).toMatchObject({
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 },
        responseContext: { functionError: 'Unhandled' },
        shardflow: { error: expect.stringMatching(/^Sandbox\.Timedout/) },
      });
    });

    it('resharding ("Using Lambda with Kinesis": a child shard is read only after its parent is finished)', async () => {
      // GIVEN records in the parent, processed slowly (BatchSize 2, 300 ms each)
      const parent = Array.from({ length: 10 }, (_, i) => ({ id: `p${i}`, key: `k${i}` }));
      await put(kinesis, 'esm-reshard', parent);

      // WHEN the stream is split while the parent is being processed, and children get records
      await kinesis.send(
        new UpdateShardCountCommand({
          StreamName: 'esm-reshard',
          TargetShardCount: 2,
          ScalingType: 'UNIFORM_SCALING',
        }),
      );
      for (;;) {
        const { StreamDescriptionSummary } = await kinesis.send(
          new DescribeStreamSummaryCommand({ StreamName: 'esm-reshard' }),
        );
        if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
        await sleep(100);
      }
      const children = Array.from({ length: 6 }, (_, i) => ({ id: `c${i}`, key: `k${i}` }));
      const sentChildren = await put(kinesis, 'esm-reshard', children);
      await waitFor(() => invokedIds('esm-reshard-fn').flat().length >= 16, 40_000);

      // THEN every record once; every parent batch ended before any child batch started
      expect(new Set(sentChildren.map((item) => item.shardId)).size).toBeGreaterThan(0);
      expect(sentChildren.every((item) => item.shardId !== 'shardId-000000000000')).toBe(true);
      const calls = audits('esm-reshard-fn');
      expect(calls.flatMap((call) => call.ids).sort()).toEqual(
        [...parent, ...children].map((item) => item.id).sort(),
      );
      const parentEnd = Math.max(
        ...calls.filter((call) => call.ids[0]?.startsWith('p')).map((call) => call.endedAt ?? 0),
      );
      const childStart = Math.min(
        ...calls.filter((call) => call.ids[0]?.startsWith('c')).map((call) => call.startedAt),
      );
      expect(parentEnd).toBeLessThanOrEqual(childStart);
      expect(calls.every((call) => call.ids.every((id) => id?.[0] === call.ids[0]?.[0]))).toBe(
        true,
      );
    });

    it('scheduled rules (EventBridge "Scheduled Event" payload for rate(...); Scheduler cron(...) with its Input)', async () => {
      // WHEN the schedules fire (time scaled 1:100)
      await waitFor(() => {
        const events = audits('esm-sweeper-fn').map((audit) => audit.event);
        return (
          events.filter((event) => event?.['detail-type'] === 'Scheduled Event').length >= 2 &&
          events.some((event) => event?.source === 'scheduler-input')
        );
      });

      // THEN
      const scheduled = audits('esm-sweeper-fn').find(
        (audit) => audit.event?.['detail-type'] === 'Scheduled Event',
      )?.event;
      expect(scheduled).toEqual({
        version: '0',
        id: expect.any(String),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '000000000000',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        region: 'us-east-1',
        resources: ['arn:aws:events:us-east-1:000000000000:rule/Esm-SweeperRule'],
        detail: {},
      });
      // THEN a DISABLED rule does not fire
      expect(audits('esm-disabled-fn')).toEqual([]);
    });

    it('DestinationConfig.OnFailure ("Retain discarded records"): the failure file holds every failure record, listed by shardflow failures', async () => {
      // WHEN
      const lines = readFileSync(failuresFile, 'utf8').trim().split('\n');
      let json = '';
      let text = '';
      const jsonCode = await printFailures({
        json: true,
        file: failuresFile,
        write: (chunk) => {
          json += chunk;
        },
      });
      const tableCode = await printFailures({
        file: failuresFile,
        write: (chunk) => {
          text += chunk;
        },
      });

      // THEN
      expect(lines.map((line) => JSON.parse(line))).toEqual(
        JSON.parse(JSON.stringify(runtime.failures())),
      );
      expect([jsonCode, tableCode]).toEqual([0, 0]);
      expect(json.trim().split('\n')).toEqual(lines);
      expect(text).toContain('RetryAttemptsExhausted');
      expect(text).toContain('RecordAgeExceeded');
      expect(text).toContain(`${lines.length} on-failure destination record(s)`);
      expect(warnings).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/AWS::SQS::Queue esm-failures is not yet emulated locally/),
        ]),
      );
    });
  });

  describe('restarted with the same --state-dir', () => {
    it('resumes each shard after its checkpoint (FileCheckpointStore), nothing replayed', async () => {
      // GIVEN the first runtime stopped after processing esm-batching
      const kinesis = localClients(engines().endpoints).kinesis;
      const before = invokedIds('esm-batching-fn').length;
      await put(kinesis, 'esm-batching', [{ id: 'after-restart' }]);

      // WHEN
      const runtime = await startLocalRuntime(options());
      try {
        await waitFor(() => invokedIds('esm-batching-fn').length > before);
        await sleep(500);

        // THEN only the record put while it was down
        expect(invokedIds('esm-batching-fn').slice(before)).toEqual([['after-restart']]);
        expect(readFileSync(join(stateDir, 'checkpoints.json'), 'utf8')).toContain(
          'shardId-000000000000',
        );
      } finally {
        await runtime.stop();
        kinesis.destroy();
      }
    });
  });
});
