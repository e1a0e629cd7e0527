import { PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { type AccSet, type OpenShard, type OpenShardLister, WindowStore } from '#state/index';
import { playTtl } from '#test/helpers/playTtl';
import {
  ADDITIVE,
  deltasOf,
  mergeAccs,
  oracle,
  SLICE_MS,
  seqAt,
  sliceOf,
  type TestRecord,
} from '#test/unit/functions/state/fixtures';
import { createStateTable, useStateTable } from './stateTable';

const table = useStateTable('state-it');
let pipelines = 0;

function newStore(
  withIds: boolean,
  options: { windowSizeMs?: number; groupWrites?: boolean } = {},
): WindowStore {
  return new WindowStore({
    ...table(),
    pipeline: `it${pipelines++}${withIds ? 'm' : 'a'}`,
    merge: mergeAccs,
    additive: ADDITIVE,
    ...options,
  });
}

/** Another instance (a concurrent invocation) of `store`'s pipeline, on the same table. */
function otherInstance(store: WindowStore): WindowStore {
  return new WindowStore({
    ...table(),
    pipeline: store.pipeline,
    merge: mergeAccs,
    additive: ADDITIVE,
  });
}

/** 3 keys × 2 slices from one lane, 12 records in sequence order. */
function laneRecords(lane: number, count = 12): TestRecord[] {
  return Array.from({ length: count }, (_, n) => ({
    lane: `shardId-00000000000${lane}`,
    seq: seqAt(lane, n + 1),
    key: `/page/${n % 3}`,
    ts: (n % 2) * SLICE_MS + n * 1_000,
    value: n + 1,
    id: `${lane}:${n + 1}`,
  }));
}

async function expectState(
  store: WindowStore,
  records: readonly TestRecord[],
  withIds: boolean,
): Promise<void> {
  const expected = oracle(records, withIds);
  const actual = new Map<string, AccSet>();
  const keys = new Set(records.map((r) => r.key));
  const slices = new Set(records.map((r) => sliceOf(r.ts)));
  for (const key of keys) {
    for (const slice of slices) {
      const contents = await store.readWindow(key, slice, slice + SLICE_MS);
      if (contents !== undefined) actual.set(`${key}|${slice}`, contents.acc);
    }
  }
  expect(actual).toEqual(expected);
}

describe.each([
  ['additive (ADD fast path)', false],
  ['non-additive (read-merge-write on version)', true],
])('WindowStore against DynamoDB Local: %s', (_name, withIds) => {
  it('applies the same deltas twice and changes nothing the second time', async () => {
    // GIVEN
    const store = newStore(withIds);
    const records = laneRecords(0);
    const deltas = deltasOf(records, withIds);
    // WHEN: first delivery (state + watermark), then the same batch again
    const before = store.stats.writeRequests;
    const first = await store.applyDeltas(deltas);
    await store.updateShardWatermark('shardId-000000000000', 20_000, 1_000);
    const firstWrites = store.stats.writeRequests - before;
    const second = await store.applyDeltas(deltas);
    // THEN: the 6 touched (key, slice) items in one TransactWriteItems, then the watermark
    expect(first).toMatchObject({ items: 6, applied: 6, skipped: 0, writeRequests: 1 });
    expect(firstWrites).toBe(2);
    expect(second).toMatchObject({ items: 6, applied: 0, skipped: 6 });
    await expectState(store, records, withIds);
  });

  it('writes item by item with groupWrites: false, to the same state', async () => {
    // GIVEN the same batch for a grouping store and a store writing item by item
    const records = laneRecords(0);
    const grouped = newStore(withIds);
    const single = newStore(withIds, { groupWrites: false });
    // WHEN each absorbs it, twice
    const g = await grouped.applyDeltas(deltasOf(records, withIds));
    const s1 = await single.applyDeltas(deltasOf(records, withIds));
    const s2 = await single.applyDeltas(deltasOf(records, withIds));
    // THEN: one request against one per item (DynamoDB bills a transaction's items double;
    // DynamoDB Local reports 2 units per item whatever its size, so capacity is not compared)
    expect(g).toMatchObject({ items: 6, applied: 6, writeRequests: 1 });
    expect(s1).toMatchObject({ items: 6, applied: 6, writeRequests: 6 });
    expect(s2).toMatchObject({ items: 6, applied: 0, skipped: 6 });
    await expectState(grouped, records, withIds);
    await expectState(single, records, withIds);
  });

  it('falls back to item-by-item writes when a group does not apply whole, and absorbs each record once', async () => {
    // GIVEN two instances of one pipeline: A absorbed half of lane 0, then B wrote lane 1 into
    // the same items (A's cached images are stale, and lane 0's fences are set)
    const a = newStore(withIds);
    const b = otherInstance(a);
    const lane0 = laneRecords(0);
    const lane1 = laneRecords(1);
    await a.applyDeltas(deltasOf(lane0.slice(0, 5), withIds));
    await b.applyDeltas(deltasOf(lane1, withIds));
    // WHEN A gets all of lane 0 (a retry overlapping what it wrote): its group's conditions fail
    const result = await a.applyDeltas(deltasOf(lane0, withIds));
    // THEN each item takes its own path and every record counts once
    expect(result).toMatchObject({ items: 6, applied: 6, sealed: 0 });
    expect(result.conflicts).toBeGreaterThan(0);
    expect(result.writeRequests).toBeGreaterThan(6);
    await expectState(a, [...lane0, ...lane1], withIds);
  });

  it('absorbs a retried batch exactly once after a crash between item writes', async () => {
    // GIVEN: the first invocation wrote 2 of 6 items, then crashed
    const store = newStore(withIds);
    const records = laneRecords(1);
    const deltas = deltasOf(records, withIds);
    await store.applyDeltas(deltas.filter((_, i) => i === 1 || i === 4));
    // WHEN: Lambda retries the whole batch
    const retry = await store.applyDeltas(deltas);
    // THEN
    expect(retry).toMatchObject({ applied: 4, skipped: 2 });
    await expectState(store, records, withIds);
  });

  it('absorbs a bisected retry exactly once', async () => {
    // GIVEN: a crash after some writes, then Lambda splits the batch in halves
    const store = newStore(withIds);
    const records = laneRecords(2);
    await store.applyDeltas(deltasOf(records, withIds).slice(0, 3));
    // WHEN
    await store.applyDeltas(deltasOf(records.slice(0, 6), withIds));
    await store.applyDeltas(deltasOf(records.slice(6), withIds));
    // THEN
    await expectState(store, records, withIds);
  });

  it('absorbs a partial replay from a middle sequence number exactly once', async () => {
    // GIVEN: the whole batch was committed, then the handler reported a failure at record 5
    const store = newStore(withIds);
    const records = laneRecords(3);
    await store.applyDeltas(deltasOf(records.slice(0, 8), withIds));
    // WHEN: Lambda resumes from record 5, and the next batch reaches further
    const replay = await store.applyDeltas(deltasOf(records.slice(4), withIds));
    // THEN
    expect(replay.applied).toBeGreaterThan(0);
    await expectState(store, records, withIds);
  });

  it('absorbs duplicate concurrent invocations and concurrent lanes exactly once', async () => {
    // GIVEN: two lanes writing the same keys and slices, each batch delivered twice at once
    const store = newStore(withIds);
    const a = laneRecords(4);
    const b = laneRecords(5);
    // WHEN
    await Promise.all([
      store.applyDeltas(deltasOf(a, withIds)),
      store.applyDeltas(deltasOf(a, withIds)),
      store.applyDeltas(deltasOf(b, withIds)),
      store.applyDeltas(deltasOf(b, withIds)),
    ]);
    // THEN
    await expectState(store, [...a, ...b], withIds);
  });
});

describe('WindowStore windows against DynamoDB Local', () => {
  const tumbling = (start: number) => [{ start, end: start + SLICE_MS }];

  it('lets exactly one of two concurrent closers win, and records emission once', async () => {
    // GIVEN
    const store = newStore(false);
    const window = { key: '/home', start: 0, end: SLICE_MS };
    // WHEN
    const outcomes = await Promise.all([
      store.closeWindow(window, 1_000),
      store.closeWindow(window, 1_001),
    ]);
    // THEN
    expect(outcomes.sort()).toEqual(['already-closed', 'closed']);
    expect(await store.findClosedNotEmitted(2_000)).toEqual([expect.objectContaining(window)]);
    expect(await store.markEmitted(window, 1_500)).toBe('emitted');
    expect(await store.markEmitted(window, 1_600)).toBe('already-emitted');
    expect(await store.closeWindow(window, 1_700)).toBe('already-closed');
    expect(await store.findClosedNotEmitted(2_000)).toEqual([]);
  });

  it('closes overlapping sets of windows from two closers at once, each window exactly once', async () => {
    // GIVEN two instances of one pipeline due to close overlapping sets of windows
    const a = newStore(false);
    const b = otherInstance(a);
    const windows = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'].map((key) => ({
      key,
      start: 0,
      end: SLICE_MS,
    }));
    // WHEN each closes its set in grouped writes, at the same time
    const [byA, byB] = await Promise.all([
      a.closeWindows(windows.slice(0, 4), 1_000),
      b.closeWindows(windows.slice(2), 1_001),
    ]);
    // THEN every window has exactly one winner, and marking them emitted in one call works once
    const wins = windows.map(
      (_, i) =>
        (i < 4 && byA[i] === 'closed' ? 1 : 0) + (i >= 2 && byB[i - 2] === 'closed' ? 1 : 0),
    );
    expect(wins).toEqual([1, 1, 1, 1, 1, 1]);
    expect(await a.markWindowsEmitted(windows, 1_500)).toEqual(windows.map(() => 'emitted'));
    expect(await b.markWindowsEmitted(windows.slice(0, 2), 1_600)).toEqual([
      'already-emitted',
      'already-emitted',
    ]);
    expect(await a.findClosedNotEmitted(2_000)).toEqual([]);
  });

  it('seals windows in grouped writes, and re-seals one whose slice was written after the read', async () => {
    // GIVEN 3 keys with a slice each, and a writer that lands a record on key 'b' between the
    // sealer's read and its grouped seal
    const records: TestRecord[] = ['a', 'b', 'c'].map((key, i) => ({
      lane: 's',
      seq: String(i + 1),
      key,
      ts: 1_000,
      value: i + 1,
      id: `r${i}`,
    }));
    const late: TestRecord = { lane: 's', seq: '9', key: 'b', ts: 2_000, value: 50, id: 'late' };
    const { client, tableName } = table();
    const writer = newStore(false);
    let interleaved = false;
    const racing = {
      // biome-ignore lint/suspicious/noExplicitAny: forwards any command
      send: async (command: any) => {
        if (!interleaved && command instanceof TransactWriteItemsCommand) {
          interleaved = true;
          await writer.applyDeltas(deltasOf([late], false));
        }
        return client.send(command);
      },
    };
    const sealer = new WindowStore({
      client: racing,
      tableName,
      pipeline: writer.pipeline,
      merge: mergeAccs,
      additive: ADDITIVE,
    });
    await writer.applyDeltas(deltasOf(records, false));
    const windows = ['a', 'b', 'c'].map((key) => ({ key, start: 0, end: SLICE_MS }));
    // WHEN the windows are sealed together
    const contents = await sealer.sealWindows(windows, SLICE_MS);
    // THEN the interleaved record is in b's result (it landed before b's seal), the others are as
    // read, and no write reaches a sealed slice any more
    expect(interleaved).toBe(true);
    expect(contents.map((c) => c?.acc)).toEqual([
      { count: 1, sum: 1 },
      { count: 2, sum: 52 },
      { count: 1, sum: 3 },
    ]);
    const after = await writer.applyDeltas(
      deltasOf([{ ...late, seq: '10', id: 'later', key: 'a' }], false),
    );
    expect(after.sealed).toBe(1);
  });

  it('does not read again the status of a window it knows closed', async () => {
    // GIVEN a slice in two hopping windows (2 min every 1 min), the first one closed by `store`
    const store = newStore(false);
    const other = otherInstance(store);
    await store.applyDeltas(
      deltasOf([{ lane: 's', seq: '1', key: 'k', ts: SLICE_MS, value: 1, id: 'a' }], false),
    );
    const windowsOfSlice = (s: number) => [
      { start: s - SLICE_MS, end: s + SLICE_MS },
      { start: s, end: s + 2 * SLICE_MS },
    ];
    const first = await store.findDueWindows(2 * SLICE_MS, { windowsOfSlice });
    expect(first).toEqual([{ key: 'k', start: 0, end: 2 * SLICE_MS }]);
    await store.closeWindows(first, 1);
    // WHEN both instances look for due windows again (the slice stays in the index)
    const reads = async (s: WindowStore) => {
      const before = s.stats.readRequests;
      const due = await s.findDueWindows(2 * SLICE_MS + 1, { windowsOfSlice });
      return { due, reads: s.stats.readRequests - before };
    };
    const known = await reads(store);
    const fresh = await reads(other);
    // THEN both find nothing due; the closer skips the status read the other instance makes
    expect(known.due).toEqual([]);
    expect(fresh.due).toEqual([]);
    expect(known.reads).toBe(fresh.reads - 1);
  });

  it('fails to mark a window emitted that was never closed', async () => {
    const store = newStore(false);
    await expect(store.markEmitted({ key: 'k', start: 0, end: SLICE_MS }, 1)).rejects.toThrow(
      /OPEN, not CLOSED/,
    );
  });

  it('finds due windows through the index and forgets slices whose windows are closed', async () => {
    // GIVEN: slices at minutes 0, 1, 2 for two keys
    const store = newStore(false);
    const records: TestRecord[] = [0, 1, 2].flatMap((minute) =>
      ['a', 'b'].map((key, i) => ({
        lane: 's',
        seq: String(minute * 10 + i + 1),
        key,
        ts: minute * SLICE_MS,
        value: 1,
        id: `${minute}${key}`,
      })),
    );
    await store.applyDeltas(deltasOf(records, false));
    // WHEN: watermark at the end of minute 2 (window [2m, 3m) not due yet)
    const due = await store.findDueWindows(2 * SLICE_MS, { windowsOfSlice: tumbling });
    // THEN
    expect(due).toEqual([
      { key: 'a', start: 0, end: SLICE_MS },
      { key: 'b', start: 0, end: SLICE_MS },
      { key: 'a', start: SLICE_MS, end: 2 * SLICE_MS },
      { key: 'b', start: SLICE_MS, end: 2 * SLICE_MS },
    ]);
    // WHEN: two are closed
    await store.closeWindow({ key: 'a', start: 0, end: SLICE_MS }, 1);
    await store.closeWindow({ key: 'b', start: 0, end: SLICE_MS }, 1);
    const before = store.stats.writeRequests;
    const next = await store.findDueWindows(2 * SLICE_MS, { windowsOfSlice: tumbling });
    // THEN: they are gone, and their slices left the index (2 housekeeping writes), once
    expect(next.map((w) => w.start)).toEqual([SLICE_MS, SLICE_MS]);
    expect(store.stats.writeRequests - before).toBe(2);
    const again = store.stats.writeRequests;
    await store.findDueWindows(2 * SLICE_MS, { windowsOfSlice: tumbling });
    expect(store.stats.writeRequests).toBe(again);
  });

  it('lists only its own items from the due and repair index, whatever another pipeline writes into it', async () => {
    // GIVEN: pipeline `other` (its role may write only `other#…` partitions, but any gsi1pk value)
    // lists one of its items under this pipeline's due and repair index partitions
    const store = newStore(false);
    const other = newStore(false);
    const { client, tableName } = table();
    for (const [sk, gsi1pk, gsi1sk] of [
      ['S#0000000000000000', `${store.pipeline}#due#0`, '0000000000060000'],
      ['W#0000000000000000#0000000000060000', `${store.pipeline}#closed#0`, '0000000000000001'],
    ] as const) {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            pk: { S: `${other.pipeline}#K#x` },
            sk: { S: sk },
            gsi1pk: { S: gsi1pk },
            gsi1sk: { S: gsi1sk },
            key: { S: 'x' },
            sliceStart: { N: '0' },
            sliceEnd: { N: String(SLICE_MS) },
            windowStart: { N: '0' },
            windowEnd: { N: String(SLICE_MS) },
            status: { S: 'CLOSED' },
            expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3_600) },
          },
        }),
      );
    }
    // WHEN: this pipeline's sweeper reads its index
    const due = await store.findDueWindows(10 * SLICE_MS, { windowsOfSlice: tumbling });
    const closed = await store.findClosedNotEmitted(10 * SLICE_MS);
    // THEN: nothing of `other` comes out
    expect(due).toEqual([]);
    expect(closed).toEqual([]);
  });

  it('maps slices to hopping windows and merges slices when reading a window', async () => {
    // GIVEN: hopping 3m / 1m, one record per minute 0..3 for one key
    const store = newStore(true, { windowSizeMs: 3 * SLICE_MS });
    const hopping = (sliceStart: number) =>
      [0, 1, 2]
        .map((k) => ({
          start: sliceStart - k * SLICE_MS,
          end: sliceStart - k * SLICE_MS + 3 * SLICE_MS,
        }))
        .filter((w) => w.start >= 0);
    const records: TestRecord[] = [0, 1, 2, 3].map((m) => ({
      lane: 's',
      seq: String(m + 1),
      key: 'k',
      ts: m * SLICE_MS + 5,
      value: m + 1,
      id: `r${m}`,
    }));
    await store.applyDeltas(deltasOf(records, true));
    // WHEN
    const due = await store.findDueWindows(4 * SLICE_MS, { windowsOfSlice: hopping });
    const contents = await store.readWindow('k', SLICE_MS, 4 * SLICE_MS);
    // THEN
    expect(due).toEqual([
      { key: 'k', start: 0, end: 3 * SLICE_MS },
      { key: 'k', start: SLICE_MS, end: 4 * SLICE_MS },
    ]);
    expect(contents?.acc).toEqual({
      count: 3,
      sum: 9,
      maxIds: { max: 4, ids: ['r1', 'r2', 'r3'] },
    });
    expect(contents?.slices).toHaveLength(3);
  });
});

