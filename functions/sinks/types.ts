import type { KinesisClient } from '@aws-sdk/client-kinesis';

/**
 * One record to write to the output stream.
 */
export interface SinkRecord {
  /**
   * The payload: bytes are sent as they are, a string as UTF-8, anything else as its JSON text.
   */
  readonly data: Uint8Array | string | object;
  /**
   * Decides the shard, and the unit within which {@link KinesisSinkOptions.ordered} keeps order.
   * 1 to 256 Unicode characters.
   */
  readonly partitionKey: string;
  /**
   * Decimal 128-bit hash key that overrides the hash of the partition key to choose the shard.
   * @default - the shard is chosen by the MD5 hash of the partition key
   */
  readonly explicitHashKey?: string;
}

/**
 * Names the stream to write to: by name or by ARN, exactly one of them.
 */
export type SinkStream =
  | {
      /** Name of the stream, in the client's account and region. */
      readonly streamName: string;
      readonly streamArn?: never;
    }
  | {
      /** ARN of the stream (required for a stream in another account). */
      readonly streamArn: string;
      readonly streamName?: never;
    };

/**
 * Tuning and test seams of {@link KinesisSink}.
 */
export interface KinesisSinkSettings {
  /**
   * Client that sends the PutRecords calls.
   * @default - one `new KinesisClient({})` per module, created on first use and shared by every
   * sink, so a warm Lambda environment reuses its connections across invocations
   */
  readonly client?: KinesisClient;
  /**
   * Attempts per PutRecords chunk, the first one included; a chunk with records still failing
   * after that many attempts fails the send with a `PutRecordsFailedError`. At least 1.
   * @default 5
   */
  readonly maxAttempts?: number;
  /**
   * Backoff ceiling before the first retry, in milliseconds; it doubles on each further retry.
   * The actual delay is drawn uniformly from [0, ceiling) ("full jitter").
   * @default 50
   */
  readonly baseDelayMs?: number;
  /**
   * Largest backoff ceiling, in milliseconds. At least `baseDelayMs`.
   * @default 2000
   */
  readonly maxDelayMs?: number;
  /**
   * Keep the order of the records of each partition key as written by the stream.
   *
   * When `true`, a PutRecords call carries at most one record per partition key: a record whose
   * call fails partly is retried before any later record of its key is sent, so no later record
   * can overtake it. Records of different keys still share calls, so this costs extra calls
   * only when one `send` carries several records of the same key (as many calls as the most
   * frequent key has records, at least).
   *
   * When `false`, calls are packed to the quota in input order. Kinesis does not keep order
   * within one PutRecords call when some entries fail: retrying a failed entry lands it after
   * later entries of the same key that succeeded. Use it when each `send` carries at most one
   * record per key, or when readers do not depend on order.
   * @default true
   */
  readonly ordered?: boolean;
  /**
   * Source of randomness for the backoff jitter, returning a number in [0, 1).
   * @default Math.random
   */
  readonly random?: () => number;
  /**
   * Waits the given milliseconds between attempts; tests pass one that records and resolves.
   * @default - `setTimeout` from `node:timers/promises`
   */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Options of {@link KinesisSink}: the stream plus {@link KinesisSinkSettings}.
 */
export type KinesisSinkOptions = SinkStream & KinesisSinkSettings;

/**
 * What one {@link KinesisSink.send} did, for metrics.
 */
export interface SendStats {
  /** Records written to the stream. */
  readonly records: number;
  /** PutRecords calls made, retries included. */
  readonly requests: number;
  /** PutRecords calls that were retries (of failed entries, or of a whole call that failed). */
  readonly retries: number;
  /** Bytes written, data blobs plus partition keys, each record counted once. */
  readonly bytes: number;
}
