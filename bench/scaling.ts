import { InMemoryWindowStore } from './InMemoryWindowStore';
import { pageViews } from './pipelines';
import { handlerRig } from './rig';
import { msSince, round } from './stats';
import { makeBatches, pageViewEvent, recordCount } from './workload';

/** One point of a scaling sweep. */
export interface ScalingPoint {
  readonly batchSize: number;
  readonly keys: number;
  readonly records: number;
  readonly recordsPerSec: number;
  /** Modelled DynamoDB write requests per record (in-memory store, checked against DynamoDB Local). */
  readonly writesPerRecord: number;
  /** Of which slice-state writes (one transaction per 100 touched (key, slice) items per batch). */
  readonly stateWritesPerRecord: number;
  /**
   * Items written per record, however grouped: what write capacity grows with (each at least one
   * unit per KB, two in a transaction).
   */
  readonly itemWritesPerRecord: number;
}

async function point(batchSize: number, keys: number, records: number): Promise<ScalingPoint> {
  const events = makeBatches(
    { batchSize, batches: Math.max(1, Math.round(records / batchSize)), keys, seed: 7 },
    pageViewEvent,
  );
  // Warm-up on a separate store, so the timed run starts from empty state like the first.
  await handlerRig(pageViews, new InMemoryWindowStore(pageViews)).run(events.slice(0, 2));
  const store = new InMemoryWindowStore(pageViews);
  const rig = handlerRig(pageViews, store);
  const start = process.hrtime.bigint();
  await rig.run(events);
  const ms = msSince(start);
  const n = recordCount(events);
  return {
    batchSize,
    keys,
    records: n,
    recordsPerSec: Math.round((n / ms) * 1000),
    writesPerRecord: round(store.stats.writeRequests / n, 4),
    stateWritesPerRecord: round(store.stateWrites / n, 4),
    itemWritesPerRecord: round(store.itemWrites / n, 4),
  };
}

/**
 * How cost grows with work, page-views core with the in-memory store (event time 200 events/s,
 * Zipf s = 1): batch size 100 → 10,000 at 50 keys, and keys 10 → 100,000 at 1,000-record batches.
 */
export async function runScaling(options: { records: number }) {
  const batchSizes = [100, 300, 1000, 3000, 10_000];
  const keyCounts = [10, 100, 1000, 10_000, 100_000];
  const byBatchSize: ScalingPoint[] = [];
  for (const b of batchSizes)
    byBatchSize.push(await point(b, 50, Math.max(options.records, 2 * b)));
  const byKeys: ScalingPoint[] = [];
  for (const k of keyCounts) byKeys.push(await point(1000, k, options.records));
  return { byBatchSize, byKeys };
}
