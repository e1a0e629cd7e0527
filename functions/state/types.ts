import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { WINDOW_STATUS } from './constants';

/** Aggregate name → JSON-serializable accumulator. Opaque to the store except for additive names. */
export type AccSet = Record<string, unknown>;

/** Merges two accumulator sets of the same pipeline; must be associative and commutative. */
export type MergeAccSets = (a: AccSet, b: AccSet) => AccSet;

/**
 * One batch's contribution to one (key, slice) from one lane, pre-aggregated in memory.
 *
 * `firstSeq`/`lastSeq` are the lowest/highest sequence numbers (decimal strings, up to 128 digits)
 * of the batch records that contributed to this item from this lane.
 */
export interface SliceDelta {
  /** Aggregation key. */
  readonly key: string;
  /** Slice start, epoch ms, inclusive. */
  readonly sliceStart: number;
  /** Slice end, epoch ms, exclusive. */
  readonly sliceEnd: number;
  /** Source lane: shard id, or shard id + partition key when ParallelizationFactor > 1. */
  readonly lane: string;
  /** Lowest contributing sequence number. */
  readonly firstSeq: string;
  /** Highest contributing sequence number. */
  readonly lastSeq: string;
  /** Accumulators of all contributing records. */
  readonly acc: AccSet;
  /**
   * Re-aggregates only the contributing records with sequence number > `afterSeq` (all when
   * `undefined`) and, with `uptoSeq`, ≤ `uptoSeq`; `undefined` if none.
   */
  recompute(afterSeq: string | undefined, uptoSeq?: string): AccSet | undefined;
  /**
   * The sequence numbers of every contributing record (any order, repeats allowed): where a
   * lane's records can be cut into ranges (`PackStore`). Without it, only `firstSeq`/`lastSeq`.
   */
  sequences?(): readonly string[];
}

/** Anything that can send DynamoDB commands (the SDK client, or a stub in unit tests). */
export type DynamoDBSender = Pick<DynamoDBClient, 'send'>;

/** Options of {@link WindowStore}. */
export interface WindowStoreOptions {
  /** DynamoDB client (low-level; the store marshals its own attributes). */
  readonly client: DynamoDBSender;
  /** Name of the state table, created from `createTableInput` / the CDK construct. */
  readonly tableName: string;
  /** Pipeline name; must not contain `#`. One store per pipeline. */
  readonly pipeline: string;
  /** Merges accumulator sets of this pipeline's aggregates. */
  readonly merge: MergeAccSets;
  /** Aggregate names whose accumulator is a plain number merged by `+` (written with `ADD`). */
  readonly additive: ReadonlySet<string>;
  /**
   * Allowed lateness in ms, part of every item's TTL.
   * @default 0
   */
  readonly maxOutOfOrdernessMs?: number;
  /**
   * Longest window a slice belongs to, in ms (hopping size); slices live until that window ends.
   * @default - the slice's own length (tumbling windows)
   */
  readonly windowSizeMs?: number;
  /**
   * How long items are kept after window end + allowed lateness before TTL removes them — or
   * after they were written, when that is later (a replay of old events).
   * @default 604800000 (7 days)
   */
  readonly retentionMs?: number;
  /**
   * Processing time, epoch ms: an item's TTL is never less than `retentionMs` after it.
   * @default Date.now
   */
  readonly clock?: () => number;
  /**
   * Estimated item size (bytes) above which a write is refused with `ItemTooLargeError`.
   * @default 358400 (350 KiB)
   */
  readonly maxItemBytes?: number;
  /**
   * Item writes in flight at once in `applyDeltas`.
   * @default 16
   */
  readonly concurrency?: number;
  /**
   * Attempts of one item's conflict cycle before `WindowStateConflictError`.
   * @default 8
   */
  readonly maxAttempts?: number;
  /**
   * Write shards of the due index. Only ever increase it on a live table.
   * @default 8
   */
  readonly dueBuckets?: number;
  /**
   * Slice images kept in memory between batches (non-additive fast path). 0 disables the cache.
   * @default 10000
   */
  readonly cacheSize?: number;
  /**
   * Group the independent conditional writes of one call (a batch's slice writes; the closes,
   * emit marks and due-index removals of one round) into `TransactWriteItems` requests of up to
   * 100 items: a handful of requests per batch instead of one per item, at twice the write
   * capacity per item (DynamoDB bills transactional writes double). A group that does not apply
   * whole (a lost race, a retry already absorbed) falls back to one write per item, so results are
   * the same either way. `false` writes item by item: fewer capacity units, more round trips.
   * @default true
   */
  readonly groupWrites?: boolean;
}

