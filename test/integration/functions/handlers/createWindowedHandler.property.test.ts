import fc from 'fast-check';
import { pageViews } from '#pipelines/page-views';
import {
  type AnyWindowedPipelineDefinition,
  count,
  distinct,
  hopping,
  pipeline,
  resultId,
  sum,
  tumbling,
} from '#runtime/index';
import {
  countedElements,
  isFuture,
  judgeRun,
  type PipelineUnderTest,
  replayOptions,
  runScenario,
  type ScenarioEvent,
  scenarioArb,
  useTrimHorizon,
} from './eventTimeDriver';
import { useHandlerTestbed } from './harness';

/** Schedules per property (split between the pipelines); raise with SHARDFLOW_PROPERTY_RUNS. */
const RUNS = Number(process.env.SHARDFLOW_PROPERTY_RUNS ?? 200);
const SEC = 1_000;
const RETENTION_MS = 7 * 86_400_000;

const OUTPUT = `page-view-counts-${process.pid}`;
const FAILURES = `failures-${process.pid}`;
const testbed = useHandlerTestbed('handler-prop', [OUTPUT, FAILURES]);
useTrimHorizon();
let schedules = 0;
const replay = replayOptions;

const isView = (e: ScenarioEvent) => e.type === 'page_view';

const sliced = (
  definition: AnyWindowedPipelineDefinition,
  elementsOf: PipelineUnderTest['elementsOf'],
): PipelineUnderTest => {
  const assigner = definition.assigner;
  if (assigner.kind === 'session') throw new Error('sliced only');
  return {
    definition,
    elementsOf,
    model: {
      window: { kind: 'sliced', slideMs: assigner.slideMs, sizeMs: assigner.sizeMs },
      maxOutOfOrderness: definition.maxOutOfOrdernessMs,
      idleTimeout: definition.idleTimeoutMs,
      retentionMs: RETENTION_MS,
      commitGranularityMs: assigner.slideMs,
    },
  };
};

/** page-views: filter, distinct (a read-merge-write item). */
const tumblingViews = sliced(pageViews as AnyWindowedPipelineDefinition, (e) =>
  isView(e) ? [{ t: e.ts, key: e.page }] : [],
);

const hoppingViews = sliced(
  pipeline('page-views-hop')
    .from('clicks', { schema: pageViews.schema })
    .filter((event) => event.type === 'page_view')
    .keyBy((event) => event.page)
    .window(hopping('2m', '1m'), { eventTime: (event) => event.ts, maxOutOfOrderness: '30s' })
    .aggregate({ views: count(), users: distinct((event) => event.userId) })
    .emit('final')
    .to('page-view-counts') as AnyWindowedPipelineDefinition,
  (e) => (isView(e) ? [{ t: e.ts, key: e.page }] : []),
);

/** Additive accumulators only: the blind ADD path and its recompute above a fence. */
const additiveViews = sliced(
  pipeline('page-views-add')
    .from('clicks', { schema: pageViews.schema })
    .filter((event) => event.type === 'page_view')
    .keyBy((event) => event.page)
    .window(tumbling('1m'), { eventTime: (event) => event.ts, maxOutOfOrderness: '20s' })
    .aggregate({ views: count(), weight: sum((event) => event.userId.length) })
    .emit('final')
    .to('page-view-counts') as AnyWindowedPipelineDefinition,
  (e) => (isView(e) ? [{ t: e.ts, key: e.page }] : []),
);

/** Records of u0 and u1 fan out into a second view 70 s later (another slice). */
const fanOut = (e: ScenarioEvent): ScenarioEvent[] =>
  e.userId === 'u0' || e.userId === 'u1' ? [e, { ...e, ts: e.ts + 70 * SEC }] : [e];
const fanOutViews = sliced(
  pipeline('page-views-fan')
    .from('clicks', { schema: pageViews.schema })
    .filter((event) => event.type === 'page_view')
    .flatMap((event) =>
      fanOut({ ...event, ts: Number(event.ts), shard: 0, arrival: 0 } as ScenarioEvent).map(
        (e) => ({ ...event, ts: e.ts }),
      ),
    )
    .keyBy((event) => event.page)
    .window(tumbling('1m'), { eventTime: (event) => event.ts, maxOutOfOrderness: '30s' })
    .aggregate({ views: count(), users: distinct((event) => event.userId) })
    .emit('final')
    .to('page-view-counts') as AnyWindowedPipelineDefinition,
  (e) => (isView(e) ? fanOut(e).map((x) => ({ t: x.ts, key: x.page })) : []),
);

/** The expected final results: per window of the counted elements, values and late count. */
function expectedResults(
  put: PipelineUnderTest,
  name: string,
  counted: ReturnType<typeof countedElements>,
  runLate: (id: string) => boolean,
): Map<string, Record<string, unknown>> {
  const assigner = put.definition.assigner;
  if (assigner.kind === 'session') throw new Error('sliced only');
  const windows = new Map<
    string,
    { views: number; users: Set<string>; weight: number; late: number }
  >();
  for (const element of counted) {
    const slice = Math.floor(element.t / assigner.slideMs) * assigner.slideMs;
    for (
      let start = slice + assigner.slideMs - assigner.sizeMs;
      start <= slice;
      start += assigner.slideMs
    ) {
      const id = resultId(name, element.key, { start, end: start + assigner.sizeMs }, true);
      const w = windows.get(id) ?? { views: 0, users: new Set(), weight: 0, late: 0 };
      w.views++;
      w.users.add(element.event.userId);
      w.weight += element.event.userId.length;
      if (runLate(element.id)) w.late++;
      windows.set(id, w);
    }
  }
  const aggregates = put.definition.aggregateNames;
  const expected = new Map<string, Record<string, unknown>>();
  for (const [id, w] of windows) {
    const values: Record<string, number> = { views: w.views };
    if (aggregates.includes('users')) values.users = w.users.size;
    if (aggregates.includes('weight')) values.weight = w.weight;
    expected.set(id, { values, late: w.late });
  }
  return expected;
}

