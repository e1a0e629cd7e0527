import { setMaxListeners } from 'node:events';
import { localClients } from '#local/aws/index';
import {
  GENERATOR_PIPELINES,
  type GeneratedRecord,
  generateEvents,
  inputStreamOf,
} from '#local/generator/index';
import { type LocalSession, startLocalSession } from '#local/session/startLocalSession';
import { KinesisSink } from '#sinks/index';
import { DEMO_DEFAULTS, ENRICH, REFRESH } from './constants';
import { DemoMonitor } from './DemoMonitor';
import { enrichRecords } from './enrichRecords';
import { type FeedRecord, feedStream } from './feedStream';
import { findDemoPipelines } from './findDemoPipelines';
import { findProblems } from './findProblems';
import { renderSummary } from './renderSummary';
import { TerminalView } from './TerminalView';
import type { DemoOptions, DemoPhase, DemoSnapshot } from './types';

/** Exit code after an interrupt, as shells report SIGINT. */
const INTERRUPTED_EXIT_CODE = 130;
/** Status lines kept in the live view. */
const NOTES_SHOWN = 3;

/**
 * The quick-start demo (`npm start`): brings the embedded AWS up, deploys the app, and feeds every
 * pipeline for `duration` seconds — the seeded generator on `clicks`, `requests` and
 * `product-views` (event times near now, after a 90-second backfill so windows close from the
 * first seconds, with a few late and invalid records), and `events` enrich events on `numbers`.
 * Meanwhile a live view shows per pipeline records in and out, open windows, the latest closed
 * results, late and invalid records, failures and lag (redrawn in place on a TTY, a progress line
 * every few seconds otherwise). Once generation stops it waits until every record is processed and
 * every enrich event is back, prints a summary and tears everything down.
 *
 * With `forever`, generation goes on until SIGINT or SIGTERM; the first signal stops generating and
 * drains briefly, a second one tears down at once. Every engine and function process is stopped
 * on every way out.
 *
 * @returns 0 when every enrich event came back exactly once and every pipeline processed records
 *   without giving any up (a backlog left by a busy machine is reported, not failed); 1 otherwise;
 *   130 when interrupted (without `forever`, or twice)
 * @example
 * process.exitCode = await runDemo({ duration: 60 });
 */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const started = Date.now();
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const events = options.events ?? DEMO_DEFAULTS.events;
  const durationMs = (options.duration ?? DEMO_DEFAULTS.durationSeconds) * 1000;
  const forever = options.forever ?? false;
  const view = new TerminalView(out, { redraw: Boolean(out.isTTY) && !options.verbose });
  const notes: string[] = [];
  // While the TTY view is on screen, status lines go into it instead of stderr.
  let live = false;
  const say = (line: string): void => {
    notes.push(line);
    if (notes.length > NOTES_SHOWN) notes.shift();
    if (!live) {
      err.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
    }
  };

  // A signal ends the demo at once: the engines stop on SIGINT/SIGTERM by themselves (they never
  // outlive an interrupted process), so the counters are taken as they were at the signal. This
  // listener is registered before the engines' own, so it runs first; it stays until cleanup is done,
  // so a second Ctrl-C does not kill the process halfway through stopping.
  const stopGenerating = new AbortController();
  const interruption = new AbortController();
  // Every feed and the view loop wait on these.
  setMaxListeners(100, stopGenerating.signal, interruption.signal);
  let takeSnapshot: (() => DemoSnapshot) | undefined;
  let atSignal: DemoSnapshot | undefined;
  let monitor: DemoMonitor | undefined;
  let engineFailed = false;
  const interrupt = (why: string): void => {
    if (interruption.signal.aborted) return;
    atSignal = takeSnapshot?.();
    interruption.abort();
    stopGenerating.abort();
    // The engines are going away: stop reading from them.
    void monitor?.stop();
    say(`stopping ${why}: generation stopped, tearing down`);
  };
  const onSignal = (signal: NodeJS.Signals): void => interrupt(`on ${signal}`);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let session: LocalSession | undefined;
  try {
    say('starting kinesis-mock and DynamoDB Local, synthesizing the CDK app…');
    const warnings: string[] = [];
    session = await startLocalSession({
      app: options.app ?? process.cwd(),
      onLog: options.verbose ? (line) => err.write(`${line}\n`) : undefined,
      onWarn: (line) => warnings.push(line),
    });
    if (warnings.length > 0) {
      say(
        options.verbose
          ? warnings.join('\n')
          : `${warnings.length} note(s) on what runs differently locally (--verbose shows them)`,
      );
    }
    // An engine that dies frees its port for any local user: the session stops itself, so does the demo.
    void session.failed.then((failure) => {
      engineFailed = true;
      interrupt(
        `because ${failure.engine} (pid ${failure.pid}) exited on its own (${failure.signal ?? `code ${failure.code}`})`,
      );
    });
    if (interruption.signal.aborted) return forever ? 0 : INTERRUPTED_EXIT_CODE;
    const names = session.state.names;
    const app = findDemoPipelines(session.runtime.deployment);
    const enrich = app.pipelines.find((p) => p.name === ENRICH.pipeline);
    const enrichInput = names[ENRICH.input]?.physicalName;
    if (enrich === undefined || enrichInput === undefined || enrich.output === undefined) {
      throw new Error(
        `the app has no \`${ENRICH.pipeline}\` pipeline (${ENRICH.input} → ${ENRICH.output})`,
      );
    }
    say(`deployed locally: ${app.pipelines.map((p) => p.name).join(', ')}`);

    const { kinesis, dynamodb } = localClients(session.state.endpoints);
    monitor = new DemoMonitor({
      pipelines: app.pipelines,
      runtime: session.runtime,
      kinesis,
      dynamodb,
      stateTable: app.stateTable,
      onError: (message) => {
        if (!interruption.signal.aborted) say(message);
      },
    });
    monitor.start();
    const meter = monitor;

    // Feeds: the generator per input stream, and the enrich events.
    const generationStart = Date.now();
    const feeds: Promise<number>[] = [];
    const feed = (stream: string, records: Iterable<FeedRecord>): void => {
      const streamName = names[stream]?.physicalName as string;
      feeds.push(
        feedStream({
          records,
          sink: new KinesisSink({ streamName, client: kinesis, ordered: false }),
          signal: stopGenerating.signal,
          tickMs: REFRESH.feedTickMs,
          onSent: (sent) => meter.recordSent(stream, sent.length),
        }),
      );
    };
    const inputs = new Set(app.pipelines.map((p) => p.input).filter((s) => s !== ENRICH.input));
    for (const input of inputs) {
      const scenario = GENERATOR_PIPELINES.find((g) => inputStreamOf(g) === input);
      if (scenario === undefined || names[input] === undefined) {
        say(`no generator for stream \`${input}\`; its pipelines get no input`);
        continue;
      }
      const generated = generateEvents({
        pipeline: scenario,
        start: generationStart - DEMO_DEFAULTS.backfillMs,
        durationMs: forever ? Number.POSITIVE_INFINITY : DEMO_DEFAULTS.backfillMs + durationMs,
        rate: options.rate ?? DEMO_DEFAULTS.rate,
        seed: options.seed ?? DEMO_DEFAULTS.seed,
        lateFraction: DEMO_DEFAULTS.lateFraction,
        invalidFraction: DEMO_DEFAULTS.invalidFraction,
      });
      feed(input, asFeed(generated));
    }
    feed(
      ENRICH.input,
      enrichRecords(
        generationStart,
        durationMs / events,
        forever ? Number.POSITIVE_INFINITY : events,
      ),
    );
    say(
      forever
        ? 'generating until Ctrl-C…'
        : `generating for ${durationMs / 1000} s (${events} enrich events)…`,
    );

    let phase = 'running' as DemoPhase;
    let drainStart = 0;
    let feedError: unknown;
    const feeding = Promise.all(feeds).then(
      () => undefined,
      (error: unknown) => {
        feedError = error;
        stopGenerating.abort();
      },
    );
    void feeding.then(() => {
      if (interruption.signal.aborted) return;
      phase = 'draining';
      drainStart = Date.now();
      say('generation stopped; waiting for every record to be processed…');
    });

    const timeoutMs = (options.timeout ?? DEMO_DEFAULTS.timeoutSeconds) * 1000;
    const interval = view.redraws ? REFRESH.ttyMs : REFRESH.lineMs;
    const snapshot = (): DemoSnapshot =>
      meter.snapshot({
        phase,
        startedAt: generationStart,
        ...(forever ? {} : { durationMs }),
        notes: [...notes],
      });
    takeSnapshot = () => ({ ...snapshot(), phase: 'stopping' });
    let caughtUp = false;
    let shownAt = Date.now();
    for (;;) {
      await sleep(1000, interruption.signal);
      if (interruption.signal.aborted) break;
      if (phase === 'draining') {
        caughtUp = meter.caughtUp();
        const draining = Date.now() - drainStart;
        // Windowed pipelines that lag behind on a busy machine get a while (once each has processed
        // a batch), not the whole timeout: their backlog is reported in the summary. The enrich
        // contract waits up to the timeout.
        const enrich = meter.enrich();
        const enrichBack = enrich.received >= enrich.sent;
        const everyPipelineWorked = snapshot().pipelines.every(
          (p) => p.sent === 0 || p.recordsIn > 0,
        );
        if (
          caughtUp ||
          draining > timeoutMs ||
          (enrichBack && everyPipelineWorked && draining > DEMO_DEFAULTS.windowedDrainMs)
        ) {
          break;
        }
      }
      if (Date.now() - shownAt >= interval - 100) {
        // The state table is read in the background: a slow read must not stall the view.
        void meter.refresh();
        live = view.redraws;
        view.show(snapshot());
        shownAt = Date.now();
      }
    }

    const interrupted = interruption.signal.aborted;
    let final = atSignal;
    if (!interrupted) {
      await feeding;
      // Results emitted by the last batches may still be on their way to the readers.
      if (caughtUp) await sleep(REFRESH.readerPollMs * 3, interruption.signal);
      await meter.refresh(true);
      phase = 'done';
    }
    final = atSignal ?? snapshot();
    view.close();
    live = false;
    out.write(
      `${renderSummary(final, {
        tookMs: Date.now() - started,
        generatedSeconds:
          (interrupted || forever ? Date.now() - generationStart : durationMs) / 1000,
      })}\n`,
    );
    // After a signal the engines are gone: only what was seen until then can be judged.
    const problems = interrupted
      ? findProblems(final, { allBack: false }).filter((p) => p.startsWith('enrich'))
      : findProblems(final, { events, allBack: true, feedError });
    for (const problem of problems) err.write(`shardflow demo: ${problem}\n`);
    if (engineFailed) return 1;
    if (interrupted && !forever) return INTERRUPTED_EXIT_CODE;
    return problems.length === 0 ? 0 : 1;
  } finally {
    view.close();
    say('tearing down…');
    await monitor?.stop();
    await session?.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** Generated records as feed records (same schedule, data and partition key). */
function* asFeed(records: Iterable<GeneratedRecord>): Generator<FeedRecord> {
  for (const record of records) {
    yield {
      sentAt: record.sentAt,
      partitionKey: record.partitionKey,
      data: record.data,
      kind: record.kind,
    };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
