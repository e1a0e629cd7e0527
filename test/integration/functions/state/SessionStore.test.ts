import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { type AccSet, type SessionDelta, SessionStore } from '#state/index';
import { useStateTable } from './stateTable';

const GAP = 1_000;
const table = useStateTable('sessions-it', 180_000);
let pipelines = 0;

const newStore = (): SessionStore =>
  new SessionStore({
    ...table(),
    pipeline: `sit${pipelines++}`,
    gapMs: GAP,
    merge: (a: AccSet, b: AccSet) => ({ n: (a.n as number) + (b.n as number) }),
    dueBuckets: 1,
  });

/** A delta of one lane: elements (sequence number, time) counted per session. */
const delta = (key: string, lane: string, elements: Array<[number, number]>): SessionDelta => ({
  key,
  elements: elements.map(([seq, time]) => ({ lane, sequenceNumber: String(seq), time })),
  sessionsOf: (indices) => {
    const times = indices.map((i) => (elements[i] as [number, number])[1]).sort((a, b) => a - b);
    const out: Array<{ start: number; end: number; acc: AccSet }> = [];
    for (const t of times) {
      const last = out[out.length - 1];
      if (last !== undefined && t <= last.end) {
        last.end = Math.max(last.end, t + GAP);
        last.acc = { n: (last.acc.n as number) + 1 };
      } else out.push({ start: t, end: t + GAP, acc: { n: 1 } });
    }
    return out;
  },
});

async function items(store: SessionStore, key: string) {
  const { client, tableName } = table();
  const out = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `${store.pipeline}#K#${key}` } },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

describe('SessionStore against DynamoDB Local', () => {
  it('merges concurrent lanes of one key exactly once, with TTL on every item', async () => {
    // GIVEN two lanes feeding user u1 with interleaved times, 3 batches each
    const store = newStore();
    const lane = (name: string, offset: number) =>
      [0, 1, 2].map((b) =>
        delta(
          'u1',
          name,
          [0, 1].map((i) => [b * 2 + i + 1, offset + (b * 2 + i) * 900] as [number, number]),
        ),
      );
    const a = lane('s0', 0);
    const b = lane('s1', 450);

    // WHEN both lanes apply concurrently, and each batch is applied twice
    await Promise.all([
      (async () => {
        for (const d of a) await Promise.all([store.applySessions([d]), store.applySessions([d])]);
      })(),
      (async () => {
        for (const d of b) await Promise.all([store.applySessions([d]), store.applySessions([d])]);
      })(),
    ]);

    // THEN one session of all 12 elements, plus the fence item; every item has a TTL
    const all = await items(store, 'u1');
    const sessions = all.filter((i) => i.kind?.S === 'session');
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.a_n).toEqual({ S: '12' });
    expect(sessions[0]?.windowEnd).toEqual({ N: String(450 + 5 * 900 + GAP) });
    expect(all.every((i) => i.expiresAt?.N !== undefined)).toBe(true);
    expect(all).toHaveLength(2);
  }, 60_000);

  it('seals a due session once and refuses later elements touching it', async () => {
    // GIVEN a session [0, 1000) of u1
    const store = newStore();
    await store.applySessions([delta('u1', 's0', [[1, 0]])]);
    const [due] = await store.findDueSessions(1_000);

    // WHEN two closers race, then elements at 900 (touching) and 1001 (not) arrive
    const outcomes = await Promise.all([
      store.closeSession(due as never, 1_000, 5),
      store.closeSession(due as never, 1_000, 5),
    ]);
    const refused: number[][] = [];
    const result = await store.applySessions(
      [
        delta('u1', 's0', [
          [2, 900],
          [3, 1_001],
        ]),
      ],
      {
        onRefused: async (r) => {
          refused.push([...r.indices]);
        },
      },
    );

    // THEN exactly one closer won, 900 is refused, 1001 starts a new session
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['already-closed', 'closed']);
    expect(refused).toEqual([[0]]);
    expect(result.written).toEqual([{ key: 'u1', start: 1_001, end: 2_001, acc: { n: 1 } }]);
    expect(await store.findDueSessions(10_000)).toEqual([{ key: 'u1', start: 1_001, end: 2_001 }]);
    expect(await store.findClosedSessions(5)).toEqual([{ key: 'u1', start: 0, end: 1_000 }]);
    expect(await store.markSessionEmitted(due as never, 6)).toBe('emitted');
    expect(await store.markSessionEmitted(due as never, 7)).toBe('already-emitted');
    expect(await store.findClosedSessions(10)).toEqual([]);
  }, 60_000);
});
