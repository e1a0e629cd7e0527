import type { KinesisStreamEvent } from 'aws-lambda';
import {
  type AnyWindowedPipelineDefinition,
  compiledSchema,
  decodeRecord,
  LANE_MODE,
  preAggregate,
} from '#runtime/index';
import { InMemoryWindowStore } from './InMemoryWindowStore';
import { pageViews, resolveTrending } from './pipelines';
import { handlerRig } from './rig';
import { median, round, startTiming, type Timing } from './stats';
import { makeBatches, pageViewEvent, recordCount, trendingEventFactory } from './workload';

/** Options of the core throughput benchmark. */
export interface CoreOptions {
  /** 1,000-record batches per measurement. */
  readonly batches: number;
  /** Measurements per contender (median reported). */
  readonly rounds: number;
}

/** Records/s of the handler's stages run alone on the same batches. */
export interface CoreStages {
  /** base64 + JSON.parse. */
  readonly floor: number;
  /** decodeRecord: floor + size and nesting checks, strict UTF-8, zod safeParse (compiled schema). */
  readonly decodeRecord: number;
  /** preAggregate: decodeRecord + transform, key, event time, slice folding, per-element bookkeeping. */
  readonly preAggregate: number;
  /** The whole handler: preAggregate + deltas + store + watermark + close + results. */
  readonly handler: number;
}

/** One core measured against the floor on the same batches. */
export interface CoreFigures {
  /** Records per second of CPU time (this process, user + system). */
  readonly floorRecordsPerSec: number;
  /** Records per second of CPU time. */
  readonly pipelineRecordsPerSec: number;
  /** `pipelineRecordsPerSec / floorRecordsPerSec`: the figure issue 7 targets (≥ 0.7). */
  readonly ratioToFloor: number;
  /** Modelled DynamoDB write requests per 1,000 records (in-memory store count). */
  readonly modelWritesPer1k: number;
  /** Where the CPU time goes (records per CPU second). */
  readonly stages: CoreStages;
  /**
   * The same runs timed by the wall clock: on a machine shared with other work these include the
   * time the process waited for a core, so they swing with the load.
   */
  readonly wall: {
    readonly floorRecordsPerSec: number;
    readonly pipelineRecordsPerSec: number;
    readonly ratioToFloor: number;
    readonly stages: CoreStages;
  };
}

let sink = 0;

/**
 * The physical floor of a JavaScript Kinesis handler: base64-decode and JSON.parse every record,
 * nothing else (the sum of field counts keeps the work from being optimized away).
 */
export function decodeFloor(events: readonly KinesisStreamEvent[]): void {
  for (const event of events) {
    for (const record of event.Records) {
      const value = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
      sink += value === null ? 0 : 1;
    }
  }
}

async function timePipeline(
  definition: AnyWindowedPipelineDefinition,
  events: readonly KinesisStreamEvent[],
): Promise<Timing & { writes: number }> {
  const store = new InMemoryWindowStore(definition);
  const rig = handlerRig(definition, store);
  const stop = startTiming();
  await rig.run(events);
  const timing = stop();
  if (rig.failures.records > 0) {
    throw new Error(`${definition.name}: ${rig.failures.records} records failed in the core bench`);
  }
  return { ...timing, writes: store.stats.writeRequests };
}

/** decodeRecord alone, with the schema the handler uses (zod's compiled fast path). */
function timeDecodeRecord(
  definition: AnyWindowedPipelineDefinition,
  events: readonly KinesisStreamEvent[],
): Timing {
  const schema = compiledSchema(definition.schema);
  const stop = startTiming();
  for (const event of events) {
    for (const record of event.Records) sink += decodeRecord(record, schema).ok ? 1 : 0;
  }
  return stop();
}

/** preAggregate alone: decode, validate, transform, key, event time and in-memory folding. */
function timePreAggregate(
  definition: AnyWindowedPipelineDefinition,
  events: readonly KinesisStreamEvent[],
): Timing {
  const stop = startTiming();
  for (const event of events) {
    sink += preAggregate(definition, event.Records, { laneOf: LANE_MODE.SHARD }).partials.size;
  }
  return stop();
}

function timeFloor(events: readonly KinesisStreamEvent[]): Timing {
  const stop = startTiming();
  decodeFloor(events);
  return stop();
}

type Contender = 'floor' | 'decodeRecord' | 'preAggregate' | 'handler';

