import { Logger } from '@aws-lambda-powertools/logger';
import type { KinesisStreamRecord } from 'aws-lambda';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import { pageViews } from '#pipelines/page-views';
import { type AnyWindowedPipelineDefinition, count, pipeline, tumbling } from '#runtime/index';
import type { ApplyDeltasOptions, RejectedDelta, SliceDelta } from '#state/index';
import { metricsStub, recordingSink, stubPipelineStore } from '#test/helpers/handlerStubs';
import { kinesisEventFactory, kinesisRecordFactory } from '#test/helpers/kinesisFactories';

/**
 * Review 3 of c5e8312 (refusals mapped back to records by their index in the batch): records of
 * 0, 1 and 2 elements, invalid records interleaved, and a bisected sub-batch. Kept as coverage:
 * it passes on c5e8312.
 */

const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });

/** Each record fans out into as many views as its page names (`/2` → 2 elements, `/0` → none). */
const fanOut = pipeline('fan-n')
  .from('clicks', { schema: pageViews.schema })
  .flatMap((e) =>
    Array.from({ length: Number(e.page.slice(1)) }, (_, i) => ({
      ...e,
      page: `/p${i}`,
      ts: Number(e.ts) + i * 60_000,
    })),
  )
  .keyBy((e) => e.page)
  .window(tumbling('1m'), { eventTime: (e) => e.ts })
  .aggregate({ views: count() })
  .emit('final')
  .to('fan-n-out') as unknown as AnyWindowedPipelineDefinition;

const view = (n: number, userId: string): KinesisStreamRecord =>
  kinesisRecordFactory({
    payload: { type: 'page_view', page: `/${n}`, userId, ts: T0 + 1_000 },
    partitionKey: userId,
    arrivalMs: T0 + 1_000,
  });
const invalid = (userId: string): KinesisStreamRecord =>
  kinesisRecordFactory({ data: Buffer.from('nope').toString('base64'), partitionKey: userId });

/** A handler on a store that refuses every delta as sealed (all of the lane's records). */
function refusingHandler() {
  const failureSink = recordingSink();
  const store = stubPipelineStore({
    applyDeltas: jest.fn(async (deltas: readonly SliceDelta[], options?: ApplyDeltasOptions) => {
      const rejected: RejectedDelta[] = deltas.map((d) => ({
        key: d.key,
        sliceStart: d.sliceStart,
        sliceEnd: d.sliceEnd,
        lane: d.lane,
        afterSeq: undefined,
        cause: 'sealed' as const,
      }));
      await options?.onRejected?.(rejected);
      return {
        writeRequests: 0,
        readRequests: 0,
        conflicts: 0,
        consumedCapacityUnits: 0,
        items: deltas.length,
        applied: 0,
        skipped: 0,
        sealed: deltas.length,
        rejected,
      };
    }),
  });
  const handler = createWindowedHandler(fanOut, {
    store,
    outputSink: recordingSink(),
    failureSink,
    clock: () => T0 + 2_000,
    logger,
    metrics: metricsStub().metrics,
  });
  const failures = () =>
    failureSink.sent.map((r) => JSON.parse(String(r.data)) as Record<string, unknown>);
  return { handler, failures };
}

describe('refusals by record index (review 3)', () => {
  const batch = [invalid('bad1'), view(0, 'zero'), view(2, 'two'), invalid('bad2'), view(1, 'one')];

  it.each([
    ['the whole batch', batch],
    ['its second half (a bisected retry)', batch.slice(2)],
    ['its last record alone', batch.slice(4)],
  ])(
    '%s: each refusal names its own record, its elements and its element count',
    async (_, records) => {
      const { handler, failures } = refusingHandler();
      await handler(kinesisEventFactory(records));
      const late = failures()
        .filter((f) => f.reason === 'LATE')
        .map((f) => [f.partitionKey, f.sequenceNumber, f.elements, f.elementCount]);
      const seq = (userId: string) =>
        batch.find((r) => r.kinesis.partitionKey === userId)?.kinesis.sequenceNumber;
      const expected = [
        ['two', seq('two'), [0, 1], 2],
        ['one', seq('one'), [0], 1],
      ].filter(([userId]) => records.some((r) => r.kinesis.partitionKey === userId));
      expect(late).toEqual(expected);
      // invalid records keep their own reasons, and the 0-element record is never reported
      expect(failures().filter((f) => f.partitionKey === 'zero')).toEqual([]);
    },
  );
});