describe('WindowStore TTL against DynamoDB Local', () => {
  it('keeps the state of a replay of month-old events until its windows are emitted', async () => {
    // GIVEN: a backfill processed at WRITTEN of events from a month before. TTL on event time
    // alone (end + lateness + 7 days retention) would be three weeks past already. The store's
    // clock is pinned, its table has TTL off, and TTL is played at simulated times.
    const DAY = 86_400_000;
    const WRITTEN = Date.UTC(2026, 10, 26, 10, 0, 0);
    let now = WRITTEN;
    const { client } = table();
    const tableName = await createStateTable(client, 'state-ttl');
    const store = new WindowStore({
      client,
      tableName,
      pipeline: 'ttl-replay',
      merge: mergeAccs,
      additive: ADDITIVE,
      clock: () => now,
    });
    const base = sliceOf(WRITTEN - 30 * DAY);
    const records = laneRecords(6).map((r) => ({ ...r, ts: base + r.ts }));
    await store.applyDeltas(deltasOf(records, false));
    // WHEN: TTL runs right after the writes, and six days later, the windows still open
    // THEN: it deletes nothing; every slice is there, whole
    expect(await playTtl(client, tableName, WRITTEN + 1_000)).toEqual({ count: 0, keys: [] });
    await expectState(store, records, false);
    expect(await playTtl(client, tableName, WRITTEN + 6 * DAY)).toEqual({ count: 0, keys: [] });
    await expectState(store, records, false);
    // WHEN: the windows close then and are emitted
    now = WRITTEN + 6 * DAY;
    const windows = [...oracle(records, false).keys()].map((id) => {
      const [key = '', start = ''] = id.split('|');
      return { key, start: Number(start), end: Number(start) + SLICE_MS };
    });
    expect(windows).toHaveLength(6);
    for (const window of windows) {
      expect(await store.closeWindow(window, now)).toBe('closed');
      // THEN: each result is the whole window
      expect((await store.sealWindow(window, SLICE_MS))?.acc).toEqual(
        oracle(records, false).get(`${window.key}|${window.start}`),
      );
      expect(await store.markEmitted(window, now)).toBe('emitted');
    }
    // WHEN: TTL runs more than the 7 days of retention after the last write (the emission)
    // THEN: the replay's state is all gone: it was kept until emitted, not forever
    const expired = await playTtl(client, tableName, WRITTEN + 14 * DAY);
    expect(expired.count).toBe(12); // 6 slices and 6 window status items
    for (const window of windows) {
      expect(await store.readWindow(window.key, window.start, window.end)).toBeUndefined();
    }
  });
});

