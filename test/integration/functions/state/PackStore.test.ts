import { createHash } from 'node:crypto';
import { GetItemCommand, QueryCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import {
  type AccSet,
  compareSequences,
  type DynamoDBSender,
  PackStore,
  type PackStoreOptions,
  type RejectedDelta,
  TABLE_KEYS,
  type WindowRef,
} from '#state/index';
import { lanePartition, packPartition } from '#state/keys';
import {
  aggregate,
  deltasOf,
  mergeAccs,
  oracle,
  SLICE_MS,
  seqAt,
  sliceOf,
  type TestRecord,
} from '#test/unit/functions/state/fixtures';
import { useStateTable } from './stateTable';

const table = useStateTable('pack-it');
let pipelines = 0;
const LANE = 'shardId-000000000000';
const tumbling = (start: number) => [{ start, end: start + SLICE_MS }];

function newStore(options: Partial<PackStoreOptions> = {}): PackStore {
  return new PackStore({
    ...table(),
    pipeline: `pk${pipelines++}`,
    merge: mergeAccs,
    sliceMs: SLICE_MS,
    clock: () => 1_000,
    ...options,
  });
}

/** Another instance (a concurrent invocation, or the closer) of `store`'s pipeline. */
function otherInstance(store: PackStore, options: Partial<PackStoreOptions> = {}): PackStore {
  return new PackStore({
    ...table(),
    pipeline: store.pipeline,
    merge: mergeAccs,
    sliceMs: SLICE_MS,
    clock: () => 1_000,
    ...options,
  });
}

/** `count` records of one lane, in sequence order, over 3 keys and `minutes` slices. */
function laneRecords(lane: number, count = 12, minutes = 2): TestRecord[] {
  return Array.from({ length: count }, (_, n) => ({
    lane: `shardId-00000000000${lane}`,
    seq: seqAt(lane, n + 1),
    key: `/page/${n % 3}`,
    ts: (Math.floor(n / 3) % minutes) * SLICE_MS + n * 10,
    value: n + 1,
    id: `${lane}:${n + 1}`,
  }));
}

/** readWindow of every (key, slice) the records touch equals the oracle of the records. */
async function expectState(store: PackStore, records: readonly TestRecord[]): Promise<void> {
  const actual = new Map<string, AccSet>();
  const keys = new Set(records.map((r) => r.key));
  const slices = new Set(records.map((r) => sliceOf(r.ts)));
  for (const key of keys) {
    for (const slice of slices) {
      const contents = await store.readWindow(key, slice, slice + SLICE_MS);
      if (contents !== undefined) actual.set(`${key}|${slice}`, contents.acc);
    }
  }
  expect(actual).toEqual(oracle(records, true));
}

/** The lane's cursor as stored (a strongly consistent GetItem of its row). */
async function storedCursor(store: PackStore, lane: string): Promise<string | undefined> {
  const { client, tableName } = table();
  const out = await client.send(
    new GetItemCommand({
      TableName: tableName,
      Key: {
        [TABLE_KEYS.partitionKey]: { S: lanePartition(store.pipeline) },
        [TABLE_KEYS.sortKey]: { S: lane },
      },
      ConsistentRead: true,
    }),
  );
  return out.Item?.cursor?.S;
}

/** Pack parts stored for one slice (every lane, every commit). */
async function packItems(store: PackStore, sliceStart: number): Promise<number> {
  const { client, tableName } = table();
  const out = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
      ExpressionAttributeValues: { ':pk': { S: packPartition(store.pipeline, sliceStart) } },
      ConsistentRead: true,
    }),
  );
  return out.Count ?? 0;
}

/**
 * The table's client, counting TransactWriteItems; once `crashAfter` transactions committed, the
 * invocation dies (the next one throws after it committed) until `armed` is set false.
 */
function countingClient(crashAfter = Number.POSITIVE_INFINITY) {
  const { client } = table();
  const state = { transactions: 0, armed: true };
  const sender: DynamoDBSender = {
    // biome-ignore lint/suspicious/noExplicitAny: forwards any command
    send: (async (command: any) => {
      const out = await client.send(command);
      if (command instanceof TransactWriteItemsCommand) {
        state.transactions++;
        if (state.armed && state.transactions >= crashAfter) throw new Error('crash: Lambda died');
      }
      return out;
    }) as DynamoDBSender['send'],
  };
  return { sender, state };
}

