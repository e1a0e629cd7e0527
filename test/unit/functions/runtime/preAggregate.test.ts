import type { KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { z } from 'zod';
import { count } from '#runtime/aggregates/count';
import { distinct } from '#runtime/aggregates/distinct';
import { max } from '#runtime/aggregates/max';
import { sum } from '#runtime/aggregates/sum';
import { MAX_EVENT_TIME_MS } from '#runtime/constants';
import { mergeAccumulators } from '#runtime/mergeAccumulators';
import { pipeline } from '#runtime/pipeline';
import { partialKey, preAggregate } from '#runtime/preAggregate';
import type { Accumulators } from '#runtime/types';
import { windowResult } from '#runtime/windowResult';
import { hopping } from '#runtime/windows/hopping';
import { session } from '#runtime/windows/session';
import { tumbling } from '#runtime/windows/tumbling';
import { kinesisRecordFactory } from '#test/helpers/kinesisFactories';

const Event = z.object({ key: z.string(), t: z.number(), v: z.number(), user: z.string() });
type Event = z.infer<typeof Event>;

const aggregates = {
  n: count<Event>(),
  total: sum((e: Event) => e.v),
  top: max((e: Event) => e.v),
  users: distinct((e: Event) => e.user),
};

const windowedPipeline = (assigner: ReturnType<typeof tumbling>) =>
  pipeline('p')
    .from('in', { schema: Event })
    .keyBy((e) => e.key)
    .window(assigner, { eventTime: (e) => e.t })
    .aggregate(aggregates)
    .to('out');

const SHARDS = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002'];

const eventArb = fc.record({
  key: fc.constantFrom('a', 'b', 'c'),
  t: fc.integer({ min: 0, max: 10 * 60_000 }),
  v: fc.integer({ min: -50, max: 50 }),
  user: fc.constantFrom('u1', 'u2', 'u3', 'u4'),
});
const batchArb = fc.array(
  fc.record({ event: eventArb, shard: fc.nat({ max: 2 }), pk: fc.constantFrom('p1', 'p2') }),
  {
    maxLength: 150,
  },
);

/** Builds a batch; sequence numbers increase per shard (and across the batch). */
const toRecords = (
  items: readonly { event: Event; shard: number; pk: string }[],
): KinesisStreamRecord[] =>
  items.map(({ event, shard, pk }, i) =>
    kinesisRecordFactory({
      payload: event,
      shardId: SHARDS[shard],
      partitionKey: pk,
      sequenceNumber: String(1000 + i),
    }),
  );

/** Naive oracle of a window's values over raw events. */
const oracleValues = (events: readonly Event[]) => ({
  n: events.length,
  total: events.reduce((acc, e) => acc + e.v, 0),
  top: events.length === 0 ? null : Math.max(...events.map((e) => e.v)),
  users: new Set(events.map((e) => e.user)).size,
});

describe('preAggregate', () => {
  it('produces one partial per touched (key, slice) equal to a naive group-by, on out-of-order input', () => {
    const definition = windowedPipeline(tumbling('1m'));
    fc.assert(
      fc.property(batchArb, (items) => {
        // GIVEN
        const records = toRecords(items);

        // WHEN
        const plan = preAggregate(definition, records);

        // THEN
        const groups = new Map<string, Event[]>();
        for (const { event } of items) {
          const k = partialKey(event.key, Math.floor(event.t / 60_000) * 60_000);
          groups.set(k, [...(groups.get(k) ?? []), event]);
        }
        expect([...plan.partials.keys()].sort()).toEqual([...groups.keys()].sort());
        for (const [k, events] of groups) {
          const partial = plan.partials.get(k);
          expect(partial?.count).toBe(events.length);
          const result = windowResult(definition, 'k', { start: 0, end: 1 }, partial?.accs ?? {}, {
            final: true,
            emittedAt: 0,
          });
          expect(result.values).toEqual(oracleValues(events));
        }
        expect(plan.recordCount).toBe(items.length);
        expect(plan.failures).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('tracks max event time per shard and the last sequence number per lane', () => {
    fc.assert(
      fc.property(batchArb, fc.boolean(), (items, byPartitionKey) => {
        // GIVEN
        const records = toRecords(items);

        // WHEN
        const plan = preAggregate(windowedPipeline(tumbling('1m')), records, {
          laneOf: byPartitionKey ? 'shard+partitionKey' : 'shard',
        });

        // THEN
        const maxByShard = new Map<string, number>();
        const lastByLane = new Map<string, string>();
        items.forEach(({ event, shard, pk }, i) => {
          const shardId = SHARDS[shard] as string;
          maxByShard.set(shardId, Math.max(maxByShard.get(shardId) ?? -Infinity, event.t));
          lastByLane.set(byPartitionKey ? `${shardId}|${pk}` : shardId, String(1000 + i));
        });
        expect(plan.maxEventTimeByShard).toEqual(maxByShard);
        expect(plan.lastSequenceByLane).toEqual(lastByLane);
        expect(
          new Map([...plan.lastPositionByShard].map(([s, p]) => [s, p.sequenceNumber])),
        ).toEqual(
          new Map(
            SHARDS.flatMap((shardId, shard) => {
              const last = items.map((item) => item.shard).lastIndexOf(shard);
              return last === -1 ? [] : [[shardId, String(1000 + last)] as const];
            }),
          ),
        );
        for (const partial of plan.partials.values()) {
          expect([...partial.firstSequenceByLane.keys()].sort()).toEqual(
            [...partial.lanes.keys()].sort(),
          );
          for (const [lane, first] of partial.firstSequenceByLane) {
            const own = partial.elementSequences.filter((_, i) => partial.elementLanes[i] === lane);
            expect(first).toBe(own.reduce((a, b) => (Number(b) < Number(a) ? b : a)));
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('compares sequence numbers as numbers, not strings', () => {
    // GIVEN: '10' arrives before '9' (e.g. a custom lane); numerically 10 is the last
    const records = ['10', '9'].map((sequenceNumber) =>
      kinesisRecordFactory({ payload: { key: 'a', t: 0, v: 1, user: 'u' }, sequenceNumber }),
    );

    // WHEN
    const plan = preAggregate(windowedPipeline(tumbling('1m')), records);

    // THEN
    expect(plan.lastSequenceByLane.get('shardId-000000000000')).toBe('10');
    expect(plan.partials.get(partialKey('a', 0))?.lanes.get('shardId-000000000000')).toBe('10');
  });

  it('keeps ONE entry for 10,000 records of one key and slice', () => {
    // GIVEN
    const records = Array.from({ length: 10_000 }, (_, i) =>
      kinesisRecordFactory({
        payload: { key: 'hot', t: 1_000 + (i % 50_000), v: 1, user: `u${i}` },
      }),
    );

    // WHEN
    const plan = preAggregate(windowedPipeline(tumbling('1m')), records);

    // THEN
    expect(plan.partials.size).toBe(1);
    const partial = plan.partials.get(partialKey('hot', 0));
    expect(partial?.count).toBe(10_000);
    expect(partial?.accs.n).toBe(10_000);
    expect(
      Math.abs((aggregates.users.result(partial?.accs.users as never) as number) / 10_000 - 1),
    ).toBeLessThan(0.05);
  });

  it('writes hopping windows as slices whose merge equals a direct per-window computation', () => {
    const assigner = hopping('5m', '1m');
    const definition = windowedPipeline(assigner);
    fc.assert(
      fc.property(batchArb, (items) => {
        // GIVEN
        const records = toRecords(items);

        // WHEN
        const plan = preAggregate(definition, records);

        // THEN: no more partials than a tumbling 1m plan on the same events
        expect(plan.partials.size).toBe(
          preAggregate(windowedPipeline(tumbling('1m')), records).partials.size,
        );
        for (const key of ['a', 'b', 'c']) {
          const windows = new Map<number, { start: number; end: number }>();
          for (const { event } of items) {
            if (event.key === key)
              for (const w of assigner.windowsOf(event.t)) windows.set(w.start, w);
          }
          for (const window of windows.values()) {
            const accs = assigner
              .slicesOfWindow(window)
              .map((slice) => plan.partials.get(partialKey(key, slice))?.accs)
              .filter((a): a is Accumulators => a !== undefined)
              .reduce((a, b) => mergeAccumulators(definition, a, b));
            const inside = items
              .map((i) => i.event)
              .filter((e) => e.key === key && window.start <= e.t && e.t < window.end);
            expect(
              windowResult(definition, key, window, accs, { final: true, emittedAt: 0 }).values,
            ).toEqual(oracleValues(inside));
          }
        }
      }),
      { numRuns: 80 },
    );
  });

  it('forms per-key sessions equal to a naive sort-and-split', () => {
    const definition = pipeline('s')
      .from('in', { schema: Event })
      .keyBy((e) => e.key)
      .window(session('30s'), { eventTime: (e) => e.t })
      .aggregate(aggregates)
      .to('out');
    fc.assert(
      fc.property(batchArb, (items) => {
        // GIVEN
        const records = toRecords(items);

        // WHEN
        const plan = preAggregate(definition, records);

        // THEN
        for (const key of ['a', 'b', 'c']) {
          const events = items
            .map((i) => i.event)
            .filter((e) => e.key === key)
            .sort((x, y) => x.t - y.t);
          const expected: {
            start: number;
            end: number;
            values: ReturnType<typeof oracleValues>;
          }[] = [];
          let current: Event[] = [];
          const close = () => {
            if (current.length === 0) return;
            expected.push({
              start: (current[0] as Event).t,
              end: (current[current.length - 1] as Event).t + 30_000,
              values: oracleValues(current),
            });
          };
          for (const e of events) {
            if (current.length > 0 && e.t - (current[current.length - 1] as Event).t > 30_000) {
              close();
              current = [];
            }
            current.push(e);
          }
          close();
          const actual = (plan.sessions.get(key)?.sessions ?? []).map((s) => ({
            start: s.start,
            end: s.end,
            values: windowResult(definition, key, s, s.acc, { final: true, emittedAt: 0 }).values,
          }));
          expect(actual).toEqual(expected);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('fails records one by one with reason, shard, sequence number, partition key and data', () => {
    // GIVEN
    const definition = pipeline('p')
      .from('in', { schema: Event })
      .filter((e) => {
        if (e.user === 'boom') throw new Error('user code failed');
        return true;
      })
      .keyBy((e) => (e.key === 'nokey' ? '' : e.key))
      .window(tumbling('1m'), { eventTime: (e) => (e.t < 0 ? 'not a time' : e.t) })
      .aggregate({ total: sum((e: Event) => (e.v === 999 ? Number.NaN : e.v)) })
      .to('out');
    const good = { key: 'a', t: 0, v: 1, user: 'u' };
    const records = [
      kinesisRecordFactory({
        data: Buffer.from('not json').toString('base64'),
        partitionKey: 'x',
        shardId: 'shardId-000000000007',
      }),
      kinesisRecordFactory({ payload: { key: 1 } }),
      kinesisRecordFactory({ payload: { ...good, t: -1 } }),
      kinesisRecordFactory({ payload: { ...good, key: 'nokey' } }),
      kinesisRecordFactory({ payload: { ...good, v: 999 } }),
      kinesisRecordFactory({ payload: { ...good, user: 'boom' } }),
      kinesisRecordFactory({ payload: good }),
    ];

    // WHEN
    const plan = preAggregate(definition, records);

    // THEN
    expect(plan.failures.map((f) => f.reason)).toEqual([
      'NOT_JSON',
      'SCHEMA',
      'BAD_EVENT_TIME',
      'BAD_KEY',
      'BAD_VALUE',
      'TRANSFORM_ERROR',
    ]);
    expect(plan.failures[0]).toMatchObject({
      shardId: 'shardId-000000000007',
      sequenceNumber: records[0]?.kinesis.sequenceNumber,
      partitionKey: 'x',
      data: records[0]?.kinesis.data,
    });
    expect(plan.failures[5]?.detail).toBe('user code failed');
    expect(plan.partials.get(partialKey('a', 0))?.accs).toEqual({ total: 1 });
    expect(plan.lastSequenceByLane.size).toBe(2);
  });

  it('applies all or none of a record’s flatMapped elements', () => {
    // GIVEN: the second element of the record has a bad event time
    const definition = pipeline('p')
      .from('in', { schema: z.array(z.number()) })
      .flatMap((xs) => xs.values())
      .keyBy(() => 'k')
      .window(tumbling('1m'), { eventTime: (t) => (t < 0 ? Number.NaN : t) })
      .aggregate({ n: count() })
      .to('out');

    // WHEN
    const plan = preAggregate(definition, [
      kinesisRecordFactory({ payload: [1, -1] }),
      kinesisRecordFactory({ payload: [2, 3] }),
    ]);

    // THEN
    expect(plan.failures.map((f) => f.reason)).toEqual(['BAD_EVENT_TIME']);
    expect(plan.partials.get(partialKey('k', 0))?.accs).toEqual({ n: 2 });
  });

  it('leaves lateness to the store and counts elements whose slice ended before the shard clock', () => {
    // GIVEN: previous max event time on the shard at 3 min
    const definition = windowedPipeline(tumbling('1m'));
    const at = (t: number) => kinesisRecordFactory({ payload: { key: 'a', t, v: 1, user: 'u' } });

    // WHEN
    const plan = preAggregate(definition, [at(30_000), at(150_000), at(200_000)], {
      maxEventTimeByShard: new Map([['shardId-000000000000', 180_000]]),
    });

    // THEN: nothing refused here; two elements of slices that had ended count as late
    expect(plan.failures).toEqual([]);
    expect(plan.partials.get(partialKey('a', 0))).toMatchObject({ count: 1, late: 1 });
    expect(plan.partials.get(partialKey('a', 120_000))).toMatchObject({ count: 1, late: 1 });
    expect(plan.partials.get(partialKey('a', 180_000))).toMatchObject({ count: 1, late: 0 });
    expect(plan.maxEventTimeByShard.get('shardId-000000000000')).toBe(200_000);
  });

  it('defaults event time to approximateArrivalTimestamp', () => {
    const definition = pipeline('p')
      .from('in', { schema: Event })
      .keyBy((e) => e.key)
      .window(tumbling('1m'))
      .aggregate({ n: count() })
      .to('out');
    const plan = preAggregate(definition, [
      kinesisRecordFactory({
        payload: { key: 'a', t: 0, v: 0, user: 'u' },
        arrivalMs: 1_795_687_230_500,
      }),
    ]);
    expect([...plan.partials.values()][0]?.sliceStart).toBe(1_795_687_200_000);
  });

  describe('stateless pipelines', () => {
    const doubled = pipeline('enrich')
      .from('numbers', { schema: z.object({ n: z.number() }) })
      .filter((e) => e.n !== 0)
      .map((e) => ({ n: e.n * 2 }))
      .to('numbers-doubled');

    it('emits mapped records in input order with the input partition keys by default', () => {
      // GIVEN
      const records = [3, 0, 1, 2].map((n) =>
        kinesisRecordFactory({ payload: { n }, partitionKey: `pk${n}` }),
      );

      // WHEN
      const plan = preAggregate(doubled, records);

      // THEN
      expect(plan.outputs.map((o) => [o.data, o.partitionKey])).toEqual([
        ['{"n":6}', 'pk3'],
        ['{"n":2}', 'pk1'],
        ['{"n":4}', 'pk2'],
      ]);
      expect(plan.outputs[0]?.sequenceNumber).toBe(records[0]?.kinesis.sequenceNumber);
    });

    it('uses the partitionKey function with the source record', () => {
      const definition = pipeline('enrich')
        .from('numbers', { schema: z.object({ n: z.number() }) })
        .to('out', { partitionKey: (e, record) => `${record.shardId}/${e.n}` });
      const plan = preAggregate(definition, [kinesisRecordFactory({ payload: { n: 5 } })]);
      expect(plan.outputs[0]?.partitionKey).toBe('shardId-000000000000/5');
    });

    it('fails records whose output cannot be serialized or has a bad partition key', () => {
      const definition = pipeline('enrich')
        .from('numbers', { schema: z.object({ n: z.number() }) })
        .map((e) => (e.n === 1 ? { big: BigInt(1) } : e))
        .to('out', { partitionKey: (e) => ('n' in e && e.n === 2 ? '' : 'ok') });
      const plan = preAggregate(
        definition,
        [1, 2, 3].map((n) => kinesisRecordFactory({ payload: { n } })),
      );
      expect(plan.failures.map((f) => f.reason)).toEqual(['UNSERIALIZABLE', 'BAD_KEY']);
      expect(plan.outputs.map((o) => o.data)).toEqual(['{"n":3}']);
    });
  });
});

describe('preAggregate on event-time extremes (fuzz)', () => {
  const MINUTE = 60_000;
  const ARRIVAL = 1_795_687_200_000;
  /** Event times at and around every guard: the epoch, the end of year 9999, the future skew. */
  const extreme = fc.oneof(
    fc.constantFrom(
      -1e12,
      -1,
      -0,
      0,
      0.5,
      1,
      MAX_EVENT_TIME_MS,
      MAX_EVENT_TIME_MS + 1,
      8.64e15,
      8.64e15 + 1,
      1e17,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      ARRIVAL + 15 * MINUTE,
      ARRIVAL + 15 * MINUTE + 1,
      ARRIVAL + 14 * MINUTE,
      '0000-01-01T00:00:00Z',
      '1969-12-31T23:59:59.999Z',
      '9999-12-31T23:59:59.999Z',
    ),
    fc.double(),
    fc.integer({ min: -2e15, max: 2e15 }),
  );

  it('never throws: every record is placed in a valid slice or refused with its reason', () => {
    const definition = windowedPipeline(tumbling('1m'));
    fc.assert(
      fc.property(fc.array(extreme, { minLength: 1, maxLength: 20 }), (times) => {
        const records = times.map((t, i) =>
          kinesisRecordFactory({
            sequenceNumber: String(1_000 + i),
            payload: { key: 'a', t, v: 1, user: 'u' },
            arrivalMs: ARRIVAL,
          }),
        );
        const plan = preAggregate(definition, records);
        const placed = [...plan.partials.values()].reduce((n, p) => n + p.count, 0);
        expect(placed + plan.failures.length).toBe(records.length);
        for (const f of plan.failures)
          expect(['BAD_EVENT_TIME', 'FUTURE_EVENT_TIME', 'SCHEMA']).toContain(f.reason);
        for (const partial of plan.partials.values()) {
          expect(partial.sliceStart).toBeGreaterThanOrEqual(0);
          expect(partial.sliceEnd).toBeLessThanOrEqual(MAX_EVENT_TIME_MS + MINUTE + 1);
          expect(Number.isNaN(new Date(partial.sliceEnd).getTime())).toBe(false);
        }
        // the shard's clock never runs past the arrival
        for (const clock of plan.maxEventTimeByShard.values())
          expect(clock).toBeLessThanOrEqual(ARRIVAL);
      }),
      { numRuns: 500 },
    );
  });
});
