import { setMaxListeners } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FAILURE_STREAM_VARIABLE } from '#commons/environment';
import { localClients } from '#local/aws/index';
import { readStream } from '#local/io/readStream';
import { startLocalSession } from '#local/session/startLocalSession';
import { ENRICH_INPUT, OUTPUT_STREAM_PREFIX, PIPELINE_VARIABLE, SOAK_DEFAULTS } from './constants';
import { Driver, sleep } from './Driver';
import { type EventSource, eventSources, preludeRecords } from './eventSources';
import { judgeLag, judgeMemory } from './judge';
import { processedRecords, Sampler } from './Sampler';
import type { SoakOptions, SoakReport, SoakSample } from './types';

const PROJECT_ROOT = path.resolve(__dirname, '..');

/** What the app's pipelines read and write, by pipeline name. */
interface PipelineWiring {
  readonly functionName: string;
  /** Physical input stream. */
  readonly input: string;
  /** Physical output streams (side outputs included). */
  readonly outputs: readonly string[];
  readonly failureStream?: string;
}

/**
 * The soak: starts the embedded AWS, deploys the app, drives every pipeline for `durationMs`
 * (full rate, or `rate` records/s per input stream), samples throughput, each handler process's
 * RSS and heap and each mapping's lag every `sampleIntervalMs`, tears everything down and judges
 * whether memory stayed flat and lag did not grow.
 *
 * @example
 * const report = await runSoak({ durationMs: 5 * 60_000 });
 * process.exitCode = report.ok ? 0 : 1;
 */
