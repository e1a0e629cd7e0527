import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import * as hdr from 'hdr-histogram-js';
import { localClients } from '#local/aws/index';
import type { RunningEngines } from '#local/engines/index';
import { readStream } from '#local/io/readStream';
import { startLocalRuntime } from '#local/runtime/index';
import { synthesize } from '#local/session/synthesize';
import { round } from './stats';

const ROOT = path.resolve(__dirname, '..');
const PUT_BATCH = 500;

/** Options of the end-to-end benchmark. */
export interface E2eOptions {
  readonly engines: RunningEngines;
  /** The synthesized app ({@link synthesizeApp}). */
  readonly assembly: Promise<Assembly>;
  /** How long producers push at full rate. */
  readonly seconds: number;
  /** Length of the trickle phase (unsaturated latency). */
  readonly idleSeconds: number;
  /** How long to wait for the pipelines to drain after the producers stop. */
  readonly drainSeconds: number;
}

/** One pipeline's end-to-end figures. */
export interface PipelineFlow {
  readonly produced: number;
  readonly delivered: number;
  readonly producedPerSec: number;
  /**
   * While producing: enrich — records read back from its output stream per second; page-views —
   * records its mapping checkpointed after successful invocations per second.
   */
  readonly recordsPerSec: number;
  /** Records consumed / time from the phase start until all were consumed (or the drain deadline). */
  readonly sustainedRecordsPerSec: number;
  readonly backlogAtThirdRecords: number;
  readonly backlogAtEndRecords: number;
  /** Slope of (produced − delivered) over the last two thirds of the run, records/s; ≤ 0 is no growth. */
  readonly backlogGrowthPerSec: number;
  readonly maxMillisBehindLatest: number;
  /** From the producers' stop until every record was delivered (or the drain timeout). */
  readonly drainMs: number;
  readonly errors: number;
}

/** Pushes PutRecords of 500 as fast as Kinesis accepts them until `until`; counts accepted records. */
async function produce(
  kinesis: KinesisClient,
  streamName: string,
  make: (i: number) => { data: unknown; partitionKey: string },
  until: number,
  counter: { n: number; putLatencies: number[] },
  ratePerSec: number | undefined,
): Promise<void> {
  let i = 0;
  const start = Date.now();
  const size =
    ratePerSec === undefined
      ? PUT_BATCH
      : Math.max(1, Math.min(PUT_BATCH, Math.round(ratePerSec / 10)));
  while (Date.now() < until) {
    if (ratePerSec !== undefined) {
      const due = start + (i / ratePerSec) * 1000;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      if (Date.now() >= until) break;
    }
    const entries = [];
    for (let j = 0; j < size; j++, i++) {
      const { data, partitionKey } = make(i);
      entries.push({ Data: Buffer.from(JSON.stringify(data)), PartitionKey: partitionKey });
    }
    const t = Date.now();
    const out = await kinesis.send(
      new PutRecordsCommand({ StreamName: streamName, Records: entries }),
    );
    counter.putLatencies.push(Date.now() - t);
    counter.n += entries.length - (out.FailedRecordCount ?? 0);
  }
}

const slope = (points: ReadonlyArray<readonly [number, number]>): number => {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
};

/**
 * End to end on the embedded AWS: deploys the synthesized app on the running engines, starts
 * every event source mapping, then pushes `enrich` (numbers) and `page-views` (clicks) input at
 * the Kinesis engine's full ingest rate for `seconds`. Measures per pipeline the delivered
 * throughput and the backlog (produced − delivered, sampled every 500 ms), and for `enrich`
 * the put-to-output latency of every record (HdrHistogram: PutRecords send time embedded in the
 * record → record read back from the output stream, polled every 25 ms).
 */