/** Counters of the requests the store has made; cumulative on `WindowStore.stats`. */
export interface WindowStoreStats {
  /** UpdateItem and TransactWriteItems requests (successful or failed on their condition). */
  writeRequests: number;
  /** GetItem / Query / BatchGetItem requests. */
  readRequests: number;
  /** Conditional writes that failed their condition. */
  conflicts: number;
  /** Capacity units DynamoDB reported (ReturnConsumedCapacity=TOTAL). */
  consumedCapacityUnits: number;
}

/** Options of `applyDeltas`. */
export interface ApplyDeltasOptions {
  /**
   * Called with refused deltas before anything that makes a retry skip their records is
   * committed (`PackStore`: before the lane's cursor moves past them; `WindowStore`, whose sealed
   * items refuse the same records on every retry: once, at the end). A crash after the report
   * reports them again on the retry: at-least-once.
   * @default - refusals are only returned
   */
  readonly onRejected?: (rejected: readonly RejectedDelta[]) => Promise<void>;
}

/** What `applyDeltas` did with one call. */
export interface ApplyDeltasResult extends WindowStoreStats {
  /** Distinct (key, slice) items the deltas touched. */
  readonly items: number;
  /** Items that absorbed at least one record. */
  readonly applied: number;
  /** Items that had already absorbed everything (replays). */
  readonly skipped: number;
  /** Items that were sealed by a closer and refused the records they had not absorbed. */
  readonly sealed: number;
  /** Per (item, lane): the records a sealed slice refused — those above `afterSeq` (LATE). */
  readonly rejected: readonly RejectedDelta[];
}

/**
 * What a sealed slice refused from one lane: every contributing record of the delta with a
 * sequence number above `afterSeq` (all of them when `afterSeq` is `undefined`).
 */
export interface RejectedDelta {
  readonly key: string;
  readonly sliceStart: number;
  readonly sliceEnd: number;
  readonly lane: string;
  /** The lane's fence on the sealed item (normalized), or `undefined` when it had none. */
  readonly afterSeq: string | undefined;
  /**
   * With lane packs, a refusal of one record too large: only records up to this sequence number
   * are refused. Absent: every record above `afterSeq`.
   */
  readonly uptoSeq?: string;
  /**
   * Why: `sealed` — a closer, or a batch behind the committed watermark, sealed the slice (LATE,
   * or EXPIRED when it ended more than the retention before the committed watermark); `full` — it
   * was sealed because the records would have grown it beyond `maxItemBytes` (STATE_TOO_LARGE).
   */
  readonly cause: RejectionCause;
}

/** Why a slice refused records (see `RejectedDelta.cause`). */
export type RejectionCause = 'sealed' | 'full';

/** One shard's watermark state as stored. */
export interface ShardWatermark {
  readonly shardId: string;
  /** Max event time seen on the shard, epoch ms. */
  readonly maxEventTime: number;
  /** Processing time of the shard's last batch, epoch ms. */
  readonly processedAt: number;
  /** Set by `retireShard` (parent shard after resharding). */
  readonly retired: boolean;
  /** The shard's stream, as reported by its last batch (`eventSourceARN`). */
  readonly streamArn?: string;
  /** Highest sequence number of the shard's last reported batch. */
  readonly lastSequenceNumber?: string;
  /**
   * Whether the shard stops holding the watermark back: its last batch is older than
   * `idleTimeout` at read time AND, when a `tailProbe` is given and the shard's position is
   * known, the stream holds nothing after that position (caught up). A shard that is silent
   * because it is backlogged, throttled or retrying a failing batch is not idle.
   */
  readonly idle: boolean;
}

