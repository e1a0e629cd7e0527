import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { readFailures } from '#local/capture/readFailures';
import { LOCAL_DIR } from '#local/cli/localState';
import { createRandom } from '#local/generator/index';
import {
  collect,
  type PipelineRun,
  sendFeeds,
  warmUp,
  windowStatuses,
} from '#test/helpers/appDriver';
import {
  type Crash,
  CrashableRuntime,
  type FeedProgress,
  feedChunks,
  resendMissing,
} from '#test/helpers/crashDriver';
import {
  type AppScenario,
  appScenario,
  expectFewOnTimeRefused,
  expectOracleResults,
  type PipelineCase,
  scenarioFor,
} from '#test/helpers/pipelineOracles';

const PROJECT_ROOT = path.resolve(__dirname, '../..');
const FULL_SCALE = process.env.SHARDFLOW_FULL_SCALE === '1';
/** Event time per input stream, and how often the runtime is killed while it is fed. */
const SCALE = FULL_SCALE ? { minutes: 30, kills: 15 } : { minutes: 10, kills: 5 };
/** Seeds the kill moments; the events come from appScenario's own seed. */
const SEED = Number(process.env.SHARDFLOW_CRASH_SEED ?? 8);
/** A runtime lives this long after it is ready before it is killed (uniform, ms). */
const LIFE_MS = { min: 2_000, max: 6_000 } as const;
/** The producer sends a chunk of each feed this often. */
const PACE_MS = 250;
const PIPELINES = ['page-views', 'trending'] as const;

/** One life of the runtime: from ready to its SIGKILL. */
interface Life {
  readonly plannedMs: number;
  /** Records acknowledged during the life, over every feed. */
  readonly fed: number;
  readonly crash: Crash;
  /** Acknowledged records kinesis-mock no longer had after the restart, sent again. */
  readonly resent: number;
  readonly restartMs: number;
}

/** Windows the sweeper repaired (CLOSED but not EMITTED for a minute), from the handlers' logs. */
function sweeperRepairs(runtime: CrashableRuntime): number {
  return runtime
    .logLines(/"message":"swept"/, Number.POSITIVE_INFINITY)
    .reduce((n, line) => n + Number(/"repaired":(\d+)/.exec(line)?.[1] ?? 0), 0);
}

