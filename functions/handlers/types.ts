import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { KinesisSink } from '#sinks/index';
import type { OpenShardLister, SessionStore, ShardTailProbe, WindowStore } from '#state/index';

/** Processing time, epoch ms. Tests pin it. */
export type Clock = () => number;

/** Where records are written (a `KinesisSink`, or a stub in unit tests). */
export type RecordSink = Pick<KinesisSink, 'send'>;

/** The window store operations the handlers use (a `WindowStore`, or a stub in unit tests). */
export type PipelineStore = Pick<
  WindowStore,
  | 'pipeline'
  | 'stats'
  | 'applyDeltas'
  | 'retentionMs'
  | 'updateShardWatermark'
  | 'readWatermark'
  | 'commitWatermark'
  | 'findDueWindows'
  | 'closeWindows'
  | 'sealWindow'
  | 'sealWindows'
  | 'sealSlices'
  | 'readWindow'
  | 'readWindows'
  | 'markWindowsEmitted'
  | 'findClosedNotEmitted'
  | 'leaveDueIndexAll'
>;

/** The session store operations the handlers use (a `SessionStore`, or a stub in unit tests). */
export type SessionPipelineStore = Pick<
  SessionStore,
  | 'pipeline'
  | 'stats'
  | 'applySessions'
  | 'findDueSessions'
  | 'closeSession'
  | 'readClosedSession'
  | 'markSessionEmitted'
  | 'findClosedSessions'
>;

/** What a windowed handler needs besides the event; tests inject their own. */
export interface WindowedHandlerDependencies {
  /** @default - a `WindowStore` on the table named by `SHARDFLOW_STATE_TABLE` */
  readonly store?: PipelineStore;
  /**
   * Session-window pipelines only: where sessions live (watermarks stay in `store`).
   * @default - a `SessionStore` on the table named by `SHARDFLOW_STATE_TABLE`
   */
  readonly sessionStore?: SessionPipelineStore;
  /** @default - a `KinesisSink` on the stream named by `OUTPUT_STREAM_<OUTPUT>` */
  readonly outputSink?: RecordSink;
  /**
   * One sink per side-output stream (`.alert()`), by logical stream name.
   * @default - a `KinesisSink` per side output on the stream named by `OUTPUT_STREAM_<STREAM>`
   */
  readonly sideOutputSinks?: Readonly<Record<string, RecordSink>>;
  /** @default - a `KinesisSink` (unordered) on the stream named by `SHARDFLOW_FAILURE_STREAM` */
  readonly failureSink?: RecordSink;
  /** @default Date.now */
  readonly clock?: Clock;
  /** @default - a Powertools Logger with the pipeline name as service */
  readonly logger?: Logger;
  /** @default - Powertools Metrics in namespace `shardflow` */
  readonly metrics?: Metrics;
  /**
   * Confirms that a silent shard is caught up before it stops holding the watermark back; `null`
   * trusts silence alone (`idleTimeout`).
   * @default - a `KinesisTailProbe` (GetShardIterator + GetRecords on the shard's stream)
   */
  readonly tailProbe?: ShardTailProbe | null;
  /**
   * Lists a stream's open shards, so that one that has not reported yet holds the watermark back
   * while it has records (with the tail probe): every such shard when `SHARDFLOW_STARTING_POSITION`
   * is `TRIM_HORIZON`, else the children of reported shards; `null`: only shards that reported count.
   * @default - the default tail probe's `ListShards`
   */
  readonly openShards?: OpenShardLister | null;
}

/** What the sweeper needs; tests inject their own. Maps are by pipeline name. */
export interface SweeperHandlerDependencies {
  /** @default - one `WindowStore` per pipeline on the table named by `SHARDFLOW_STATE_TABLE` */
  readonly stores?: Readonly<Record<string, PipelineStore>>;
  /** @default - one `SessionStore` per session-window pipeline on the same table */
  readonly sessionStores?: Readonly<Record<string, SessionPipelineStore>>;
  /** @default - one `KinesisSink` per pipeline on its `OUTPUT_STREAM_<OUTPUT>` */
  readonly outputSinks?: Readonly<Record<string, RecordSink>>;
  /**
   * Side-output sinks (`.alert()`) by pipeline name, then by logical stream name.
   * @default - a `KinesisSink` per side output on the stream named by `OUTPUT_STREAM_<STREAM>`
   */
  readonly sideOutputSinks?: Readonly<Record<string, Readonly<Record<string, RecordSink>>>>;
  /** @default Date.now */
  readonly clock?: Clock;
  /** @default - a Powertools Logger, service `shardflow-sweeper` */
  readonly logger?: Logger;
  /** @default - Powertools Metrics in namespace `shardflow` */
  readonly metrics?: Metrics;
  /**
   * A window CLOSED at least this long ago (ms) but not EMITTED is re-emitted.
   * @default 60000
   */
  readonly repairAfterMs?: number;
  /**
   * Confirms that a silent shard is caught up before it stops holding the watermark back; `null`
   * trusts silence alone (`idleTimeout`).
   * @default - a `KinesisTailProbe` (GetShardIterator + GetRecords on the shard's stream)
   */
  readonly tailProbe?: ShardTailProbe | null;
  /**
   * Lists a stream's open shards: a child of a reported shard that has not reported yet holds the
   * watermark while it has records (after a split or merge); `null`: only shards that reported count.
   * @default - the default tail probe's `ListShards`
   */
  readonly openShards?: OpenShardLister | null;
}

/** What one sweep did for one pipeline. */
export interface SweepReport {
  readonly pipeline: string;
  readonly watermark: number | undefined;
  readonly mode: string;
  /** Windows this sweep closed and emitted. */
  readonly closed: number;
  /** Windows CLOSED but not EMITTED that this sweep re-emitted. */
  readonly repaired: number;
}

/** The failure record written to the failure stream (JSON). */
export interface FailureRecordBody {
  readonly pipeline: string;
  readonly reason: string;
  readonly detail: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** ISO-8601. */
  readonly approximateArrivalTimestamp: string;
  /**
   * The record's data exactly as received (base64), or `''` when it did not fit in the failure
   * record (`dataTruncated`): read it back from the source stream at `shardId`/`sequenceNumber`.
   */
  readonly data: string;
  /** Size of the record's data in bytes (decoded, not base64). */
  readonly dataBytes?: number;
  /** Present (`true`) when `data` was left out because the failure record would exceed 1 MiB. */
  readonly dataTruncated?: true;
  /**
   * LATE, EXPIRED and STATE_TOO_LARGE: the indices (in the order the pipeline's transform produced
   * them) of exactly the record's elements that were not counted; the record's other elements were.
   */
  readonly elements?: readonly number[];
  /** With `elements`: how many elements the record produced. */
  readonly elementCount?: number;
  /** Instead of `elements` when their list would not fit: `[first, last]` runs of indices. */
  readonly elementRanges?: ReadonlyArray<readonly [number, number]>;
  /** Instead of `elements` when not even their ranges fit: how many were not counted. */
  readonly elementsNotCounted?: number;
  /** ISO-8601. */
  readonly failedAt: string;
}
