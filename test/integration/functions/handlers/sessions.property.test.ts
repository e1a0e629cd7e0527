import fc from 'fast-check';
import { userSessions } from '#pipelines/sessions';
import { type AnyWindowedPipelineDefinition, resultId } from '#runtime/index';
import {
  countedElements,
  isFuture,
  judgeRun,
  type PipelineUnderTest,
  replayOptions,
  runScenario,
  scenarioArb,
  useTrimHorizon,
} from './eventTimeDriver';
import { useHandlerTestbed } from './harness';

/** Schedules (random event streams with random faults); raise with SHARDFLOW_PROPERTY_RUNS. */
const RUNS = Math.max(1, Math.round(Number(process.env.SHARDFLOW_PROPERTY_RUNS ?? 200) / 4));
const MIN = 60_000;
const GAP = 30 * MIN;

const OUTPUT = `user-sessions-prop-${process.pid}`;
const FAILURES = `session-failures-prop-${process.pid}`;
const testbed = useHandlerTestbed('sessions-prop', [OUTPUT, FAILURES]);
let schedules = 0;
const replay = replayOptions;
useTrimHorizon();

const base: PipelineUnderTest = {
  definition: userSessions as AnyWindowedPipelineDefinition,
  // Every event is an element of its user's sessions (no filter).
  elementsOf: (e) => [{ t: e.ts, key: e.userId }],
  model: {
    window: { kind: 'session', gapMs: GAP },
    maxOutOfOrderness: userSessions.maxOutOfOrdernessMs,
    idleTimeout: userSessions.idleTimeoutMs,
    retentionMs: 7 * 86_400_000,
    commitGranularityMs: MIN,
  },
};

const stats = { events: 0, counted: 0, LATE: 0, EXPIRED: 0, sessions: 0 };

describe('createWindowedHandler with session windows under Lambda retry patterns and passing time', () => {
  it('final sessions are the sort-and-split of the counted elements; every LATE, EXPIRED and counted element is allowed by the event-time model', async () => {
    // GIVEN random events of a few users over 2-3 shards (the same user on several shards; idle
    // and lagging shards, fast clocks, days of silence, a reshard), cut into random batches
    const started = Date.now();
    // WHEN Lambda delivers them with crashes, retries, bisects, replays, duplicates and concurrent
    // shards, the sweeper runs alongside, and TTL deletes what expires
    // THEN every session is emitted with the values of the counted elements, no id carries two
    // values, and no element was refused or counted where the documented rules forbid it
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          scenarioArb({ pages: ['/home'], users: 3, maxStep: 25 * MIN, maxJitter: 45 * MIN }),
          // A replay: an hour of events a minute, shards active together, one lagging
          scenarioArb({
            pages: ['/home'],
            users: 3,
            maxStep: 25_000,
            maxJitter: 45 * MIN,
            lags: [0, 0, 40 * MIN, 80 * MIN],
            eventTimeScale: 60,
          }),
        ),
        fc.gen(),
        async (scenario, g) => {
          const { dynamodb, kinesis, tableName } = testbed();
          const name = `sessions-${process.pid}-${schedules++}`;
          const put: PipelineUnderTest = { ...base, definition: { ...base.definition, name } };
          const run = await runScenario(
            { dynamodb, kinesis, tableName, output: OUTPUT, failures: FAILURES },
            put,
            scenario,
            g,
          );
          for (const [id, event] of run.events) {
            if (isFuture(event, put.elementsOf(event)))
              expect({ id, reason: run.refusedRecords.get(id) }).toEqual({
                id,
                reason: 'FUTURE_EVENT_TIME',
              });
          }
          // Sort-and-split of the counted elements, per user.
          const byUser = new Map<string, Array<{ t: number; view: boolean }>>();
          for (const element of countedElements(run, put)) {
            const list = byUser.get(element.key) ?? [];
            list.push({ t: element.t, view: element.event.type === 'page_view' });
            byUser.set(element.key, list);
          }
          const expected = new Map<string, Record<string, number>>();
          const closed = new Map<string, Array<{ start: number; end: number }>>();
          for (const [user, elements] of byUser) {
            elements.sort((a, b) => a.t - b.t);
            let current: typeof elements = [];
            const close = () => {
              const first = (current[0] as { t: number }).t;
              const last = (current[current.length - 1] as { t: number }).t;
              const window = { start: first, end: last + GAP };
              expected.set(resultId(name, user, window, true), {
                pages: current.filter((e) => e.view).length,
                clicks: current.filter((e) => !e.view).length,
                durationMs: last - first,
              });
            };
            for (const element of elements) {
              const previous = current[current.length - 1];
              if (previous !== undefined && element.t > previous.t + GAP) {
                close();
                current = [];
              }
              current.push(element);
            }
            if (current.length > 0) close();
          }
          for (const results of run.finals.values()) {
            const result = results[0];
            if (result === undefined) continue;
            const list = closed.get(result.key) ?? [];
            list.push({
              start: Date.parse(result.window.start),
              end: Date.parse(result.window.end),
            });
            closed.set(result.key, list);
          }
          expect({ violations: judgeRun(run, closed).slice(0, 5) }).toEqual({ violations: [] });
          expect([...run.finals.keys()].sort()).toEqual([...expected.keys()].sort());
          for (const [id, results] of run.finals) {
            for (const result of results)
              expect({ id, values: result.values }).toEqual({ id, values: expected.get(id) });
          }
          stats.events += scenario.events.length;
          stats.sessions += expected.size;
          for (const list of run.decisions.values()) stats[list[0] as 'counted']++;
        },
      ),
      { numRuns: RUNS, endOnFailure: true, ...replay },
    );
    console.log(
      `sessions: ${RUNS} schedules in ${((Date.now() - started) / 1000).toFixed(1)} s; ${stats.events} events, ${stats.sessions} sessions; ${stats.counted} counted, ${stats.LATE} LATE, ${stats.EXPIRED} EXPIRED`,
    );
  }, 1_800_000);
});