// Issue 8: `shardflow local up --state-dir DIR` killed with SIGKILL at random moments while the
// page-views and trending pipelines are fed, and started again on the same DIR, resumes from its
// checkpoints: the final outputs equal the oracle, as with no kill at all.
//
// What is killed, and when: at a seeded random moment of each life, while the producer's puts and
// the handlers' batches are in flight, the runtime's process group (the CLI and its function
// workers), the engine guardian, the Kinesis TLS proxy and DynamoDB Local are frozen, and a moment
// later killed with SIGKILL: frozen, they run nothing in between, so for them it is a SIGKILL at
// that moment. kinesis-mock runs on meanwhile: it stands in for Kinesis, which does not lose
// acknowledged records, but it writes its state only every second and in place. Killed with the
// rest it would lose the last second of input records *and of the handlers' output records*
// (emitted, marked emitted in DynamoDB, gone), and could leave a torn file — the engine's
// limitation, not shardflow's. So the producer stops at the freeze, and everything dies right after
// kinesis-mock has completed a write begun after its last put (crashDriver). As a second guard,
// after each restart the producer reads its input streams back and sends again any acknowledged
// record they lack; the count is printed with the run's summary.
describe('local runtime killed with SIGKILL while fed, restarted on its --state-dir', () => {
  let workDir: string;
  let runtime: CrashableRuntime;
  let scenario: AppScenario;
  const lives: Life[] = [];
  const runs = new Map<string, PipelineRun>();
  const began = Date.now();
  const caseOf = (pipeline: string): PipelineCase =>
    scenario.cases.find((c) => c.expectation.pipeline === pipeline) as PipelineCase;

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-crash-'));
    runtime = new CrashableRuntime({
      app: PROJECT_ROOT,
      workDir,
      stateDir: path.join(workDir, 'state'),
    });
    // GIVEN the app on a durable local runtime, and some minutes of clicks and product views
    let state = await runtime.start();
    scenario = scenarioFor(appScenario({ durationMs: SCALE.minutes * 60_000, rate: 2 }), [
      ...PIPELINES,
    ]);
    await warmUp({ state }, scenario.feeds);
    const phases = [Date.now() - began];

    // WHEN the records are fed in chunks over SCALE.kills + 1 lives, the runtime killed at the end
    // of each but the last; the last life gets the final share and the flush markers (sendFeeds)
    const random = createRandom(SEED);
    const { feeds } = scenario;
    const progress: FeedProgress = { acked: feeds.map(() => 0) };
    for (let life = 0; life < SCALE.kills; life++) {
      const plannedMs = LIFE_MS.min + random.next() * (LIFE_MS.max - LIFE_MS.min);
      const share = (life + 1) / (SCALE.kills + 1);
      const targets = feeds.map((feed) => Math.floor(feed.records.length * share));
      const before = progress.acked.reduce((a, b) => a + b, 0);
      const controller = new AbortController();
      const feeding = feedChunks(state, feeds, progress, targets, {
        durationMs: plannedMs,
        paceMs: PACE_MS,
        signal: controller.signal,
      });
      await delay(plannedMs);
      const crash = await runtime.crash(async () => {
        controller.abort();
        await feeding;
        return Date.now();
      });
      const fed = progress.acked.reduce((a, b) => a + b, 0) - before;
      const restarting = Date.now();
      state = await runtime.start();
      const restartMs = Date.now() - restarting;
      const resent = await resendMissing(state, feeds, progress);
      lives.push({ plannedMs, fed, crash, resent, restartMs });
    }
    phases.push(Date.now() - began);
    const readAt: string[] = [];
    await sendFeeds(
      { state },
      feeds.map((feed, i) => ({ ...feed, records: feed.records.slice(progress.acked[i]) })),
    );
    const collected = await Promise.all(
      scenario.cases.map(async (c) => {
        const run = await collect({ state }, c.expectation, FULL_SCALE ? 600_000 : 300_000);
        readAt.push(`${c.expectation.pipeline} ${Date.now() - began} ms`);
        return run;
      }),
    );
    for (const [i, run] of collected.entries()) {
      runs.set((scenario.cases[i] as PipelineCase).expectation.pipeline, run);
    }
    process.stdout.write(
      `crash-resume (seed ${SEED}): ${lives.length} kills, ${lives.reduce((n, l) => n + l.resent, 0)} records resent, ` +
        `restarts ${lives.map((l) => Math.round(l.restartMs / 100) / 10).join('/')} s, ` +
        `kinesis-mock ran alone for ${lives.map((l) => l.crash.kinesisAloneMs).join('/')} ms, ` +
        `ready and warm at ${phases[0]} ms, last restart at ${phases[1]} ms, read ${readAt.join(', ')}, ` +
        `windows re-emitted by the sweeper (closed, not emitted at a kill): ${sweeperRepairs(runtime)}\n`,
    );
  }, 1_800_000);

  afterAll(async () => {
    // Whatever a failed test left running goes, so no engine outlives the suite.
    await runtime?.killAll();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it.each([...PIPELINES])(
    '%s: one final result per window, equal to the oracle with the records refused as LATE',
    async (pipeline) => {
      // THEN
      const run = runs.get(pipeline) as PipelineRun;
      // The window items' states, and the handlers' errors, say where a missing result stopped.
      await expectOracleResults(run, caseOf(pipeline), async (missing) => ({
        missing: await windowStatuses({ state: runtime.state }, pipeline, missing),
        errors: runtime.logLines(/"level":"ERROR"|timed out/).map((l) => l.slice(0, 400)),
      }));
      expect(run.timedOut).toBe(false);
    },
  );

  it.each([...PIPELINES])(
    '%s: refuses as LATE hardly any on-time record, so the oracle is not hollowed out',
    (pipeline) => {
      // THEN (the same bound as the runs without kills)
      const feed = scenario.feeds.find((f) => f.pipelines.includes(pipeline));
      expectFewOnTimeRefused(
        runs.get(pipeline) as PipelineRun,
        caseOf(pipeline),
        feed?.records ?? [],
      );
    },
  );

  it(`was killed at least ${SCALE.kills} times while records were being fed, and resumed from its checkpoints`, () => {
    // THEN
    expect(lives).toHaveLength(SCALE.kills);
    const pids = new Set(lives.map((l) => l.crash.runtimePid));
    expect(pids.size).toBe(SCALE.kills);
    for (const [i, life] of lives.entries()) {
      // the CLI, the guardian, kinesis-mock, its TLS proxy and DynamoDB Local at least
      expect({ life: i, killedAtLeast5: life.crash.killed >= 5 }).toEqual({
        life: i,
        killedAtLeast5: true,
      });
      expect({ life: i, fed: life.fed > 0 }).toEqual({ life: i, fed: true });
    }
    // From the second kill on, the mappings had saved checkpoints to resume from.
    expect(lives.slice(1).every((l) => l.crash.checkpoints > 0)).toBe(true);
  });

  it('gave no batch up to an on-failure destination', () => {
    // THEN (a batch that exhausts its retries is skipped: its records would be missing)
    const givenUp = readFailures(path.join(workDir, LOCAL_DIR, 'failures.jsonl')).map(
      (f) => `${f.shardflow.functionName}: ${f.shardflow.error ?? 'no error'}`,
    );
    expect(givenUp).toEqual([]);
  });

  it('leaves no process of any of its runtimes behind', async () => {
    // WHEN the last runtime is killed too
    await runtime.killAll();

    // THEN
    const { running, seen } = runtime.leftovers();
    expect(seen).toBeGreaterThanOrEqual(5 * (SCALE.kills + 1));
    expect(running).toEqual([]);
  });
});
