import { toSessionDeltas } from '#handlers/factories/toSessionDeltas';
import { userSessions } from '#pipelines/sessions';
import { preAggregate } from '#runtime/index';
import { kinesisEventFactory, kinesisRecordFactory } from '#test/helpers/kinesisFactories';

const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const MIN = 60_000;

const record = (sequenceNumber: string, minute: number, type = 'page_view', userId = 'u1') =>
  kinesisRecordFactory({
    sequenceNumber,
    partitionKey: userId,
    payload: { type, page: '/home', userId, ts: T0 + minute * MIN },
    arrivalMs: T0 + minute * MIN,
  });

describe('toSessionDeltas', () => {
  it('lists every element of a key and folds the sessions of any subset of them', () => {
    // GIVEN u1 at 0, 10 and 50 minutes (two sessions with a 30 min gap)
    const plan = preAggregate(
      userSessions,
      kinesisEventFactory([record('1', 0), record('2', 10, 'click'), record('3', 50)]).Records,
    );
    // WHEN
    const [delta] = toSessionDeltas(userSessions, plan.sessions.values());
    // THEN
    expect(delta?.elements.map((e) => [e.sequenceNumber, e.time])).toEqual([
      ['1', T0],
      ['2', T0 + 10 * MIN],
      ['3', T0 + 50 * MIN],
    ]);
    expect(delta?.sessionsOf([0, 1, 2])).toEqual([
      {
        start: T0,
        end: T0 + 40 * MIN,
        acc: { pages: 1, clicks: 1, durationMs: { min: T0, max: T0 + 10 * MIN } },
      },
      {
        start: T0 + 50 * MIN,
        end: T0 + 80 * MIN,
        acc: { pages: 1, clicks: 0, durationMs: { min: T0 + 50 * MIN, max: T0 + 50 * MIN } },
      },
    ]);
    expect(delta?.sessionsOf([1])).toEqual([
      {
        start: T0 + 10 * MIN,
        end: T0 + 40 * MIN,
        acc: { pages: 0, clicks: 1, durationMs: { min: T0 + 10 * MIN, max: T0 + 10 * MIN } },
      },
    ]);
  });

  it('gives one delta per key', () => {
    const plan = preAggregate(
      userSessions,
      kinesisEventFactory([record('1', 0), record('2', 1, 'click', 'u2')]).Records,
    );
    expect(
      toSessionDeltas(userSessions, plan.sessions.values())
        .map((d) => d.key)
        .sort(),
    ).toEqual(['u1', 'u2']);
  });
});
