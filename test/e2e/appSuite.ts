import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEGRADING_SERVICE } from '#local/generator/index';
import { type LocalSession, startLocalSession } from '#local/session/startLocalSession';
import { ALERT_ERROR_RATE, ALERT_MIN_REQUESTS } from '#pipelines/error-rate';
import { sideOutputId } from '#runtime/index';
import {
  collect,
  invalidReasons,
  type PipelineRun,
  refusedIds,
  sendFeeds,
  warmUp,
  windowStatuses,
} from '#test/helpers/appDriver';
import {
  type AppScenario,
  appScenario,
  expectFewOnTimeRefused,
  expectOracleResults,
  type PipelineCase,
} from '#test/helpers/pipelineOracles';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

/** Options of {@link describeAppAgainstOracles}. */
export interface AppSuiteOptions {
  /** Event-time span of each input stream, in minutes. */
  readonly minutes: number;
  /** Failures injected by the local runtime (function errors, throttling, PutRecords failures). */
  readonly chaos?: { readonly rate: number; readonly seed: number };
}

/**
 * Every windowed example pipeline on the embedded AWS, from one seeded scenario: 2 % late and 2 %
 * invalid records on each input stream, then a flush far in the future. Final outputs must equal
 * an oracle computed from the same events; late and invalid records must be in
 * `<pipeline>-failures` with their reasons. Under chaos, the same must hold, and chaos must have
 * happened.
 */
export function describeAppAgainstOracles(title: string, options: AppSuiteOptions): void {
  describe(title, () => {
    let session: LocalSession;
    let workDir: string;
    let scenario: AppScenario;
    const runs = new Map<string, PipelineRun>();
    // Function errors and timeouts, to explain a missing result when one is.
    const errors: string[] = [];

    beforeAll(async () => {
      workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-e2e-'));
      session = await startLocalSession({
        app: PROJECT_ROOT,
        cdkOutDir: path.join(workDir, 'cdk.out'),
        onWarn: () => undefined,
        onLog: (line) => {
          if (errors.length < 200 && /"level":"ERROR"|timed out/.test(line)) {
            errors.push(line.slice(0, 400));
          }
        },
        chaos: options.chaos,
      });
      // GIVEN some minutes of events per input stream
      scenario = appScenario({ durationMs: options.minutes * 60_000 });
      // WHEN they go through the deployed app
      await warmUp(session, scenario.feeds);
      await sendFeeds(session, scenario.feeds);
      const collected = await Promise.all(
        scenario.cases.map((c) => collect(session, c.expectation, 480_000)),
      );
      for (const [i, run] of collected.entries()) {
        runs.set((scenario.cases[i] as PipelineCase).expectation.pipeline, run);
      }
    }, 900_000);

    afterAll(async () => {
      await session?.stop();
      if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    const caseOf = (pipeline: string): PipelineCase => {
      const found = scenario.cases.find((c) => c.expectation.pipeline === pipeline);
      if (found === undefined) throw new Error(`no case for ${pipeline}`);
      return found;
    };

    /** The run's final values by id next to the oracle's, computed with the records it refused. */
    const compare = (pipeline: string) => {
      const run = runs.get(pipeline) as PipelineRun;
      const c = caseOf(pipeline);
      const expected = c.oracle(refusedIds(run.failures, c.idField));
      return { run, expected };
    };

    it.each([
      ['page-views', 'views and distinct users per (page, minute)'],
      ['sessions', 'pages, clicks and duration per user session (30 min gap)'],
      ['trending', 'the 10 most viewed products per (category, 10 min every 1 min)'],
    ])('%s: one final result per window, equal to the oracle (%s)', async (pipeline) => {
      // THEN (distinct is exact below 64 users per window, as here)
      const run = runs.get(pipeline) as PipelineRun;
      expect(run.timedOut).toBe(false);
      await expectOracleResults(run, caseOf(pipeline), async (missing) => ({
        missing:
          pipeline === 'sessions'
            ? Object.fromEntries(missing.map((id) => [id, 'session not emitted']))
            : await windowStatuses(session, pipeline, missing),
        errors: options.chaos ? [] : errors.slice(0, 20),
      }));
    });

    it('error-rate: counts exact, latency percentiles within DDSketch’s 1 %, alerts exactly where due', () => {
      // THEN
      const { run, expected } = compare('error-rate');
      expect(run.inconsistent).toEqual([]);
      expect([...run.results.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [id, e] of expected) {
        const values = run.results.get(id)?.values as Record<string, number>;
        expect({
          id,
          requests: values.requests,
          errors: values.errors,
          rate: values.errorRate,
        }).toEqual({ id, requests: e.requests, errors: e.errors, rate: e.errorRate });
        for (const field of ['p50LatencyMs', 'p99LatencyMs'] as const) {
          const exact = e[field] as number;
          expect(Math.abs((values[field] as number) - exact)).toBeLessThanOrEqual(
            exact * 0.01 + 1e-9,
          );
        }
      }
      const due = [...expected.values()]
        .filter(
          (e) =>
            (e.requests as number) >= ALERT_MIN_REQUESTS &&
            (e.errorRate as number) >= ALERT_ERROR_RATE,
        )
        .map((e) =>
          sideOutputId('error-rate', 'alerts', String(e.key), {
            start: e.start as number,
            end: e.end as number,
          }),
        );
      expect(due.length).toBeGreaterThan(0);
      const alerts = run.side.get('alerts') ?? new Map();
      expect([...alerts.keys()].sort()).toEqual(due.sort());
      // the degrading service is among those that raise them
      expect([...alerts.values()].map((a) => a.service)).toContain(DEGRADING_SERVICE);
    });

    it('gave no batch up to an on-failure destination: every record was processed', () => {
      // THEN (a batch that exhausts its retries is skipped: its records would be missing)
      const givenUp = session.runtime
        .failures()
        .map((f) => `${f.shardflow.functionName}: ${f.shardflow.error ?? 'no error'}`);
      expect(givenUp).toEqual([]);
    });

    it.each(['page-views', 'sessions', 'error-rate', 'trending'])(
      '%s: every invalid record is in its failure stream with its reason; only late records are refused as LATE',
      (pipeline) => {
        // THEN
        const run = runs.get(pipeline) as PipelineRun;
        const c = caseOf(pipeline);
        const feed = scenario.feeds.find((f) => f.pipelines.includes(pipeline));
        const records = feed?.records ?? [];
        const invalid = records.filter((r) => r.kind === 'invalid');
        expect(invalid.length).toBeGreaterThan(0);
        expect(invalidReasons(run.failures)).toEqual(
          new Map(invalid.map((r) => [r.data, r.expectedReason])),
        );
        // A record is LATE when the windows it belongs to were closed before it was read: that
        // depends on how far the other shard had got, so the refused ones are the late ones the
        // generator made, and hardly any on-time record.
        expectFewOnTimeRefused(run, c, records);
        // How many of the late ones are refused depends on the shards' relative progress (none
        // when the other shard lagged further): the oracle above is computed with exactly those
        // refused, and test/e2e/bad-input.test.ts shows LATE for records far behind the watermark.
      },
    );

    if (options.chaos !== undefined) {
      it('really injected function errors and PutRecords failures', () => {
        // THEN
        const chaos = session.runtime.chaosStats();
        expect(
          chaos.functionErrorsBeforeHandler + chaos.functionErrorsAfterHandler,
        ).toBeGreaterThan(0);
        expect(chaos.putRecordsEntriesFailed).toBeGreaterThan(0);
      });
    }
  });
}
