import type { KinesisStreamEvent } from 'aws-lambda';
import {
  type AnyWindowedPipelineDefinition,
  decodeRecord,
  LANE_MODE,
  preAggregate,
} from '#runtime/index';
import { InMemoryWindowStore } from './InMemoryWindowStore';
import { pageViews, resolveTrending } from './pipelines';
import { handlerRig } from './rig';
import { median, msSince, round } from './stats';
import { makeBatches, pageViewEvent, recordCount, trendingEventFactory } from './workload';

/** Options of the core throughput benchmark. */
export interface CoreOptions {
  /** 1,000-record batches per measurement. */
  readonly batches: number;
  /** Measurements per contender (median reported). */
  readonly rounds: number;
}

/** One core measured against the floor on the same batches. */
export interface CoreFigures {
  readonly floorRecordsPerSec: number;
  readonly pipelineRecordsPerSec: number;
  readonly ratioToFloor: number;
  /** Modelled DynamoDB write requests per 1,000 records (in-memory store count). */
  readonly modelWritesPer1k: number;
  /** Where the time goes: records/s of the handler's stages run alone on the same batches. */
  readonly stages: {
    /** base64 + JSON.parse. */
    readonly floor: number;
    /** decodeRecord: floor + strict UTF-8 + zod safeParse. */
    readonly decodeRecord: number;
    /** preAggregate: decodeRecord + transform, key, event time, slice folding, per-element bookkeeping. */
    readonly preAggregate: number;
    /** The whole handler: preAggregate + deltas + store + watermark + close + results. */
    readonly handler: number;
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
): Promise<{ ms: number; writes: number }> {
  const store = new InMemoryWindowStore(definition);
  const rig = handlerRig(definition, store);
  const start = process.hrtime.bigint();
  await rig.run(events);
  const ms = msSince(start);
  if (rig.failures.records > 0) {
    throw new Error(`${definition.name}: ${rig.failures.records} records failed in the core bench`);
  }
  return { ms, writes: store.stats.writeRequests };
}

/** decodeRecord alone: the floor plus strict UTF-8 decoding and the pipeline's zod schema. */
function timeDecodeRecord(
  definition: AnyWindowedPipelineDefinition,
  events: readonly KinesisStreamEvent[],
): number {
  const start = process.hrtime.bigint();
  for (const event of events) {
    for (const record of event.Records) sink += decodeRecord(record, definition.schema).ok ? 1 : 0;
  }
  return msSince(start);
}

/** preAggregate alone: decode, validate, transform, key, event time and in-memory folding. */
function timePreAggregate(
  definition: AnyWindowedPipelineDefinition,
  events: readonly KinesisStreamEvent[],
): number {
  const start = process.hrtime.bigint();
  for (const event of events) {
    sink += preAggregate(definition, event.Records, { laneOf: LANE_MODE.SHARD }).partials.size;
  }
  return msSince(start);
}

function timeFloor(events: readonly KinesisStreamEvent[]): number {
  const start = process.hrtime.bigint();
  decodeFloor(events);
  return msSince(start);
}

/**
 * Core throughput, in-process and without I/O: the decode floor vs the full page-views and
 * trending handlers (preAggregate, in-memory applyDeltas, watermark, close, seal and result
 * building, exactly as `createWindowedHandler` runs them), on the same 1,000-record batches
 * (50 keys, Zipf s = 1). Contenders alternate within each round; medians are reported.
 */
export async function runCore(options: CoreOptions): Promise<{
  pageViews: CoreFigures;
  trending: CoreFigures & { source: string };
  floorRecordsPerSec: number;
  pipelineRecordsPerSec: number;
  ratioToFloor: number;
  worst: string;
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
  }

  const samples = {
    pvFloor: [] as number[],
    pv: [] as number[],
    trFloor: [] as number[],
    tr: [] as number[],
    pvDecode: [] as number[],
    pvPre: [] as number[],
    trDecode: [] as number[],
    trPre: [] as number[],
  };
  let pvWrites = 0;
  let trWrites = 0;
  for (let r = 0; r < options.rounds; r++) {
    samples.pvFloor.push(timeFloor(pv));
    const a = await timePipeline(pageViews, pv);
    samples.pv.push(a.ms);
    pvWrites = a.writes;
    samples.trFloor.push(timeFloor(tr));
    const b = await timePipeline(trending.definition, tr);
    samples.tr.push(b.ms);
    trWrites = b.writes;
    samples.pvDecode.push(timeDecodeRecord(pageViews, pv));
    samples.pvPre.push(timePreAggregate(pageViews, pv));
    samples.trDecode.push(timeDecodeRecord(trending.definition, tr));
    samples.trPre.push(timePreAggregate(trending.definition, tr));
  }
  const perSec = (ms: number[]): number => Math.round((n / median(ms)) * 1000);
  const figures = (
    floor: number[],
    pipe: number[],
    decode: number[],
    pre: number[],
    writes: number,
  ): CoreFigures => ({
    floorRecordsPerSec: perSec(floor),
    pipelineRecordsPerSec: perSec(pipe),
    ratioToFloor: round(perSec(pipe) / perSec(floor), 3),
    modelWritesPer1k: round((writes / n) * 1000, 1),
    stages: {
      floor: perSec(floor),
      decodeRecord: perSec(decode),
      preAggregate: perSec(pre),
      handler: perSec(pipe),
    },
  });
  const pageViewsFigures = figures(
    samples.pvFloor,
    samples.pv,
    samples.pvDecode,
    samples.pvPre,
    pvWrites,
  );
  const trendingFigures = figures(
    samples.trFloor,
    samples.tr,
    samples.trDecode,
    samples.trPre,
    trWrites,
  );
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
  };
}