export async function runSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const durationMs = options.durationMs ?? SOAK_DEFAULTS.durationMs;
  const sampleIntervalMs = options.sampleIntervalMs ?? SOAK_DEFAULTS.sampleIntervalMs;
  const maxBacklog = options.maxBacklog ?? SOAK_DEFAULTS.maxBacklog;
  const seed = options.seed ?? SOAK_DEFAULTS.seed;
  const invalidFraction = options.invalidFraction ?? SOAK_DEFAULTS.invalidFraction;
  const startedAt = new Date().toISOString();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-soak-'));
  log('starting kinesis-mock and DynamoDB Local, synthesizing and deploying the app…');
  const session = await startLocalSession({
    app: options.app ?? PROJECT_ROOT,
    cdkOutDir: path.join(workDir, 'cdk.out'),
    onWarn: () => undefined,
  });
  const readers = new AbortController();
  // One abort listener per output and failure stream reader while it sleeps between polls.
  setMaxListeners(100, readers.signal);
  const readerErrors: string[] = [];
  const reading: Promise<unknown>[] = [];
  const clients = localClients(session.state.endpoints);
  try {
    const { kinesis } = clients;
    const { deployment } = session.runtime;
    const names = session.state.names;
    const labelOf = new Map(
      deployment.functions.map((fn) => [
        fn.functionName,
        fn.environment[PIPELINE_VARIABLE] ?? fn.logicalId.replace(/Handler.*$/, '').toLowerCase(),
      ]),
    );
    const pipelineOf = (functionName: string): string => labelOf.get(functionName) ?? functionName;
    const logicalOf = new Map(
      Object.entries(names).map(([logical, r]) => [r.physicalName, logical]),
    );

    // Pipelines, from their mappings: input stream, output and failure streams by naming.
    const wiring = new Map<string, PipelineWiring>();
    for (const stats of session.runtime.stats()) {
      const pipeline = pipelineOf(stats.functionName);
      const fn = deployment.functions.find((f) => f.functionName === stats.functionName);
      const env = fn?.environment ?? {};
      const failureStream = env[FAILURE_STREAM_VARIABLE];
      wiring.set(pipeline, {
        functionName: stats.functionName,
        input: stats.streamName,
        outputs: Object.entries(env)
          .filter(([key]) => key.startsWith(OUTPUT_STREAM_PREFIX))
          .map(([, value]) => value),
        ...(failureStream ? { failureStream } : {}),
      });
    }
    log(`pipelines: ${[...wiring.keys()].join(', ')}`);

    // Records out: every output and failure stream, counted from the start.
    const counts = new Map<string, { out: number; failures: number }>();
    for (const [pipeline, wire] of wiring) {
      const count = { out: 0, failures: 0 };
      counts.set(pipeline, count);
      const read = (streamName: string | undefined, field: 'out' | 'failures'): void => {
        if (streamName === undefined) return;
        reading.push(
          readStream({
            client: kinesis,
            streamName,
            fromStart: true,
            pollIntervalMs: SOAK_DEFAULTS.readerPollMs,
            signal: readers.signal,
            onRecord: () => {
              count[field] += 1;
            },
          }).catch((error: Error) => {
            if (!readers.signal.aborted)
              readerErrors.push(`reading ${streamName}: ${error.message}`);
          }),
        );
      };
      for (const output of wire.outputs) read(output, 'out');
      read(wire.failureStream, 'failures');
    }

    // Input streams by logical name, and the mappings reading each.
    const inputs = new Map<string, string>();
    for (const wire of wiring.values()) {
      const logical = logicalOf.get(wire.input);
      if (logical !== undefined) inputs.set(logical, wire.input);
    }
    const backlogOf = (logical: string): number => {
      const physical = inputs.get(logical);
      const readersOf = session.runtime.stats().filter((s) => s.streamName === physical);
      const slowest = Math.min(...readersOf.map(processedRecords));
      return (driver.sent.get(logical) ?? 0) - (Number.isFinite(slowest) ? slowest : 0);
    };
    const sources = eventSources([...inputs.keys()], {
      seed,
      invalidFraction,
      start: Date.now(),
    });
    const driver: Driver = new Driver({
      kinesis,
      streams: inputs,
      sources,
      maxBacklog,
      backlogOf,
      ...(options.rate === undefined ? {} : { rate: options.rate }),
      onError: (line) => log(line),
    });

    // The prelude, so windows close (and every pipeline emits) from the first seconds; driving
    // starts once it is processed, so every handler's workers are up and warm at t = 0.
    const prelude: Record<string, number> = {};
    const preludeRate = options.preludeRate ?? SOAK_DEFAULTS.preludeRate;
    for (const logical of inputs.keys()) {
      const now = Date.now();
      const records =
        logical === ENRICH_INPUT
          ? Array.from({ length: preludeRate > 0 ? SOAK_DEFAULTS.enrichPrelude : 0 }, () =>
              (sources.get(logical) as EventSource)(now),
            )
          : preludeRecords(logical, now, seed, preludeRate);
      await driver.send(logical, records);
      prelude[logical] = records.length;
    }
    const warmupStart = Date.now();
    while (
      [...inputs.keys()].some((logical) => backlogOf(logical) > 0) &&
      Date.now() - warmupStart < SOAK_DEFAULTS.warmupTimeoutMs &&
      !options.signal?.aborted
    ) {
      await sleep(250);
    }
    log(
      `prelude ${JSON.stringify(prelude)} processed in ${((Date.now() - warmupStart) / 1000).toFixed(1)} s`,
    );

    const sampler = new Sampler({
      kinesis,
      stats: () => session.runtime.stats(),
      pipelineOf,
      functions: [...session.runtime.functions.values()].map((host) => ({
        functionName: host.functionName,
        label: pipelineOf(host.functionName),
        memory: () => host.memory(),
      })),
      outputs: (pipeline) => counts.get(pipeline) ?? { out: 0, failures: 0 },
      sent: () => Object.fromEntries(driver.sent),
      onError: (line) => readerErrors.push(line),
    });

    const mode = options.rate === undefined ? 'full rate' : `${options.rate} records/s per stream`;
    log(
      `driving ${[...inputs.keys()].join(', ')} at ${mode} for ${Math.round(durationMs / 1000)} s…`,
    );
    const stopDriving = new AbortController();
    const onAbort = (): void => stopDriving.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const drivingStart = Date.now();
    const driving = driver.run(stopDriving.signal);
    const samples: SoakSample[] = [];
    for (let next = drivingStart; !stopDriving.signal.aborted; ) {
      const t = Date.now() - drivingStart;
      const sample = await sampler.sample(t);
      samples.push(sample);
      log(progressLine(sample));
      if (t >= durationMs) break;
      next += sampleIntervalMs;
      await sleep(Math.min(next, drivingStart + durationMs) - Date.now(), stopDriving.signal);
    }
    stopDriving.abort();
    options.signal?.removeEventListener('abort', onAbort);
    await driving;
    const drivenMs = Date.now() - drivingStart;
    const functionErrors = [...session.runtime.functions.values()].reduce(
      (sum, host) => sum + host.stats.errors,
      0,
    );
    const last = samples[samples.length - 1];
    const seconds = drivenMs / 1000;
    // Full rate: the backlog (and so the lag) ramps up until every stream reaches its cap; the
    // judged span starts there. A stream that never got there leaves the warm-up as it is.
    const saturated = [...driver.saturatedAt.values()];
    const steadyFrom =
      options.rate === undefined && saturated.length === inputs.size
        ? Math.max(...saturated) - drivingStart
        : 0;
    const memory = judgeMemory(samples, options.thresholds, steadyFrom);
    const lag = judgeLag(samples, options.thresholds, steadyFrom);
    return {
      startedAt,
      machine: { cpus: os.cpus().length, node: process.version, platform: process.platform },
      settings: {
        durationMs,
        sampleIntervalMs,
        mode: options.rate === undefined ? 'full-rate' : 'fixed-rate',
        ...(options.rate === undefined ? {} : { rate: options.rate }),
        maxBacklog,
        invalidFraction,
        seed,
      },
      drivenMs,
      steadyFromMs: steadyFrom,
      prelude,
      samples,
      totals: {
        sent: Object.fromEntries(driver.sent),
        pipelines: (last?.pipelines ?? []).map((p) => ({
          pipeline: p.pipeline,
          processed: p.processed,
          out: p.out,
          failures: p.failures,
          errors: p.errors,
          inPerSec: p.processed / seconds,
          outPerSec: p.out / seconds,
        })),
        functionErrors,
        workerExits: sampler.exits,
        driverErrors: driver.errors,
        readerErrors,
      },
      memory,
      lag,
      ok: memory.ok && lag.ok && sampler.exits.length === 0,
    };
  } finally {
    log('tearing down…');
    readers.abort();
    await Promise.all(reading);
    clients.kinesis.destroy();
    clients.dynamodb.destroy();
    clients.documentClient.destroy();
    await session.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

const MIB = 1024 * 1024;

/** One progress line per sample. */
function progressLine(sample: SoakSample): string {
  const sent = Object.values(sample.sent).reduce((a, b) => a + b, 0);
  const pipelines = sample.pipelines
    .map(
      (p) =>
        `${p.pipeline} ${p.processed}/${p.out} lag ${p.lagMs === undefined ? '?' : (p.lagMs / 1000).toFixed(1)}s`,
    )
    .join(' · ');
  const rss = sample.processes.map((p) => (p.rssBytes / MIB).toFixed(0)).join('/');
  return `[${(sample.t / 1000).toFixed(0).padStart(4)}s] sent ${sent} · ${pipelines} · rss MiB ${rss}`;
}
