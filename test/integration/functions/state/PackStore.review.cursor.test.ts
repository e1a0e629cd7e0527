import { createHash } from 'node:crypto';
import { type AccSet, PackStore, type PackStoreOptions, type RejectedDelta } from '#state/index';
import {
  deltasOf,
  mergeAccs,
  oracle,
  SLICE_MS,
  seqAt,
  sliceOf,
  type TestRecord,
} from '#test/unit/functions/state/fixtures';
import { useStateTable } from './stateTable';

/**
 * What an adversarial review of the lane packs layout (PackStore) found: each test failed before
 * its fix, on a guarantee of docs/architecture.md "Lane packs: the exactly-once argument".
 */

const table = useStateTable('pack-review');
let pipelines = 0;
const LANE = 'shardId-000000000000';

function newStore(options: Partial<PackStoreOptions> = {}): PackStore {
  return new PackStore({
    ...table(),
    pipeline: `rv${pipelines++}`,
    merge: mergeAccs,
    sliceMs: SLICE_MS,
    clock: () => 1_000,
    ...options,
  });
}

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

/** Every (key, slice) of `records` as a fresh instance reads it, against the oracle. */
async function expectState(store: PackStore, records: readonly TestRecord[]): Promise<void> {
  const reader = otherInstance(store);
  const actual = new Map<string, AccSet>();
  for (const key of new Set(records.map((r) => r.key))) {
    for (const slice of new Set(records.map((r) => sliceOf(r.ts)))) {
      const contents = await reader.readWindow(key, slice, slice + SLICE_MS);
      if (contents !== undefined) actual.set(`${key}|${slice}`, contents.acc);
    }
  }
  expect(actual).toEqual(oracle(records, true));
}

/** Ids of the records a refusal names (lane records above `afterSeq` in the refused deltas). */
function refusedIds(batch: readonly TestRecord[], rejected: readonly RejectedDelta[]): string[] {
  return batch
    .filter((r) =>
      rejected.some(
        (x) =>
          x.key === r.key &&
          x.sliceStart === sliceOf(r.ts) &&
          x.lane === r.lane &&
          (x.afterSeq === undefined || BigInt(r.seq) > BigInt(x.afterSeq)) &&
          (x.uptoSeq === undefined || BigInt(r.seq) <= BigInt(x.uptoSeq)),
      ),
    )
    .map((r) => r.id)
    .sort();
}

describe('PackStore adversarial review', () => {
  it('cuts a key too large for one item in a batch, never refuses it: a bisected retry cannot count what was reported', async () => {
    // GIVEN key 'big' with 40 records in slice 0 whose ids do not compress, parts of at most 1 KiB
    const store = newStore({ maxItemBytes: 1024 });
    const records: TestRecord[] = Array.from({ length: 40 }, (_, i) => ({
      lane: LANE,
      seq: seqAt(0, i + 1),
      key: 'big',
      ts: i,
      value: i,
      id: createHash('sha256').update(String(i)).digest('hex'),
    }));
    // WHEN the whole batch is applied (a refusal here would depend on the batch's contents, and a
    // bisected retry of a smaller batch would count what was reported)
    const reported: RejectedDelta[] = [];
    await store.applyDeltas(deltasOf(records), {
      onRejected: async (rejected) => {
        reported.push(...rejected);
      },
    });
    // THEN each record fits alone: nothing is refused, everything is counted once
    expect(reported).toEqual([]);
    await expectState(store, records);
  });

  it('refuses only the record too large for a transaction, not the records sharing a (key, slice) with it', async () => {
    // GIVEN record 1 whose elements (flatMap) land in 60 slices — alone more than a transaction —
    // and records 2..61, one per slice, each small
    const store = newStore();
    const big: TestRecord[] = Array.from({ length: 60 }, (_, m) => ({
      lane: LANE,
      seq: seqAt(0, 1),
      key: 'k',
      ts: m * SLICE_MS,
      value: 1,
      id: `big-${m}`,
    }));
    const small: TestRecord[] = Array.from({ length: 60 }, (_, m) => ({
      lane: LANE,
      seq: seqAt(0, m + 2),
      key: 'k',
      ts: m * SLICE_MS + 1,
      value: 2,
      id: `small-${m}`,
    }));
    // WHEN
    const reported: RejectedDelta[] = [];
    await store.applyDeltas(deltasOf([...big, ...small]), {
      onRejected: async (rejected) => {
        reported.push(...rejected);
      },
    });
    // THEN only record 1 is refused; records 2..61 (each fits) are counted
    const refusedSmall = refusedIds(small, reported);
    expect(refusedSmall).toEqual([]);
    expect(refusedIds(big, reported)).toEqual(big.map((r) => r.id).sort());
    await expectState(store, small);
  });

  it("loses nothing when a lane's sequence numbers carry leading zeros", async () => {
    // GIVEN batch 1: records "9" (key a) and "0010" (key b) — the same numbers as 9 and 10
    const store = newStore();
    const rec = (seq: string, key: string, n: number): TestRecord => ({
      lane: LANE,
      seq,
      key,
      ts: 5,
      value: n,
      id: `z${n}`,
    });
    const batch1 = [rec('9', 'a', 1), rec('0010', 'b', 2)];
    await store.applyDeltas(deltasOf(batch1));
    // WHEN batch 2 brings record 11
    const batch2 = [rec('11', 'c', 3)];
    const result = await otherInstance(store).applyDeltas(deltasOf(batch2));
    // THEN record 11 is either counted or reported
    expect({ applied: result.applied, rejected: result.rejected.length }).toEqual({
      applied: 1,
      rejected: 0,
    });
  });
});
