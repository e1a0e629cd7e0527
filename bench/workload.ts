import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

/** A seeded PRNG (mulberry32): the same seed gives the same workload on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Samples ranks 0..n-1 with P(rank k) ∝ 1/(k+1)^s (Zipf), by binary search in the CDF.
 * s = 1 is the classic "a few hot keys, a long tail" skew.
 */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / (k + 1) ** s;
    cdf[k] = total;
  }
  for (let k = 0; k < n; k++) cdf[k] = (cdf[k] as number) / total;
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Start of event time of every workload (a minute boundary). */
export const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);

const SEQUENCE_BASE = 49590338271490256608559692538361571095921575989136588898n;

/** Options of a generated stream of batches. */
export interface WorkloadOptions {
  /** Records per batch (one Lambda invocation). */
  readonly batchSize: number;
  readonly batches: number;
  /** Distinct keys (pages, categories), Zipf-skewed. */
  readonly keys: number;
  /** @default 1 */
  readonly zipfS?: number;
  /**
   * Event-time rate of the stream, events per second: how much event time one batch spans.
   * @default 200 (a 1,000-record batch spans 5 s, a tumbling minute closes every 12 batches)
   */
  readonly eventsPerSecond?: number;
  /** Out-of-order jitter of event times, ms (uniform 0..jitter behind the clock). @default 2000 */
  readonly jitterMs?: number;
  /** @default 1 */
  readonly seed?: number;
  /** @default 'shardId-000000000000' */
  readonly shardId?: string;
}

/** What one generated event looks like, before encoding. */
export type EventFactory = (i: number, key: string, ts: number, random: () => number) => unknown;

/** A page-views click: 90 % page views, 10 % clicks (filtered out by the pipeline), 10,000 users. */
export const pageViewEvent: EventFactory = (_i, key, ts, random) => ({
  type: random() < 0.9 ? 'page_view' : 'click',
  page: `/p/${key}`,
  userId: `u-${Math.floor(random() * 10_000)}`,
  ts,
});

/** A trending product view: category (the key), product (1,000 per category, Zipf inside), user. */
export function trendingEventFactory(seed: number): EventFactory {
  const product = zipfSampler(1000, 1, seededRandom(seed ^ 0x9e3779b9));
  return (_i, key, ts, random) => ({
    category: `c-${key}`,
    productId: `sku-${key}-${product()}`,
    userId: `u-${Math.floor(random() * 10_000)}`,
    ts,
  });
}

/** One Kinesis record exactly as Lambda delivers it. */
export function kinesisRecord(
  payload: unknown,
  shardId: string,
  sequenceNumber: string,
  partitionKey: string,
  arrivalMs: number,
): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data: Buffer.from(JSON.stringify(payload), 'utf8').toString('base64'),
      approximateArrivalTimestamp: arrivalMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/shardflow-bench',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/bench',
  };
}

/**
 * A deterministic stream of Kinesis batches of one shard: event time advances at
 * `eventsPerSecond`, each event jittered up to `jitterMs` back, keys drawn Zipf-skewed.
 */
export function makeBatches(options: WorkloadOptions, factory: EventFactory): KinesisStreamEvent[] {
  const random = seededRandom(options.seed ?? 1);
  const key = zipfSampler(options.keys, options.zipfS ?? 1, random);
  const rate = options.eventsPerSecond ?? 200;
  const jitter = options.jitterMs ?? 2000;
  const shardId = options.shardId ?? 'shardId-000000000000';
  const events: KinesisStreamEvent[] = [];
  let i = 0;
  for (let b = 0; b < options.batches; b++) {
    const records: KinesisStreamRecord[] = [];
    for (let r = 0; r < options.batchSize; r++, i++) {
      const clock = T0 + Math.floor((i * 1000) / rate);
      const ts = clock - Math.floor(random() * jitter);
      const k = String(key());
      records.push(
        kinesisRecord(
          factory(i, k, ts, random),
          shardId,
          String(SEQUENCE_BASE + BigInt(i)),
          `pk-${k}`,
          clock,
        ),
      );
    }
    events.push({ Records: records });
  }
  return events;
}

/** Total records of a list of batches. */
export const recordCount = (events: readonly KinesisStreamEvent[]): number =>
  events.reduce((n, e) => n + e.Records.length, 0);