/** Where a shard's processing stands: the stream and the last sequence number processed. */
export interface ShardPosition {
  readonly shardId: string;
  readonly streamArn: string;
  readonly sequenceNumber: string;
}

/**
 * Where a tail probe starts reading: after `sequenceNumber`, or at the shard's start when it is
 * `undefined` (a shard that has not reported yet).
 */
export type ShardProbePosition = Omit<ShardPosition, 'sequenceNumber'> & {
  readonly sequenceNumber: string | undefined;
  /**
   * Records that arrived at or after this time (epoch ms) are no backlog: a shard whose first
   * unread record is that fresh keeps up (a steady stream the function reads as it comes).
   * Absent: any unread record means "not caught up".
   */
  readonly freshSince?: number;
};

/**
 * Tells whether a shard has nothing to read after `position` (caught up). Called only for shards
 * that have been silent for longer than `idleTimeout`, or have not reported yet. A probe that throws
 * makes the shard count as not idle (it holds the watermark back): a late window beats a record
 * wrongly refused as LATE.
 */
export type ShardTailProbe = (position: ShardProbePosition) => Promise<boolean>;

/** An open shard of a stream, with the shard(s) it was split or merged from. */
export interface OpenShard {
  readonly shardId: string;
  /** `ParentShardId` and `AdjacentParentShardId`, when the shard came from resharding. */
  readonly parents: readonly string[];
}

/** Lists a stream's open shards (`ListShards`). */
export type OpenShardLister = (streamArn: string) => Promise<readonly OpenShard[]>;

/** Options of `readWatermark`. */
export interface ReadWatermarkOptions {
  /** Max out-of-orderness: how far (ms) the watermark trails the shards' event clocks. */
  readonly maxOutOfOrderness: number;
  /** A shard whose last batch is older than this (ms) stops holding the watermark back. */
  readonly idleTimeout: number;
  /** Processing time now, epoch ms (a clock, pinned in tests). */
  readonly now: number;
  /**
   * Confirms that a silent shard is caught up before it stops holding the watermark back. Without
   * it, silence alone (`idleTimeout`) makes a shard idle.
   */
  readonly tailProbe?: ShardTailProbe;
  /**
   * Lists the open shards of each stream the shards report from. An open shard that has not
   * reported yet, and that Lambda will read from its start, holds the watermark at the committed
   * one while `tailProbe` finds records in it (its first batch is still coming: without this, a
   * shard that reports first closes windows the other shards' first batches still hold records
   * for). Lambda reads a shard from its start when it is the child of a shard that has reported
   * (resharding), or — `readsFromStart` — when the mapping starts at `TRIM_HORIZON`.
   * Without it (or without `tailProbe`), only shards that have reported count.
   */
  readonly openShards?: OpenShardLister;
  /**
   * The mappings start at `TRIM_HORIZON`: every open shard is read from its start (see
   * `openShards`). With `LATEST`, records already in a shard are never delivered, so only the
   * children of reported shards are waited for.
   * @default false
   */
  readonly readsFromStart?: boolean;
  /** Called when `tailProbe` or `openShards` throws for a shard or stream (a probed shard then counts as not idle). */
  readonly onProbeError?: (shardId: string, error: unknown) => void;
}

/** The pipeline watermark and how it was derived. */
export interface PipelineWatermark {
  /**
   * Epoch ms; `undefined` when no shard has reported and nothing was committed, or when a shard that
   * has not reported yet holds it back and nothing was committed.
   */
  readonly watermark: number | undefined;
  /**
   * `event-time`: min over non-idle shards; `processing-time`: every shard idle, advanced by the
   * wall clock; `committed`: no live shard, the committed floor; `none`: nothing known.
   */
  readonly mode: 'event-time' | 'processing-time' | 'committed' | 'none';
  /** Highest watermark committed with `commitWatermark` (never goes back). */
  readonly committed: number | undefined;
  readonly shards: readonly ShardWatermark[];
}