describe('PackStore batches against DynamoDB Local', () => {
  it('applies the same batch twice and counts it once, cached or not', async () => {
    // GIVEN
    const store = newStore();
    const records = laneRecords(0);
    // WHEN: the batch, the same batch on the same instance, and again on a cold instance
    const first = await store.applyDeltas(deltasOf(records));
    const second = await store.applyDeltas(deltasOf(records));
    const cold = await otherInstance(store).applyDeltas(deltasOf(records));
    // THEN: 6 (key, slice) deltas in one transaction; the replays commit nothing
    expect(first).toMatchObject({ items: 6, applied: 6, sealed: 0, writeRequests: 1 });
    expect(second).toMatchObject({ items: 6, applied: 0, writeRequests: 0 });
    expect(cold).toMatchObject({ items: 6, applied: 0, writeRequests: 0 });
    expect(await storedCursor(store, records[0]?.lane ?? '')).toBe(seqAt(0, 12));
    await expectState(store, records);
  });

  it('counts once a batch two instances apply at the same time, and both return', async () => {
    // GIVEN two instances of one pipeline, each receiving the same batch of two lanes
    const a = newStore();
    const b = otherInstance(a);
    const records = [...laneRecords(1), ...laneRecords(2)];
    // WHEN
    const results = await Promise.all([
      a.applyDeltas(deltasOf(records)),
      b.applyDeltas(deltasOf(records)),
    ]);
    // THEN: each lane's records were committed by exactly one of them
    expect(results).toHaveLength(2);
    expect(results.every((r) => r.rejected.length === 0)).toBe(true);
    await expectState(a, records);
    await expectState(otherInstance(a), records);
  });

  it('recovers from a stale cached cursor: the condition fails, the cursor is read again', async () => {
    // GIVEN: A committed records 1..4 (and caches the cursor at 4); B then committed 1..8
    const a = newStore();
    const b = otherInstance(a);
    const records = laneRecords(3);
    await a.applyDeltas(deltasOf(records.slice(0, 4)));
    await b.applyDeltas(deltasOf(records.slice(0, 8)));
    // WHEN: A gets 1..12
    const result = await a.applyDeltas(deltasOf(records));
    // THEN: A's first transaction lost on the cursor, its second one took exactly 9..12
    expect(result.conflicts).toBeGreaterThan(0);
    expect(result.applied).toBeGreaterThan(0);
    expect(await storedCursor(a, records[0]?.lane ?? '')).toBe(seqAt(3, 12));
    await expectState(a, records);
  });

  it('refuses the deltas of a slice sealed by another instance, reports them before the cursor moves, and counts the others', async () => {
    // GIVEN: batch 1 committed into slices 0 and 1; then a closer seals slice 0
    const store = newStore();
    const closer = otherInstance(store);
    const at = (n: number, key: string, minute: number): TestRecord => ({
      lane: LANE,
      seq: seqAt(0, n),
      key,
      ts: minute * SLICE_MS + n,
      value: n * 10,
      id: `r${n}`,
    });
    const batch1 = [at(1, 'a', 0), at(2, 'b', 1), at(3, 'a', 0)];
    const batch2 = [at(4, 'a', 0), at(5, 'b', 2), at(6, 'b', 0), at(7, 'a', 1)];
    await store.applyDeltas(deltasOf(batch1));
    const sealed = await closer.sealWindow({ key: 'a', start: 0, end: SLICE_MS }, SLICE_MS);
    expect(sealed?.acc).toEqual(aggregate([at(1, 'a', 0), at(3, 'a', 0)], true));
    // WHEN: batch 2, with records in the sealed slice 0 and in slices 1 and 2
    const reports: Array<{ rejected: readonly RejectedDelta[]; cursor: string | undefined }> = [];
    const onRejected = async (rejected: readonly RejectedDelta[]) => {
      reports.push({ rejected, cursor: await storedCursor(store, LANE) });
    };
    const result = await store.applyDeltas(deltasOf(batch2), { onRejected });
    // THEN: slice 0's deltas were reported once, while the cursor was still batch 1's last record
    const expected = ['a', 'b'].map((key) => ({
      key,
      sliceStart: 0,
      sliceEnd: SLICE_MS,
      lane: LANE,
      afterSeq: seqAt(0, 3),
      cause: 'sealed',
    }));
    const byKey = (x: RejectedDelta, y: RejectedDelta) => (x.key < y.key ? -1 : 1);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.cursor).toBe(seqAt(0, 3));
    expect([...(reports[0]?.rejected ?? [])].sort(byKey)).toEqual(expected);
    expect([...result.rejected].sort(byKey)).toEqual(expected);
    expect(result.sealed).toBe(2);
    expect(await storedCursor(store, LANE)).toBe(seqAt(0, 7));
    await expectState(store, [...batch1, at(5, 'b', 2), at(7, 'a', 1)]);
    // WHEN: the whole batch is delivered again (the checkpoint did not move)
    const retry = await otherInstance(store).applyDeltas(deltasOf(batch2), { onRejected });
    // THEN: everything is at or below the cursor: nothing counted twice, nothing reported again
    expect(retry).toMatchObject({ applied: 0, rejected: [] });
    expect(reports).toHaveLength(1);
    await expectState(store, [...batch1, at(5, 'b', 2), at(7, 'a', 1)]);
  });

  it('splits a pack above maxItemBytes into parts, and reads back every key once', async () => {
    // GIVEN: 200 records of 50 keys in one slice, with ids deflate cannot shrink much, and parts
    // of at most 1 KiB
    const store = newStore({ maxItemBytes: 1024 });
    const records: TestRecord[] = Array.from({ length: 200 }, (_, n) => ({
      lane: LANE,
      seq: seqAt(0, n + 1),
      key: `/article/${(n * 7) % 50}/comments`,
      ts: n,
      value: n,
      id: createHash('sha256').update(String(n)).digest('hex'),
    }));
    // WHEN: the batch, then a replay
    const result = await store.applyDeltas(deltasOf(records));
    await store.applyDeltas(deltasOf(records));
    // THEN: several parts, in one transaction; totals per key right
    expect(result).toMatchObject({ items: 50, applied: 50, writeRequests: 1 });
    expect(await packItems(store, 0)).toBeGreaterThan(2);
    await expectState(store, records);
  });

  it('cuts a batch touching more than 100 slices into several transactions, each record counted once', async () => {
    // GIVEN: one lane, 150 records over 150 minutes (one slice each)
    const { sender, state } = countingClient();
    const store = newStore({ client: sender });
    const records = spreadRecords(150);
    // WHEN: the batch, twice
    const first = await store.applyDeltas(deltasOf(records));
    const transactions = state.transactions;
    await store.applyDeltas(deltasOf(records));
    // THEN: at most 100 items (49 slices with their pack) per transaction
    expect(first.rejected).toEqual([]);
    expect(transactions).toBeGreaterThanOrEqual(4);
    expect(state.transactions).toBe(transactions);
    await expectState(store, records);
  });

  it("cuts between any two records, not only at deltas' bounds: 360 records round robin over 120 slices", async () => {
    // GIVEN: one key, record n in slice (n - 1) % 120: every delta spans the whole batch
    const store = newStore();
    const records = Array.from({ length: 360 }, (_, n) => ({
      lane: LANE,
      seq: seqAt(0, n + 1),
      key: 'k',
      ts: (n % 120) * SLICE_MS + n,
      value: n + 1,
      id: `r${n + 1}`,
    }));
    // WHEN
    const result = await store.applyDeltas(deltasOf(records));
    // THEN: nothing refused (no record alone fills a transaction), each counted once
    expect(result.rejected).toEqual([]);
    await expectState(store, records);
  });

  it('never refuses on a stale cached cursor what another instance already counted', async () => {
    // GIVEN: B committed r1 (cursor cached at r1); A committed r1..r3; B then sealed slice 0
    const b = newStore();
    const a = otherInstance(b);
    const record = (n: number, minute: number): TestRecord => ({
      lane: LANE,
      seq: seqAt(0, n),
      key: 'a',
      ts: minute * SLICE_MS + n,
      value: n,
      id: `r${n}`,
    });
    await b.applyDeltas(deltasOf([record(1, 0)]));
    const batch = [record(1, 0), record(2, 0), record(3, 1)];
    await a.applyDeltas(deltasOf(batch));
    const sealed = await b.sealWindow({ key: 'a', start: 0, end: SLICE_MS }, SLICE_MS);
    expect(sealed?.acc.count).toBe(2);
    // WHEN: B gets the batch again (a duplicate delivery)
    const reported: string[] = [];
    const result = await b.applyDeltas(deltasOf(batch), {
      onRejected: async (rejected) => {
        reported.push(...rejected.map((r) => `${r.key}@${r.sliceStart}`));
      },
    });
    // THEN: nothing is reported (r2 is counted in the sealed window), nothing counted twice
    expect(reported).toEqual([]);
    expect(result.rejected).toEqual([]);
    await expectState(b, batch);
  });

  it('absorbs a retried batch exactly once after a crash between its range transactions', async () => {
    // GIVEN: the invocation died right after its first range transaction committed
    const { sender, state } = countingClient(1);
    const store = newStore({ client: sender });
    const records = spreadRecords(150);
    await expect(store.applyDeltas(deltasOf(records))).rejects.toThrow(/crash/);
    const cursor = await storedCursor(store, LANE);
    expect(cursor).toBeDefined();
    expect(compareSequences(cursor ?? '0', seqAt(0, 150))).toBeLessThan(0);
    // WHEN: Lambda retries the whole batch, on the same instance (its cached cursor is stale)
    state.armed = false;
    const retry = await store.applyDeltas(deltasOf(records));
    // THEN: the committed prefix is skipped, the rest committed once
    expect(retry.rejected).toEqual([]);
    expect(await storedCursor(store, LANE)).toBe(seqAt(0, 150));
    await expectState(store, records);
  });
});