/**
 * Core throughput, in-process and without I/O: the decode floor vs the full page-views and
 * trending handlers (preAggregate, in-memory applyDeltas, watermark, close, seal and result
 * building, exactly as `createWindowedHandler` runs them), on the same 1,000-record batches
 * (50 keys, Zipf s = 1). Contenders alternate within each round; medians are reported. The
 * headline figures are records per second of **CPU time** of this process (`process.cpuUsage`),
 * which other processes on a shared machine do not inflate; wall-clock figures of the same runs
 * are kept under `wall`.
 */
export async function runCore(options: CoreOptions): Promise<{
  pageViews: CoreFigures;
  trending: CoreFigures & { source: string };
  floorRecordsPerSec: number;
  pipelineRecordsPerSec: number;
  ratioToFloor: number;
  worst: string;
  clock: string;
}> {
  const workload = { batchSize: 1000, batches: options.batches, keys: 50 };
  const pv = makeBatches(workload, pageViewEvent);
  const tr = makeBatches({ ...workload, seed: 2 }, trendingEventFactory(2));
  const sample = JSON.parse(
    Buffer.from(tr[0]?.Records[0]?.kinesis.data ?? '', 'base64').toString('utf8'),
  );
  const trending = resolveTrending(sample);
  const n = recordCount(pv);

  // Warm-up: every path JIT-compiled and the heap grown before anything is timed.
  for (let w = 0; w < 2; w++) {
    decodeFloor(pv);
    decodeFloor(tr);
    await timePipeline(pageViews, pv);
    await timePipeline(trending.definition, tr);
    timePreAggregate(pageViews, pv);
    timePreAggregate(trending.definition, tr);
  }

  const empty = (): Record<Contender, Timing[]> => ({
    floor: [],
    decodeRecord: [],
    preAggregate: [],
    handler: [],
  });
  const samples = { pv: empty(), tr: empty() };
  let pvWrites = 0;
  let trWrites = 0;
  for (let r = 0; r < options.rounds; r++) {
    samples.pv.floor.push(timeFloor(pv));
    const a = await timePipeline(pageViews, pv);
    samples.pv.handler.push(a);
    pvWrites = a.writes;
    samples.tr.floor.push(timeFloor(tr));
    const b = await timePipeline(trending.definition, tr);
    samples.tr.handler.push(b);
    trWrites = b.writes;
    samples.pv.decodeRecord.push(timeDecodeRecord(pageViews, pv));
    samples.pv.preAggregate.push(timePreAggregate(pageViews, pv));
    samples.tr.decodeRecord.push(timeDecodeRecord(trending.definition, tr));
    samples.tr.preAggregate.push(timePreAggregate(trending.definition, tr));
  }
  const perSec = (timings: readonly Timing[], clock: keyof Timing): number =>
    Math.round((n / median(timings.map((t) => t[clock]))) * 1000);
  const stagesOf = (s: Record<Contender, Timing[]>, clock: keyof Timing): CoreStages => ({
    floor: perSec(s.floor, clock),
    decodeRecord: perSec(s.decodeRecord, clock),
    preAggregate: perSec(s.preAggregate, clock),
    handler: perSec(s.handler, clock),
  });
  const figures = (s: Record<Contender, Timing[]>, writes: number): CoreFigures => {
    const cpu = stagesOf(s, 'cpuMs');
    const wall = stagesOf(s, 'wallMs');
    return {
      floorRecordsPerSec: cpu.floor,
      pipelineRecordsPerSec: cpu.handler,
      ratioToFloor: round(cpu.handler / cpu.floor, 3),
      modelWritesPer1k: round((writes / n) * 1000, 1),
      stages: cpu,
      wall: {
        floorRecordsPerSec: wall.floor,
        pipelineRecordsPerSec: wall.handler,
        ratioToFloor: round(wall.handler / wall.floor, 3),
        stages: wall,
      },
    };
  };
  const pageViewsFigures = figures(samples.pv, pvWrites);
  const trendingFigures = figures(samples.tr, trWrites);
  const worst =
    trendingFigures.ratioToFloor < pageViewsFigures.ratioToFloor ? 'trending' : 'page-views';
  const headline = worst === 'trending' ? trendingFigures : pageViewsFigures;
  if (sink < 0) console.log(sink);
  return {
    pageViews: pageViewsFigures,
    trending: { ...trendingFigures, source: trending.source },
    floorRecordsPerSec: headline.floorRecordsPerSec,
    pipelineRecordsPerSec: headline.pipelineRecordsPerSec,
    ratioToFloor: headline.ratioToFloor,
    worst,
    clock:
      'records per CPU second of the bench process (process.cpuUsage); wall clock under *.wall',
  };
}
