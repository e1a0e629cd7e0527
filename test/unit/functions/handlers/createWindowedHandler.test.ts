import { Logger } from '@aws-lambda-powertools/logger';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import { pageViews } from '#pipelines/page-views';
import type { ApplyDeltasOptions, ApplyDeltasResult } from '#state/index';
import {
  metricsStub,
  recordingSink as sink,
  stubPipelineStore as stubStore,
} from '#test/helpers/handlerStubs';
import { kinesisEventFactory, kinesisRecordFactory } from '#test/helpers/kinesisFactories';

const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);

const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const view = (ts: number, page = '/home') =>
  kinesisRecordFactory({ payload: { type: 'page_view', page, userId: 'u1', ts } });

/** A stub `applyDeltas` result whose refusals are reported as a real store does, then returned. */
async function refusing(
  options: ApplyDeltasOptions | undefined,
  result: ApplyDeltasResult,
): Promise<ApplyDeltasResult> {
  await options?.onRejected?.(result.rejected);
  return result;
}

describe('createWindowedHandler', () => {
  it('routes invalid records to the failure sink with the failure record shape', async () => {
    // GIVEN a batch with one valid and one invalid record
    const failureSink = sink();
    const store = stubStore();
    const { metrics, values } = metricsStub();
    const handler = createWindowedHandler(pageViews, {
      store,
      outputSink: sink(),
      failureSink,
      clock: () => T0,
      logger,
      metrics,
    });
    const bad = kinesisRecordFactory({
      data: Buffer.from('nope').toString('base64'),
      partitionKey: 'u7',
    });
    // WHEN
    const response = await handler(kinesisEventFactory([view(T0), bad]));
    // THEN
    expect(response).toEqual({ batchItemFailures: [] });
    const [records] = failureSink.send.mock.calls[0] as unknown as [
      Array<{ data: string; partitionKey: string }>,
    ];
    expect(records).toHaveLength(1);
    expect(records[0]?.partitionKey).toBe('u7');
    expect(JSON.parse(records[0]?.data ?? '{}')).toMatchObject({
      pipeline: 'page-views',
      reason: 'NOT_JSON',
      sequenceNumber: bad.kinesis.sequenceNumber,
      partitionKey: 'u7',
      data: bad.kinesis.data,
      failedAt: new Date(T0).toISOString(),
    });
    expect(store.applyDeltas).toHaveBeenCalledTimes(1);
    expect(values).toMatchObject({
      RecordsIn: 2,
      InvalidRecords: 1,
      LateRecords: 0,
      WindowsClosed: 0,
    });
  });

  it('reports records refused by a sealed slice as LATE', async () => {
    // GIVEN a store that refuses everything of the lane above no fence
    const failureSink = sink();
    const record = view(T0 + 1000);
    const store = stubStore({
      applyDeltas: jest.fn(async (_deltas, options) =>
        refusing(options, {
          writeRequests: 1,
          readRequests: 0,
          conflicts: 1,
          consumedCapacityUnits: 0,
          items: 1,
          applied: 0,
          skipped: 0,
          sealed: 1,
          rejected: [
            {
              key: '/home',
              sliceStart: T0,
              sliceEnd: T0 + 60_000,
              lane: 'shardId-000000000000',
              afterSeq: undefined,
              cause: 'sealed' as const,
            },
          ],
        }),
      ),
    });
    const { metrics, values } = metricsStub();
    const handler = createWindowedHandler(pageViews, {
      store,
      outputSink: sink(),
      failureSink,
      clock: () => T0,
      logger,
      metrics,
    });
    // WHEN
    await handler(kinesisEventFactory([record]));
    // THEN
    const [records] = failureSink.send.mock.calls[0] as unknown as [Array<{ data: string }>];
    expect(JSON.parse(records[0]?.data ?? '{}')).toMatchObject({
      reason: 'LATE',
      sequenceNumber: record.kinesis.sequenceNumber,
    });
    expect(values.LateRecords).toBe(1);
  });

  it('closes due windows and emits final results before marking them emitted', async () => {
    // GIVEN a watermark past a window with a due window
    const window = { key: '/home', start: T0, end: T0 + 60_000 };
    const order: string[] = [];
    const store = stubStore({
      readWatermark: jest.fn(async () => ({
        watermark: T0 + 90_000,
        mode: 'event-time' as const,
        committed: undefined,
        shards: [],
      })),
      findDueWindows: jest.fn().mockResolvedValueOnce([window]).mockResolvedValue([]),
      markWindowsEmitted: jest.fn(async (windows: readonly unknown[]) => {
        order.push('mark');
        return windows.map(() => 'emitted' as const);
      }),
    });
    const outputSink = sink();
    outputSink.send.mockImplementation(async (records) => {
      order.push('send');
      return { records: records.length, requests: 1, retries: 0, bytes: 0 };
    });
    const { metrics, values } = metricsStub();
    const handler = createWindowedHandler(pageViews, {
      store,
      outputSink,
      failureSink: sink(),
      clock: () => T0 + 100_000,
      logger,
      metrics,
    });
    // WHEN
    await handler(kinesisEventFactory([view(T0 + 95_000)]));
    // THEN
    // the watermark (T0 + 90 s) is committed at the slice boundary below it, the due window's end
    expect(store.commitWatermark).toHaveBeenCalledWith(T0 + 60_000, T0 + 100_000);
    expect(order).toEqual(['send', 'mark']);
    const [records] = outputSink.send.mock.calls[0] as unknown as [
      Array<{ data: string; partitionKey: string }>,
    ];
    expect(records[0]?.partitionKey).toBe('/home');
    expect(JSON.parse(records[0]?.data ?? '{}')).toMatchObject({
      final: true,
      late: 1,
      values: { views: 2, users: 2 },
    });
    expect(values.WindowsClosed).toBe(1);
  });

  it('fails the whole invocation when a state write fails, and still publishes metrics', async () => {
    // GIVEN a store whose write throws
    const store = stubStore({
      applyDeltas: jest.fn(async () => Promise.reject(new Error('throttled'))),
    });
    const { metrics } = metricsStub();
    const outputSink = sink();
    const handler = createWindowedHandler(pageViews, {
      store,
      outputSink,
      failureSink: sink(),
      clock: () => T0,
      logger,
      metrics,
    });
    // WHEN / THEN
    await expect(handler(kinesisEventFactory([view(T0)]))).rejects.toThrow('throttled');
    expect(outputSink.send).not.toHaveBeenCalled();
    expect(metrics.publishStoredMetrics).toHaveBeenCalled();
  });

  it('fails when the output sink gives up, leaving the window CLOSED for the sweeper', async () => {
    // GIVEN a due window and an output sink that throws
    const store = stubStore({
      readWatermark: jest.fn(async () => ({
        watermark: T0 + 90_000,
        mode: 'event-time' as const,
        committed: undefined,
        shards: [],
      })),
      findDueWindows: jest
        .fn()
        .mockResolvedValueOnce([{ key: '/home', start: T0, end: T0 + 60_000 }])
        .mockResolvedValue([]),
    });
    const outputSink = sink();
    outputSink.send.mockRejectedValue(new Error('PutRecords failed'));
    const handler = createWindowedHandler(pageViews, {
      store,
      outputSink,
      failureSink: sink(),
      clock: () => T0,
      logger,
      metrics: metricsStub().metrics,
    });
    // WHEN / THEN
    await expect(handler(kinesisEventFactory([view(T0)]))).rejects.toThrow('PutRecords failed');
    expect(store.markWindowsEmitted).not.toHaveBeenCalled();
  });
});