export async function runE2e(options: E2eOptions) {
  const { cdkOut, synthMs } = await options.assembly;
  const deployStart = Date.now();
  const runtime = await startLocalRuntime({
    cdkOut,
    engines: options.engines,
    pollIntervalMs: 100,
    warn: () => undefined,
  });
  const deployMs = Date.now() - deployStart;
  const { kinesis } = localClients(options.engines.endpoints);
  try {
    const names = runtime.describe().names;
    const numbers = names.numbers?.physicalName ?? '';
    const doubled = names['numbers-doubled']?.physicalName ?? '';
    const clicks = names.clicks?.physicalName ?? '';
    const streams = { enrich: numbers, 'page-views': clicks } as const;

    const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000 });
    let outputs = 0;
    const reader = new AbortController();
    const reading = readStream({
      client: kinesis,
      streamName: doubled,
      pollIntervalMs: 25,
      signal: reader.signal,
      onRecord: (record) => {
        const body = JSON.parse(Buffer.from(record.data).toString('utf8')) as { sentAt?: number };
        if (typeof body.sentAt === 'number')
          latency.recordValue(Math.max(1, Date.now() - body.sentAt));
        outputs++;
      },
    });
    // Let the reader take its LATEST iterators before anything is produced.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    // The mapping of each pipeline's function (clicks also feeds `sessions`).
    const norm = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]/g, '');
    const logicalIds = new Map(
      runtime.describe().functions.map((f) => [f.functionName, `${f.functionName}${f.logicalId}`]),
    );
    const mappingOf = (pipeline: keyof typeof streams) => {
      const candidates = runtime.stats().filter((s) => s.streamName === streams[pipeline]);
      return (
        candidates.find((s) =>
          norm(logicalIds.get(s.functionName) ?? s.functionName).includes(norm(pipeline)),
        ) ?? candidates[0]
      );
    };
    const ownDelivered = (p: keyof typeof streams): number => mappingOf(p)?.recordsDelivered ?? 0;

    // Warm-up: every function host started and one batch through each pipeline before timing.
    const warmDeadline = Date.now() + 60_000;
    const warmBase = { enrich: ownDelivered('enrich'), 'page-views': ownDelivered('page-views') };
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: numbers,
        Records: [
          { Data: Buffer.from(JSON.stringify({ id: 'warm', value: 1 })), PartitionKey: 'w' },
        ],
      }),
    );
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: clicks,
        Records: [
          {
            Data: Buffer.from(
              JSON.stringify({ type: 'page_view', page: '/warm', userId: 'w', ts: Date.now() }),
            ),
            PartitionKey: 'w',
          },
        ],
      }),
    );
    while (
      Date.now() < warmDeadline &&
      (ownDelivered('enrich') <= warmBase.enrich ||
        ownDelivered('page-views') <= warmBase['page-views'])
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const behind = (p: keyof typeof streams): number => mappingOf(p)?.millisBehindLatest ?? 0;
    const errorsOf = (p: keyof typeof streams): number => mappingOf(p)?.errors ?? 0;
    let serial = 0;

    /** One phase: producers at `ratePerSec` per stream (undefined = as fast as Kinesis takes). */
    const phase = async (ratePerSec: number | undefined, seconds: number) => {
      latency.reset();
      outputs = 0;
      const start = Date.now();
      const until = start + seconds * 1000;
      const baseline = { enrich: ownDelivered('enrich'), 'page-views': ownDelivered('page-views') };
      const errorBase = { enrich: errorsOf('enrich'), 'page-views': errorsOf('page-views') };
      const delivered = (p: keyof typeof streams): number => ownDelivered(p) - baseline[p];
      const produced = {
        enrich: { n: 0, putLatencies: [] as number[] },
        'page-views': { n: 0, putLatencies: [] as number[] },
      };
      const samples: Record<keyof typeof streams, Array<readonly [number, number]>> = {
        enrich: [],
        'page-views': [],
      };
      const maxBehind = { enrich: 0, 'page-views': 0 };
      const sampler = setInterval(() => {
        const t = (Date.now() - start) / 1000;
        for (const p of ['enrich', 'page-views'] as const) {
          samples[p].push([t, produced[p].n - delivered(p)]);
          maxBehind[p] = Math.max(maxBehind[p], behind(p));
        }
      }, 500);
      const tag = serial++;
      await Promise.all([
        produce(
          kinesis,
          numbers,
          (i) => ({
            data: { id: `e-${tag}-${i}`, device: `d-${i % 64}`, value: i, sentAt: Date.now() },
            partitionKey: `d-${i % 64}`,
          }),
          until,
          produced.enrich,
          ratePerSec,
        ),
        produce(
          kinesis,
          clicks,
          (i) => ({
            data: {
              type: 'page_view',
              page: `/p/${i % 50}`,
              userId: `u-${i % 10_000}`,
              ts: Date.now(),
            },
            partitionKey: `u-${i % 10_000}`,
          }),
          until,
          produced['page-views'],
          ratePerSec,
        ),
      ]);
      const producedMs = Date.now() - start;
      // enrich: records out of the pipeline (read back from its output); page-views emits only
      // window results, so its records are counted where its mapping checkpoints them.
      const deliveredAtStop = { enrich: outputs, 'page-views': delivered('page-views') };
      const drainDeadline = Date.now() + options.drainSeconds * 1000;
      const drainMs = { enrich: -1, 'page-views': -1 };
      const consumed = (p: keyof typeof streams): number =>
        p === 'enrich' ? outputs : delivered('page-views');
      while (Date.now() < drainDeadline && (drainMs.enrich < 0 || drainMs['page-views'] < 0)) {
        for (const p of ['enrich', 'page-views'] as const) {
          if (drainMs[p] < 0 && consumed(p) >= produced[p].n)
            drainMs[p] = Date.now() - start - producedMs;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const elapsedMs = Date.now() - start;
      clearInterval(sampler);
      // The last outputs of enrich, then the latency histogram is complete.
      const outDeadline = Date.now() + 3000;
      while (outputs < produced.enrich.n && Date.now() < outDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const flow = (p: keyof typeof streams): PipelineFlow => {
        const points = samples[p];
        const third = points.find(([t]) => t >= seconds / 3);
        const last = points.filter(([t]) => t <= producedMs / 1000).at(-1);
        return {
          produced: produced[p].n,
          delivered: delivered(p),
          producedPerSec: Math.round(produced[p].n / (producedMs / 1000)),
          recordsPerSec: Math.round(deliveredAtStop[p] / (producedMs / 1000)),
          // Everything consumed over the time it took (until drained, or the drain deadline).
          sustainedRecordsPerSec: Math.round(
            consumed(p) / ((drainMs[p] >= 0 ? producedMs + drainMs[p] : elapsedMs) / 1000),
          ),
          backlogAtThirdRecords: third?.[1] ?? 0,
          backlogAtEndRecords: last?.[1] ?? 0,
          backlogGrowthPerSec: round(
            slope(points.filter(([t]) => t >= seconds / 3 && t <= producedMs / 1000)),
            1,
          ),
          maxMillisBehindLatest: maxBehind[p],
          drainMs: drainMs[p],
          errors: errorsOf(p) - errorBase[p],
        };
      };
      const enrich = flow('enrich');
      const pageViews = flow('page-views');
      return {
        ratePerSecPerStream: ratePerSec ?? 'max',
        seconds,
        enrich: { ...enrich, outputsRead: outputs },
        pageViews,
        recordsPerSec: enrich.sustainedRecordsPerSec + pageViews.sustainedRecordsPerSec,
        recordsPerSecDuringProduction: enrich.recordsPerSec + pageViews.recordsPerSec,
        p50Ms: latency.totalCount === 0 ? -1 : latency.getValueAtPercentile(50),
        p99Ms: latency.totalCount === 0 ? -1 : latency.getValueAtPercentile(99),
        maxMs: latency.totalCount === 0 ? -1 : latency.maxValue,
        latencySamples: latency.totalCount,
        backlogGrowthPerSec: Math.max(enrich.backlogGrowthPerSec, pageViews.backlogGrowthPerSec),
      };
    };

    // 1. Trickle (about 20 records/s per stream): the latency of an unsaturated pipeline.
    const idle = await phase(20, options.idleSeconds);
    // 2. Full rate: how fast the engine ingests, and whether the pipelines keep up with it.
    const full = await phase(undefined, options.seconds);
    reader.abort();
    await reading;
    return {
      synthMs,
      deployMs,
      idle,
      fullRate: full,
      recordsPerSec: full.recordsPerSec,
      p50Ms: full.p50Ms,
      p99Ms: full.p99Ms,
      idleP50Ms: idle.p50Ms,
      idleP99Ms: idle.p99Ms,
      backlogGrowthPerSec: full.backlogGrowthPerSec,
    };
  } finally {
    kinesis.destroy();
    await runtime.stop();
  }
}

/** A synthesized cloud assembly of the app, in a temporary directory. */
export interface Assembly {
  readonly cdkOut: string;
  readonly synthMs: number;
  /** Deletes the directory. */
  dispose(): void;
}

/**
 * Synthesizes the app (stage `bench`, cdk-nag off) into a temporary directory. A separate
 * process: `--quick` overlaps it with the write-cost section.
 */
export async function synthesizeApp(): Promise<Assembly> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-bench-e2e-'));
  const previousContext = process.env.CDK_CONTEXT_JSON;
  process.env.CDK_CONTEXT_JSON = JSON.stringify({ stage: 'bench', nag: 'false' });
  const start = Date.now();
  try {
    const cdkOut = await synthesize(ROOT, path.join(work, 'cdk.out'));
    return {
      cdkOut,
      synthMs: Date.now() - start,
      dispose: () => fs.rmSync(work, { recursive: true, force: true }),
    };
  } catch (error) {
    fs.rmSync(work, { recursive: true, force: true });
    throw error;
  } finally {
    if (previousContext === undefined) delete process.env.CDK_CONTEXT_JSON;
    else process.env.CDK_CONTEXT_JSON = previousContext;
  }
}