/** Outcome of `updateShardWatermark`. */
export type WatermarkUpdate = 'advanced' | 'refreshed' | 'unchanged';

/** A window identified by key and bounds. */
export interface WindowRef {
  readonly key: string;
  /** Epoch ms, inclusive. */
  readonly start: number;
  /** Epoch ms, exclusive. */
  readonly end: number;
}

/** Window bounds, as returned by a `windowsOfSlice` callback. */
export interface WindowBounds {
  readonly start: number;
  readonly end: number;
}

/** The windows a slice contributes to (tumbling: one; hopping: size / slide). */
export type WindowsOfSlice = (sliceStart: number, sliceEnd: number) => readonly WindowBounds[];

/** Options of `findDueWindows`. */
export interface FindDueWindowsOptions {
  /** Maps a slice to the windows it belongs to. */
  readonly windowsOfSlice: WindowsOfSlice;
  /**
   * Most windows returned.
   * @default 100
   */
  readonly limit?: number;
}

/** A window's merged contents. */
export interface WindowContents {
  readonly acc: AccSet;
  /** The slices merged, ascending. */
  readonly slices: readonly WindowBounds[];
}

/** A window status item in CLOSED state. */
export interface ClosedWindow extends WindowRef {
  readonly closedAt: number;
}

/** Status values of a window status item. */
export type WindowStatus = (typeof WINDOW_STATUS)[keyof typeof WINDOW_STATUS];

/** Outcome of `closeWindow`: `closed` means this caller won and must emit. */
export type CloseOutcome = 'closed' | 'already-closed';

/** Outcome of `markEmitted`. */
export type EmitOutcome = 'emitted' | 'already-emitted';

// -------------------------------------------------------------------------------------------------
// Sessions
// -------------------------------------------------------------------------------------------------

/** One contributing element of a {@link SessionDelta}: where it came from and its event time. */
export interface SessionElement {
  /** Source lane (shard, or shard + partition key). */
  readonly lane: string;
  /** Sequence number of the element's record (decimal string, up to 128 digits). */
  readonly sequenceNumber: string;
  /** Event time, epoch ms. */
  readonly time: number;
  /**
   * Index of the element among its record's elements (a `flatMap` may make several).
   * @default 0
   */
  readonly ordinal?: number;
}

/** A session with its accumulators, `[start, end)` with `end` = last event time + gap. */
export interface SessionContents {
  readonly start: number;
  readonly end: number;
  readonly acc: AccSet;
}

/** One batch's contribution to one key's sessions, from any number of lanes. */
export interface SessionDelta {
  /** Aggregation key. */
  readonly key: string;
  /** Every contributing element of the batch for this key. */
  readonly elements: readonly SessionElement[];
  /**
   * The sessions formed by the elements at `indices` alone (sorted by start, non-overlapping,
   * events at most `gap` apart merged), with their accumulators.
   */
  sessionsOf(indices: readonly number[]): SessionContents[];
}

/**
 * A session refusal: the elements of a delta that were not counted — their gap interval touches a
 * sealed session, or the session they would join ends at or before the committed watermark.
 */
export interface RefusedSessionElements {
  readonly key: string;
  /** Indices into the delta's `elements` (new refusals and `remembered` ones). */
  readonly indices: readonly number[];
  /** The sealed session(s) they touch. */
  readonly sealed: readonly SessionRef[];
  /**
   * Those of `indices` refused because their gap interval ends at or before the committed
   * watermark (records far behind it), not for touching a sealed session.
   */
  readonly behindWatermark?: readonly number[];
  /** The committed watermark they were refused against, with `behindWatermark`. */
  readonly watermark?: number;
  /**
   * Those of `indices` that an earlier, committed plan refused (this delta replays them): reported
   * again, as the crash of that attempt may have come before its report.
   */
  readonly remembered?: readonly number[];
  /**
   * Those of `indices` refused as EXPIRED: their own gap ended more than the retention before the
   * committed watermark.
   */
  readonly expired?: readonly number[];
  /**
   * Those of `indices` refused as STATE_TOO_LARGE: their session would have grown beyond the item
   * size limit.
   */
  readonly tooLarge?: readonly number[];
}