/**
 * `late` by the documented rule: an accepted element whose slice had ended before its shard's
 * event clock (the max of min(event time, arrival) over the shard's earlier elements).
 */
function lateElements(
  put: PipelineUnderTest,
  run: Awaited<ReturnType<typeof runScenario>>,
): Set<string> {
  const assigner = put.definition.assigner;
  if (assigner.kind === 'session') throw new Error('sliced only');
  const late = new Set<string>();
  for (const shard of run.modelShards) {
    let clock = Number.NEGATIVE_INFINITY;
    for (const record of shard.records) {
      record.elements.forEach((element, ordinal) => {
        const before = clock;
        clock = Math.max(clock, Math.min(element.t, record.arrival));
        const sliceEnd =
          Math.floor(element.t / assigner.slideMs) * assigner.slideMs + assigner.slideMs;
        if (sliceEnd <= before) late.add(`${record.shardId}:${record.sequenceNumber}:${ordinal}`);
      });
    }
  }
  return late;
}

describe('createWindowedHandler: results and lateness under Lambda retry patterns and passing time', () => {
  it.each([
    ['tumbling 1m, distinct (page-views)', tumblingViews, 0.3],
    ['hopping 2m/1m', hoppingViews, 0.25],
    ['additive only (recompute path)', additiveViews, 0.2],
    ['flatMap fan-out', fanOutViews, 0.25],
  ] as const)(
    '%s: outputs equal the oracle; every LATE, EXPIRED and counted element is allowed by the event-time model',
    async (label, base, share) => {
      const runs = Math.max(1, Math.round(RUNS * share));
      const started = Date.now();
      let elements = 0;
      const decided = { counted: 0, LATE: 0, EXPIRED: 0 };
      // GIVEN random events over 2-3 shards (idle and backlogged shards, fast producer clocks,
      // filtered shards, days of silence, a reshard), cut into random batches, with random faults
      // WHEN Lambda delivers them with retries, bisects, replays, duplicates and concurrent shards,
      // the sweeper runs alongside, and TTL deletes what expires
      // THEN the final results are those of the counted elements, once each, and no element was
      // refused or counted where the documented rules forbid it
      await fc.assert(
        fc.asyncProperty(scenarioArb(), fc.gen(), async (scenario, g) => {
          const { dynamodb, kinesis, tableName } = testbed();
          const name = `${base.definition.name}-${process.pid}-${schedules++}`;
          const put: PipelineUnderTest = { ...base, definition: { ...base.definition, name } };
          const run = await runScenario(
            { dynamodb, kinesis, tableName, output: OUTPUT, failures: FAILURES },
            put,
            scenario,
            g,
          );
          const report = JSON.stringify({
            scenario: scenario.events.map((e) => [
              e.shard,
              e.type,
              e.page,
              e.userId,
              e.ts,
              e.arrival,
            ]),
          });
          // Records dated more than 15 minutes after their arrival are refused whole.
          for (const [id, event] of run.events) {
            if (isFuture(event, put.elementsOf(event)))
              expect({ id, reason: run.refusedRecords.get(id) }).toEqual({
                id,
                reason: 'FUTURE_EVENT_TIME',
              });
          }
          expect({
            refused: [...run.refusedRecords.values()].filter((r) => r !== 'FUTURE_EVENT_TIME'),
          }).toEqual({ refused: [] });
          // Lateness: nothing the model forbids.
          expect({ violations: judgeRun(run).slice(0, 5), report: '' }).toEqual({
            violations: [],
            report: '',
          });
          // Results: those of the counted elements, one set of values per id.
          const late = lateElements(put, run);
          const expected = expectedResults(put, name, countedElements(run, put), (id) =>
            late.has(id),
          );
          if (process.env.SHARDFLOW_PROPERTY_DEBUG !== undefined)
            console.log(
              JSON.stringify(
                {
                  finals: [...run.finals.values()].map((l) => l[0]),
                  expected: [...expected],
                  decisions: [...run.decisions],
                },
                null,
                1,
              ),
            );
          expect([...run.finals.keys()].sort()).toEqual([...expected.keys()].sort());
          for (const [id, results] of run.finals) {
            for (const result of results)
              expect({ id, values: result.values, late: result.late }).toEqual({
                id,
                ...expected.get(id),
              });
          }
          expect(report.length).toBeGreaterThan(0);
          for (const list of run.decisions.values()) {
            elements++;
            decided[list[0] as keyof typeof decided]++;
          }
        }),
        { numRuns: runs, endOnFailure: true, ...replay },
      );
      console.log(
        `${label}: ${runs} schedules in ${((Date.now() - started) / 1000).toFixed(1)} s; ${elements} elements: ${decided.counted} counted, ${decided.LATE} LATE, ${decided.EXPIRED} EXPIRED`,
      );
    },
    1_800_000,
  );
});
