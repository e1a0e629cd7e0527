import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { FunctionInvoker, InvocationResult } from '#local/lambda/types';
import type { FilterPattern } from './matchesFilter';

/** A Kinesis record as the poller keeps it between GetRecords and the invocation. */
export interface StreamRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** Epoch milliseconds. */
  readonly approximateArrivalTimestamp: number;
}

/** The last successfully processed position of a shard for one mapping. */
export interface ShardCheckpoint {
  /** Sequence number of the last record processed successfully (undefined: none yet). */
  readonly sequenceNumber?: string;
  /** Whether the shard is closed and every record of it is processed (children may start). */
  readonly ended: boolean;
}

/**
 * Where a mapping keeps its per-shard checkpoints: in memory ({@link InMemoryCheckpointStore}) or
 * in a file that survives restarts (`FileCheckpointStore`, `--state-dir`).
 */
export interface CheckpointStore {
  load(mappingId: string, shardId: string): Promise<ShardCheckpoint | undefined>;
  save(mappingId: string, shardId: string, checkpoint: ShardCheckpoint): Promise<void>;
}

/** A batch still to be invoked, with how often it (or the batch it was split from) was retried. */
export interface PendingBatch {
  readonly records: readonly StreamRecord[];
  /** Retries so far (0 on the first attempt). */
  readonly retries: number;
}

/** One invocation of a batch and its result: the input of a {@link BatchOutcome}. */
export interface BatchAttempt {
  readonly mappingId: string;
  readonly shardId: string;
  readonly batch: PendingBatch;
  readonly result: InvocationResult;
  /** Epoch milliseconds now (from the mapping's clock). */
  readonly now: number;
}

/** Records given up on, for the on-failure destination. */
export interface DiscardedBatch {
  readonly records: readonly StreamRecord[];
  /** Why: `RetryAttemptsExhausted`, `RecordAgeExceeded`. */
  readonly condition: string;
  /** The last invocation's result (none if the records expired before any invocation). */
  readonly result?: InvocationResult;
  /** Retries so far; the failure record's approximateInvokeCount is `retries + 1` after an invocation. */
  readonly retries: number;
  /** How many times the records were offered to the function (0 if they expired unread). */
  readonly invokeCount: number;
}

/** What to do after an attempt: checkpoint, what to invoke next, what to give up on. */
export interface BatchDecision {
  /** Sequence number through which the shard is done (checkpointed); only ever moves forward. */
  readonly checkpoint?: string;
  /** Batches to invoke next, in order, before the poller goes on reading (empty: done). */
  readonly next: readonly PendingBatch[];
  /** Records to hand to the on-failure destination. */
  readonly discarded?: DiscardedBatch;
  /** Wait before invoking `next`, in milliseconds. */
  readonly delayMs?: number;
}

/**
 * The one pluggable step deciding what a batch's result means: retry, bisect, partial batch
 * response, give up. {@link LambdaBatchOutcome} is Lambda's; {@link RetryUntilSuccess} the
 * simplest one.
 */
export interface BatchOutcome {
  decide(attempt: BatchAttempt): BatchDecision | Promise<BatchDecision>;
}

/** Time source of a mapping; tests pin it. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Waits `ms`, or less if `signal` aborts (then resolves, never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The settings of a Kinesis event source mapping, read from its template properties. */
export interface KinesisMappingSettings {
  readonly uuid: string;
  readonly functionName: string;
  readonly eventSourceArn: string;
  readonly streamName: string;
  readonly enabled: boolean;
  /** @default 100 */
  readonly batchSize: number;
  /** @default 0 */
  readonly maximumBatchingWindowInSeconds: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  /** Epoch seconds, for AT_TIMESTAMP. */
  readonly startingPositionTimestamp?: number;
  /** -1: retry until the record expires. @default -1 */
  readonly maximumRetryAttempts: number;
  /** -1: no limit. @default -1 */
  readonly maximumRecordAgeInSeconds: number;
  /** @default false */
  readonly bisectBatchOnFunctionError: boolean;
  /** FunctionResponseTypes contains ReportBatchItemFailures. @default false */
  readonly reportBatchItemFailures: boolean;
  /** @default 1 */
  readonly parallelizationFactor: number;
  /** 0: no tumbling window. @default 0 */
  readonly tumblingWindowInSeconds: number;
  /** Parsed FilterCriteria patterns (empty: every record passes). @default [] */
  readonly filters: readonly FilterPattern[];
  /** ARN of DestinationConfig.OnFailure.Destination, if any. */
  readonly onFailureDestination?: string;
  /** Every template property, resolved. */
  readonly properties: Readonly<Record<string, unknown>>;
}