/** `count` records of one lane, one per minute, two keys taking turns. */
function spreadRecords(count: number): TestRecord[] {
  return Array.from({ length: count }, (_, n) => ({
    lane: LANE,
    seq: seqAt(0, n + 1),
    key: `k${n % 2}`,
    ts: n * SLICE_MS + 7,
    value: n + 1,
    id: `s${n}`,
  }));
}

describe('PackStore windows against DynamoDB Local', () => {
  /** 3 keys × 3 minutes, from two lanes. */
  const records = [...laneRecords(0, 9, 3), ...laneRecords(1, 9, 3)];

  it('lets exactly one of two racing closers close each window, with every key, and emits it once', async () => {
    // GIVEN: the records committed, and two closers of the pipeline
    const a = newStore();
    const b = otherInstance(a);
    await a.applyDeltas(deltasOf(records));
    // WHEN: both find the due windows and close them at the same time
    const close = async (store: PackStore, closedAt: number) => {
      const due = await store.findDueWindows(3 * SLICE_MS, { windowsOfSlice: tumbling });
      const outcomes = await store.closeWindows(due, closedAt);
      return due.map((ref, i) => ({ ...ref, outcome: outcomes[i] }));
    };
    const [byA, byB] = await Promise.all([close(a, 5_000), close(b, 5_001)]);
    // THEN: per window, one winner, who got 'closed' for every key of it
    const keysOf = (minute: number) =>
      [...oracle(records, true).keys()]
        .filter((id) => id.endsWith(`|${minute * SLICE_MS}`))
        .map((id) => id.split('|')[0])
        .sort();
    for (const minute of [0, 1, 2]) {
      const start = minute * SLICE_MS;
      const won = [byA, byB].map((refs) =>
        refs.filter((r) => r.start === start && r.outcome === 'closed').map((r) => r.key),
      );
      expect(won.filter((keys) => keys.length > 0)).toEqual([keysOf(minute)]);
      const lost = [byA, byB].flatMap((refs) =>
        refs.filter((r) => r.start === start && r.outcome !== 'closed'),
      );
      expect(lost.every((r) => r.outcome === 'already-closed')).toBe(true);
    }
    // WHEN: each winner marks what it closed emitted
    const winnerRefs = (refs: typeof byA): WindowRef[] =>
      refs
        .filter((r) => r.outcome === 'closed')
        .map(({ key, start, end }) => ({ key, start, end }));
    const marked = [
      ...(await a.markWindowsEmitted(winnerRefs(byA), 6_000)),
      ...(await b.markWindowsEmitted(winnerRefs(byB), 6_000)),
    ];
    // THEN: nothing is left to repair, nothing is due, and the windows hold the oracle
    expect(marked.every((m) => m === 'emitted')).toBe(true);
    expect(await a.findClosedNotEmitted(10_000)).toEqual([]);
    expect(await otherInstance(a).findClosedNotEmitted(10_000)).toEqual([]);
    expect(
      await otherInstance(a).findDueWindows(3 * SLICE_MS, { windowsOfSlice: tumbling }),
    ).toEqual([]);
    await expectState(otherInstance(a), records);
  });

  it('finds a window closed but never marked emitted, with every key, once its closing time is reached', async () => {
    // GIVEN: windows of minutes 0 and 1 closed at 5000; only minute 0's marked emitted
    const store = newStore();
    await store.applyDeltas(deltasOf(records));
    const due = await store.findDueWindows(2 * SLICE_MS, { windowsOfSlice: tumbling });
    expect(new Set(due.map((w) => w.start))).toEqual(new Set([0, SLICE_MS]));
    expect(await store.closeWindows(due, 5_000)).toEqual(due.map(() => 'closed'));
    await store.markWindowsEmitted(
      due.filter((w) => w.start === 0),
      5_500,
    );
    // WHEN: a sweeper (another instance) looks for closed windows before and at 5000
    const sweeper = otherInstance(store);
    const early = await sweeper.findClosedNotEmitted(4_999);
    const found = await sweeper.findClosedNotEmitted(5_000);
    // THEN: minute 1's window with each of its keys, and its contents are the oracle's
    expect(early).toEqual([]);
    expect(found).toEqual(
      ['/page/0', '/page/1', '/page/2'].map((key) => ({
        key,
        start: SLICE_MS,
        end: 2 * SLICE_MS,
        closedAt: 5_000,
      })),
    );
    const expected = oracle(records, true);
    for (const ref of found) {
      const contents = await sweeper.readWindow(ref.key, ref.start, ref.end);
      expect(contents?.acc).toEqual(expected.get(`${ref.key}|${ref.start}`));
    }
    await expectState(sweeper, records);
  });
});