describe('WindowStore watermarks against DynamoDB Local', () => {
  const opts = { maxOutOfOrderness: 1_000, idleTimeout: 60_000 };

  it('keeps each shard watermark monotonic and refreshes processing time', async () => {
    const store = newStore(false);
    expect(await store.updateShardWatermark('s1', 10_000, 100)).toBe('advanced');
    expect(await store.updateShardWatermark('s1', 5_000, 200)).toBe('refreshed');
    expect(await store.updateShardWatermark('s1', 5_000, 150)).toBe('unchanged');
    const wm = await store.readWatermark({ ...opts, now: 300 });
    expect(wm).toMatchObject({ watermark: 9_000, mode: 'event-time' });
    expect(wm.shards[0]).toMatchObject({
      shardId: 's1',
      maxEventTime: 10_000,
      processedAt: 200,
      idle: false,
    });
  });

  it('takes the minimum over active shards and ignores idle and retired ones', async () => {
    const store = newStore(false);
    await store.updateShardWatermark('s1', 100_000, 1_000_000);
    await store.updateShardWatermark('s2', 50_000, 1_000_000);
    await store.updateShardWatermark('s3', 10_000, 900_000); // idle at now = 1_000_000
    expect(await store.readWatermark({ ...opts, now: 1_000_000 })).toMatchObject({
      watermark: 49_000,
      mode: 'event-time',
    });
    await store.retireShard('s2', 1_000_000);
    expect(await store.readWatermark({ ...opts, now: 1_000_000 })).toMatchObject({
      watermark: 99_000,
    });
  });

  it('advances by processing time when every shard is idle, and never below the committed watermark', async () => {
    // GIVEN: last events seen at processing time 1_000_000
    const store = newStore(false);
    await store.updateShardWatermark('s1', 100_000, 1_000_000);
    await store.updateShardWatermark('s2', 40_000, 990_000);
    // WHEN: 90 s later, both idle
    const idle = await store.readWatermark({ ...opts, now: 1_090_000 });
    // THEN: the furthest shard's event clock kept running with the wall clock
    expect(idle).toMatchObject({ watermark: 100_000 + 90_000 - 1_000, mode: 'processing-time' });
    expect(await store.commitWatermark(idle.watermark as number, 1_090_000)).toBe(true);
    expect(await store.commitWatermark(150_000, 1_090_001)).toBe(false);
    // WHEN: s2 comes back with old event time
    await store.updateShardWatermark('s2', 45_000, 1_095_000);
    // THEN: the committed watermark holds
    expect(await store.readWatermark({ ...opts, now: 1_095_000 })).toMatchObject({
      watermark: 189_000,
      committed: 189_000,
    });
  });

  it('counts a silent shard idle only when the tail probe says it is caught up', async () => {
    // GIVEN: s1 active; s2 silent for 100 s at sequence number 42 of its stream
    const store = newStore(false);
    const streamArn = 'arn:aws:kinesis:us-east-1:000000000000:stream/clicks';
    await store.updateShardWatermark('s1', 100_000, 1_000_000, { streamArn, sequenceNumber: '7' });
    await store.updateShardWatermark('s2', 40_000, 900_000, { streamArn, sequenceNumber: '42' });
    const asked: unknown[] = [];
    const errors: string[] = [];
    const read = (answer: () => Promise<boolean>) =>
      store.readWatermark({
        ...opts,
        now: 1_000_000,
        tailProbe: async (position) => {
          asked.push(position);
          return answer();
        },
        onProbeError: (shardId) => errors.push(shardId),
      });
    // WHEN: the stream still holds records after 42 — s2 is backlogged, not idle
    expect(await read(async () => false)).toMatchObject({ watermark: 39_000, mode: 'event-time' });
    // THEN: only the silent shard was asked about, at its stored position
    expect(asked).toEqual([
      // freshSince: a record that arrived in the last PROBE_FRESHNESS_MS (5 s) still counts as
      // unread, whatever the stored position says (a put racing the probe)
      { shardId: 's2', streamArn, sequenceNumber: '42', freshSince: 1_000_000 - 5_000 },
    ]);
    // WHEN: the probe fails — s2 keeps holding the watermark back, and the error is reported
    expect(
      await read(async () => {
        throw new Error('throttled');
      }),
    ).toMatchObject({ watermark: 39_000 });
    expect(errors).toEqual(['s2']);
    // WHEN: s2 is caught up — it stops holding the watermark back
    expect(await read(async () => true)).toMatchObject({ watermark: 99_000, mode: 'event-time' });
  });

  it('holds the watermark for an open shard that has not reported while it holds records', async () => {
    // GIVEN: s1 reported event time 100 s; its stream also has s2, which has not reported yet
    const store = newStore(false);
    const streamArn = 'arn:aws:kinesis:us-east-1:000000000000:stream/clicks';
    await store.updateShardWatermark('s1', 100_000, 1_000_000, { streamArn, sequenceNumber: '7' });
    const asked: unknown[] = [];
    const errors: string[] = [];
    const open = async () => [
      { shardId: 's1', parents: [] },
      { shardId: 's2', parents: [] },
    ];
    const read = (hasRecords: boolean, openShards: OpenShardLister = open, readsFromStart = true) =>
      store.readWatermark({
        ...opts,
        now: 1_000_000,
        openShards,
        readsFromStart,
        tailProbe: async (position) => {
          asked.push(position);
          return !hasRecords;
        },
        onProbeError: (id) => errors.push(id),
      });
    // WHEN: s2 holds records (its first batch is still coming)
    // THEN: no watermark yet — closing windows now would refuse s2's first records as LATE
    expect(await read(true)).toMatchObject({ watermark: undefined, mode: 'none' });
    expect(asked).toEqual([{ shardId: 's2', streamArn, sequenceNumber: undefined }]);
    // WHEN: the mappings start at LATEST — s2's records never come, only a child of s1 is waited for
    expect(await read(true, open, false)).toMatchObject({ watermark: 99_000 });
    const child = async () => [
      { shardId: 's1', parents: [] },
      { shardId: 's3', parents: ['s1'] },
    ];
    expect(await read(true, child, false)).toMatchObject({ watermark: undefined });
    // WHEN: s2 is empty — it does not hold the watermark back
    expect(await read(false)).toMatchObject({ watermark: 99_000, mode: 'event-time' });
    // WHEN: the shards cannot be listed — only the shards that reported count, and it is reported
    const failing = async (): Promise<OpenShard[]> => {
      throw new Error('AccessDenied');
    };
    expect(await read(true, failing)).toMatchObject({ watermark: 99_000 });
    expect(errors).toEqual([streamArn]);
    // WHEN: a watermark was committed — it never goes back, even while s2 holds it
    await store.commitWatermark(50_000, 1_000_000);
    expect(await read(true)).toMatchObject({ watermark: 50_000 });
  });
});