/** The mapping as the template declares it (a `EventSourceMappingDefinition` fits). */
export interface KinesisMappingDefinition {
  readonly uuid: string;
  readonly functionName: string;
  readonly eventSourceArn: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** Options for {@link KinesisEventSourceMapping}. */
export interface KinesisEventSourceMappingOptions {
  /** The mapping from the template. */
  readonly definition: KinesisMappingDefinition;
  /** Invokes the target function (its {@link FunctionHost}). */
  readonly invoker: FunctionInvoker;
  /** Kinesis client for the engine (HTTP/1.1 handler). */
  readonly kinesis: KinesisClient;
  /** Region in each record's `awsRegion`. */
  readonly region: string;
  /** Execution role ARN in each record's `invokeIdentityArn`. */
  readonly invokeIdentityArn: string;
  /**
   * Where checkpoints are kept.
   * @default - a new in-memory store
   */
  readonly checkpoints?: CheckpointStore;
  /**
   * Decides retries, splits and checkpoints after each invocation.
   * @default - Lambda's semantics for the mapping's settings (`LambdaBatchOutcome`)
   */
  readonly outcome?: BatchOutcome;
  /**
   * Receives discarded batches, with the shard they come from (the on-failure destination).
   * @default - dropped
   */
  readonly onDiscard?: (mappingId: string, shardId: string, discarded: DiscardedBatch) => void;
  /**
   * Back-off before a failed batch is retried, in milliseconds (used by the default outcome).
   * @default 1000
   */
  readonly retryDelayMs?: number;
  /**
   * Time source.
   * @default - the system clock
   */
  readonly clock?: Clock;
  /**
   * Idle poll interval per shard, in milliseconds.
   * @default 1000
   */
  readonly pollIntervalMs?: number;
  /**
   * How often shards are listed again, in milliseconds.
   * @default 5000
   */
  readonly shardDiscoveryIntervalMs?: number;
  /**
   * Receives warning lines (read errors, shards that cannot be listed).
   * @default - written to stderr
   */
  readonly warn?: (line: string) => void;
}

/** State of a shard's reader. */
export type ShardState = 'waiting-for-parent' | 'polling' | 'ended' | 'stopped';

/** Counters of one shard of a mapping. */
export interface ShardStats {
  readonly shardId: string;
  readonly state: ShardState;
  /** Last checkpointed sequence number. */
  readonly checkpoint?: string;
  /** Records in successful invocations. */
  readonly recordsDelivered: number;
  /** Successful invocations. */
  readonly batches: number;
  /** Invocations (retries included). */
  readonly invocations: number;
  /** Failed invocations. */
  readonly errors: number;
  /** Records read but not yet checkpointed. */
  readonly pendingRecords: number;
  /** Records dropped by FilterCriteria (checkpointed without an invocation). */
  readonly recordsFiltered?: number;
  /** Records given up on (sent to the on-failure destination). */
  readonly recordsDiscarded?: number;
  /** Age of the last record of the last batch when it was invoked, in milliseconds (Lambda's IteratorAge). */
  readonly iteratorAgeMs: number;
  /** `MillisBehindLatest` of the last GetRecords. */
  readonly millisBehindLatest: number;
  /** Last function error, if the latest invocation failed. */
  readonly lastError?: string;
}

/** Counters of a mapping, for the demo view. */
export interface EventSourceMappingStats {
  readonly uuid: string;
  readonly functionName: string;
  readonly streamName: string;
  readonly state: 'Enabled' | 'Disabled' | 'Stopped';
  readonly recordsDelivered: number;
  readonly batches: number;
  readonly invocations: number;
  readonly errors: number;
  /** Largest iterator age over the shards, in milliseconds. */
  readonly iteratorAgeMs: number;
  /** Largest `MillisBehindLatest` over the shards. */
  readonly millisBehindLatest: number;
  readonly shards: readonly ShardStats[];
}