/** A session identified by key and bounds. */
export interface SessionRef {
  readonly key: string;
  /** Epoch ms of the first event. */
  readonly start: number;
  /** Last event time + gap, epoch ms. */
  readonly end: number;
}

/** Options of {@link SessionStore}. */
export interface SessionStoreOptions {
  /** DynamoDB client (low-level). */
  readonly client: DynamoDBSender;
  /** Name of the state table (the same table as the `WindowStore`'s). */
  readonly tableName: string;
  /** Pipeline name; must not contain `#`. */
  readonly pipeline: string;
  /** Inactivity gap of the session windows, ms (> 0). */
  readonly gapMs: number;
  /** Merges accumulator sets of this pipeline's aggregates. */
  readonly merge: MergeAccSets;
  /**
   * Allowed lateness in ms, part of every item's TTL.
   * @default 0
   */
  readonly maxOutOfOrdernessMs?: number;
  /**
   * How long items are kept after session end + allowed lateness before TTL removes them — or
   * after they were written, when that is later (a replay of old events).
   * @default 604800000 (7 days)
   */
  readonly retentionMs?: number;
  /**
   * Processing time, epoch ms: an item's TTL is never less than `retentionMs` after it.
   * @default Date.now
   */
  readonly clock?: () => number;
  /**
   * Estimated item size (bytes) above which a write is refused with `ItemTooLargeError`.
   * @default 358400 (350 KiB)
   */
  readonly maxItemBytes?: number;
  /**
   * Keys written in parallel by `applySessions`.
   * @default 16
   */
  readonly concurrency?: number;
  /**
   * Plan-and-commit cycles of one key before `WindowStateConflictError`.
   * @default 8
   */
  readonly maxAttempts?: number;
  /**
   * Write shards of the due index. Only ever increase it on a live table.
   * @default 8
   */
  readonly dueBuckets?: number;
}

/** Options of `applySessions`. */
export interface ApplySessionsOptions {
  /**
   * Called with a key's refused elements *after* the key's transaction committed them as refused
   * (with its fences): what is reported is exactly what was not counted. The transaction also
   * remembers them on the key's fence item, so a replay of the same records after a crash between
   * the commit and the report reports them again (`remembered`): at-least-once.
   * @default - refusals are only returned
   */
  readonly onRefused?: (refused: RefusedSessionElements) => Promise<void>;
  /**
   * The committed watermark the batch read before writing: new elements that would join (or form)
   * a session ending at or before it are refused (LATE) rather than opening or growing a session
   * that is due at once.
   * @default - only elements touching a sealed session are refused
   */
  readonly committedWatermark?: number;
}

/** What `applySessions` did. */
export interface ApplySessionsResult extends WindowStoreStats {
  /** Keys the deltas touched. */
  readonly keys: number;
  /** Keys whose transaction committed (absorbed or refused at least one element). */
  readonly applied: number;
  /** Keys whose every element was already absorbed (replays): no write. */
  readonly skipped: number;
  /** Every refusal passed to `onRefused` in the committed plans. */
  readonly refused: readonly RefusedSessionElements[];
  /** The sessions written (merged), as committed: previews for `emit('update')`. */
  readonly written: readonly (SessionRef & { readonly acc: AccSet })[];
}

/** Outcome of `closeSession`. */
export type CloseSessionOutcome =
  | { readonly outcome: 'closed'; readonly session: SessionRef & { readonly acc: AccSet } }
  | { readonly outcome: 'already-closed' | 'not-due' | 'gone' };
