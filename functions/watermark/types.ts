import type { WATERMARK_MODE } from './constants';

/** What the watermark rules need to know of one shard (a row of the state table). */
export interface ShardClock {
  readonly shardId: string;
  /**
   * The shard's event clock: the highest {@link watermarkTime} of its records so far, epoch ms.
   * `undefined` when the shard has reported but none of its records had an event time (all
   * filtered out or invalid): it neither holds the watermark back nor moves it.
   */
  readonly eventTime: number | undefined;
  /** Processing time of the shard's last batch, epoch ms. */
  readonly processedAt: number;
  /** A parent shard after resharding: it no longer counts. */
  readonly retired: boolean;
}

/** Input of {@link pipelineWatermark}. */
export interface WatermarkInput {
  /** Every shard that has reported (its row). */
  readonly shards: readonly ShardClock[];
  /**
   * Shards that are silent but not caught up: Kinesis still holds records after their position (a
   * backlog, a failing batch being retried), or asking failed. They are not idle.
   */
  readonly behind: ReadonlySet<string>;
  /**
   * Open shards that have not reported yet and hold records: their first batch is still coming,
   * so they hold the watermark where it is.
   */
  readonly pending: number;
  /** The committed watermark (never goes back), if any. */
  readonly committed: number | undefined;
  /** Processing time now, epoch ms. */
  readonly now: number;
  /** How far the watermark trails the event clocks, ms. */
  readonly maxOutOfOrderness: number;
  /** A shard silent for longer than this (ms), and caught up, is idle. */
  readonly idleTimeout: number;
}

/** Output of {@link pipelineWatermark}. */
export interface WatermarkOutcome {
  /** Epoch ms, never below the committed watermark; `undefined` when nothing is known. */
  readonly watermark: number | undefined;
  readonly mode: (typeof WATERMARK_MODE)[keyof typeof WATERMARK_MODE];
  /** Ids of the shards counted idle. */
  readonly idle: ReadonlySet<string>;
}
