import { setTimeout as delay } from 'node:timers/promises';
import {
  KinesisClient,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import {
  MAX_BYTES_PER_RECORD,
  MAX_BYTES_PER_REQUEST,
  MAX_EXPLICIT_HASH_KEY,
  MAX_PARTITION_KEY_LENGTH,
  MAX_RECORDS_PER_REQUEST,
  RETRYABLE_CALL_ERROR_NAMES,
  RETRYABLE_ENTRY_ERROR_CODES,
  RETRYABLE_NETWORK_ERROR_CODES,
  SINK_DEFAULTS,
} from '#sinks/constants';
import {
  InvalidRecordError,
  PutRecordsFailedError,
  RecordTooLargeError,
  SinkConfigurationError,
} from '#sinks/errors';
import type { KinesisSinkOptions, SendStats, SinkRecord } from '#sinks/types';

/** A record turned into its PutRecords entry, with what chunking and errors need. */
interface PreparedRecord {
  readonly index: number;
  readonly partitionKey: string;
  readonly bytes: number;
  readonly entry: PutRecordsRequestEntry;
}

/** Records that go together in one PutRecords call. */
interface Chunk {
  readonly records: PreparedRecord[];
  bytes: number;
}

/** Why the last attempt of a chunk did not write everything. */
interface Failure {
  readonly code: string;
  readonly message: string | undefined;
  readonly partitionKey: string | undefined;
  readonly cause?: unknown;
}

/** Running totals of one `send`. */
interface Progress {
  readonly total: number;
  records: number;
  requests: number;
  retries: number;
  bytes: number;
}

/** SDK error fields that tell whether a whole-call failure is transient. */
type SdkErrorShape = Error & {
  readonly $fault?: string;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly code?: string;
};

let defaultClient: KinesisClient | undefined;

/** The module's shared client, created on first use so a warm Lambda environment reuses it. */
const getDefaultClient = (): KinesisClient => {
  defaultClient ??= new KinesisClient({});
  return defaultClient;
};

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

const isRetryableCallError = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const sdkError = error as SdkErrorShape;
  const status = sdkError.$metadata?.httpStatusCode ?? 0;
  return (
    RETRYABLE_CALL_ERROR_NAMES.has(sdkError.name) ||
    sdkError.$fault === 'server' ||
    sdkError.$retryable !== undefined ||
    status === 429 ||
    status >= 500 ||
    (sdkError.code !== undefined && RETRYABLE_NETWORK_ERROR_CODES.has(sdkError.code))
  );
};

/**
 * Writes records to one Kinesis data stream with PutRecords: chunks them within the request
 * quotas (500 records, 5 MiB), sends the chunks one after the other, and retries only the
 * entries that failed, with exponential backoff and full jitter, before the next chunk goes.
 *
 * Guarantees:
 * - Nothing is dropped silently: a record still failing after `maxAttempts`, or failing with an
 *   error that retrying cannot fix, makes `send` throw, so the invocation fails and Lambda
 *   retries the batch. Records of earlier chunks stay written, so delivery is at-least-once and
 *   readers dedupe by record id.
 * - Invalid and oversized records are found before anything is sent.
 * - Order per partition key: Kinesis PutRecords does not keep order inside one call when some
 *   entries fail (a retried entry lands after the later entries of its key that succeeded), and
 *   PutRecords has no `SequenceNumberForOrdering`. With `ordered: true` (the default) each call
 *   carries at most one record per partition key, and a call's failed entries are written before
 *   the next call goes, so the records of a key reach the stream in the order given (a retried
 *   whole call may add duplicates, never reorder). With `ordered: false` calls are packed to the
 *   quota in input order, which keeps order only while no entry fails.
 *
 * Whole-call failures that are transient (throttling, 5xx, timeouts) are retried like failed
 * entries; other SDK errors (stream not found, access denied, validation) are re-thrown as they
 * are. The SDK client's own retries of a whole call come on top of these attempts.
 *
 * @example
 * ```ts
 * import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
 * import { KinesisSink } from '#sinks/index';
 *
 * const metrics = new Metrics({ namespace: 'shardflow' });
 * const sink = new KinesisSink({ streamName: process.env.OUTPUT_STREAM ?? 'page-view-counts' });
 *
 * export const handler = async (): Promise<void> => {
 *   const stats = await sink.send([
 *     { data: { id: 'a1', key: '/home', values: { views: 42 } }, partitionKey: '/home' },
 *   ]);
 *   metrics.addMetric('PutRecordsRetries', MetricUnit.Count, stats.retries);
 * };
 * ```
 */
export class KinesisSink {
  /** Name or ARN of the stream, as given; used in messages and errors. */
  public readonly stream: string;

  readonly #target: { StreamName: string } | { StreamARN: string };
  readonly #client: KinesisClient;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #ordered: boolean;
  readonly #random: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  /**
   * @param options - the stream (`streamName` or `streamArn`) and the settings; see
   * {@link KinesisSinkOptions} for the defaults
   * @throws {@link SinkConfigurationError} when the stream is missing or a setting is out of range
   */
  public constructor(options: KinesisSinkOptions) {
    const { streamName, streamArn } = options;
    this.stream = streamName ?? streamArn ?? '';
    if ((streamName === undefined) === (streamArn === undefined) || this.stream === '') {
      throw new SinkConfigurationError(
        `give exactly one non-empty streamName or streamArn, got streamName=${JSON.stringify(streamName)} streamArn=${JSON.stringify(streamArn)}`,
        { stream: this.stream },
      );
    }
    this.#target =
      streamName !== undefined ? { StreamName: streamName } : { StreamARN: this.stream };
    this.#client = options.client ?? getDefaultClient();
    this.#maxAttempts = options.maxAttempts ?? SINK_DEFAULTS.maxAttempts;
    this.#baseDelayMs = options.baseDelayMs ?? SINK_DEFAULTS.baseDelayMs;
    this.#maxDelayMs = options.maxDelayMs ?? SINK_DEFAULTS.maxDelayMs;
    this.#ordered = options.ordered ?? SINK_DEFAULTS.ordered;
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? ((ms) => delay(ms));

    if (!Number.isInteger(this.#maxAttempts) || this.#maxAttempts < 1) {
      throw new SinkConfigurationError(
        `maxAttempts must be an integer >= 1, got ${this.#maxAttempts}`,
        { stream: this.stream },
      );
    }
    if (!Number.isFinite(this.#baseDelayMs) || this.#baseDelayMs < 0) {
      throw new SinkConfigurationError(`baseDelayMs must be >= 0, got ${this.#baseDelayMs}`, {
        stream: this.stream,
      });
    }
    if (!Number.isFinite(this.#maxDelayMs) || this.#maxDelayMs < this.#baseDelayMs) {
      throw new SinkConfigurationError(
        `maxDelayMs must be >= baseDelayMs (${this.#baseDelayMs}), got ${this.#maxDelayMs}`,
        { stream: this.stream },
      );
    }
  }

  /**
   * Writes the records to the stream, in order per partition key (see the class notes on
   * `ordered`), and resolves once every one of them is written.
   *
   * @param records - the records to write; an empty array makes no call
   * @returns what was done, for metrics
   * @throws {@link InvalidRecordError} or {@link RecordTooLargeError} before anything is sent
   * @throws {@link PutRecordsFailedError} when records are still failing after `maxAttempts`, or
   * fail with an error code that retrying cannot fix
   * @throws the SDK's own error, untouched, when a whole call fails for a reason that retrying
   * cannot fix (stream not found, access denied, …)
   *
   * @example
   * ```ts
   * const stats = await sink.send([
   *   { data: 'hello', partitionKey: 'k1' },
   *   { data: new Uint8Array([1, 2, 3]), partitionKey: 'k2', explicitHashKey: '0' },
   * ]);
   * ```
   */
  public async send(records: readonly SinkRecord[]): Promise<SendStats> {
    const prepared = records.map((record, index) => this.#prepare(record, index, records.length));
    const chunks = this.#ordered ? packOnePerKey(prepared) : packInOrder(prepared);
    const progress: Progress = {
      total: records.length,
      records: 0,
      requests: 0,
      retries: 0,
      bytes: 0,
    };
    for (const chunk of chunks) {
      await this.#putChunk(chunk, progress);
    }
    const { records: written, requests, retries, bytes } = progress;
    return { records: written, requests, retries, bytes };
  }

  /** Turns a record into its PutRecords entry, or fails with what is wrong with it. */
  #prepare(record: SinkRecord, index: number, total: number): PreparedRecord {
    const { partitionKey, explicitHashKey } = record;
    const invalid = (reason: string): InvalidRecordError =>
      new InvalidRecordError(
        `record ${index} (partition key ${JSON.stringify(partitionKey)}) for stream "${this.stream}" ${reason}; nothing was sent`,
        { stream: this.stream, failedCount: total, partitionKey, index },
      );

    const keyLength = typeof partitionKey === 'string' ? [...partitionKey].length : 0;
    if (keyLength < 1 || keyLength > MAX_PARTITION_KEY_LENGTH) {
      throw invalid(`needs a partition key of 1 to ${MAX_PARTITION_KEY_LENGTH} characters`);
    }
    if (
      explicitHashKey !== undefined &&
      (!/^\d{1,39}$/.test(explicitHashKey) || BigInt(explicitHashKey) > MAX_EXPLICIT_HASH_KEY)
    ) {
      throw invalid(
        `has explicit hash key ${JSON.stringify(explicitHashKey)}, not a decimal in 0..2^128-1`,
      );
    }

    const data = toBytes(record.data);
    if (data === undefined) {
      throw invalid('has data with no JSON text');
    }
    const bytes = data.byteLength + utf8Bytes(partitionKey);
    if (bytes > MAX_BYTES_PER_RECORD) {
      throw new RecordTooLargeError(
        `record ${index} (partition key ${JSON.stringify(partitionKey)}) for stream "${this.stream}" is ${bytes} bytes, above the ${MAX_BYTES_PER_RECORD} bytes Kinesis accepts per record (data plus partition key); nothing was sent`,
        {
          stream: this.stream,
          failedCount: total,
          partitionKey,
          index,
          sizeBytes: bytes,
          limitBytes: MAX_BYTES_PER_RECORD,
        },
      );
    }

    const entry: PutRecordsRequestEntry = {
      Data: data,
      PartitionKey: partitionKey,
      ...(explicitHashKey === undefined ? {} : { ExplicitHashKey: explicitHashKey }),
    };
    return { index, partitionKey, bytes, entry };
  }

  /**
   * Writes one chunk: calls PutRecords, then again with only the entries that failed (in their
   * order), until all are written or the attempts run out.
   */
  async #putChunk(chunk: Chunk, progress: Progress): Promise<void> {
    let pending: readonly PreparedRecord[] = chunk.records;
    let lastFailure: Failure | undefined;

    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      if (attempt > 1) {
        progress.retries++;
        await this.#sleep(this.#backoffMs(attempt - 1));
      }
      progress.requests++;

      let results: PutRecordsResultEntry[] | undefined;
      try {
        const output = await this.#client.send(
          new PutRecordsCommand({ ...this.#target, Records: pending.map((r) => r.entry) }),
        );
        results = output.Records;
      } catch (error) {
        if (!isRetryableCallError(error)) throw error;
        const sdkError = error as SdkErrorShape;
        lastFailure = {
          code: sdkError.name,
          message: sdkError.message,
          partitionKey: pending[0]?.partitionKey,
          cause: error,
        };
        continue;
      }

      const failed: PreparedRecord[] = [];
      const failures: Failure[] = [];
      pending.forEach((record, position) => {
        const result = results?.[position];
        if (result !== undefined && !result.ErrorCode) {
          progress.records++;
          progress.bytes += record.bytes;
          return;
        }
        failed.push(record);
        failures.push({
          // A missing result entry is a malformed response: treat it as a transient failure.
          code: result?.ErrorCode ?? 'InternalFailure',
          message: result?.ErrorMessage ?? (result ? undefined : 'no result entry in the response'),
          partitionKey: record.partitionKey,
        });
      });
      if (failed.length === 0) return;

      const permanent = failures.find((failure) => !RETRYABLE_ENTRY_ERROR_CODES.has(failure.code));
      if (permanent !== undefined) {
        throw this.#failed(
          `${failed.length} of ${pending.length} records failed with ${permanent.code}, which retrying cannot fix`,
          permanent,
          attempt,
          progress,
        );
      }
      pending = failed;
      lastFailure = failures[0];
    }

    throw this.#failed(
      `${pending.length} of ${chunk.records.length} records of the chunk still failing after ${this.#maxAttempts} attempts`,
      lastFailure,
      this.#maxAttempts,
      progress,
    );
  }

  /** Full jitter: uniform in [0, min(maxDelayMs, baseDelayMs * 2^(retry - 1))). */
  #backoffMs(retry: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (retry - 1));
    return Math.floor(this.#random() * ceiling);
  }

  #failed(
    what: string,
    failure: Failure | undefined,
    attempts: number,
    progress: Progress,
  ): PutRecordsFailedError {
    const notWritten = progress.total - progress.records;
    const first =
      failure === undefined
        ? ''
        : ` (first: ${failure.code}${failure.message ? ` "${failure.message}"` : ''} for partition key ${JSON.stringify(failure.partitionKey)})`;
    return new PutRecordsFailedError(
      `PutRecords to stream "${this.stream}" failed: ${what}${first}; ${progress.records} of ${progress.total} records written, ${notWritten} not written`,
      {
        stream: this.stream,
        failedCount: notWritten,
        firstErrorCode: failure?.code,
        firstErrorMessage: failure?.message,
        firstFailedPartitionKey: failure?.partitionKey,
        attempts,
        writtenCount: progress.records,
        cause: failure?.cause,
      },
    );
  }
}

/** The bytes Kinesis gets for a record's data, or `undefined` when it has no JSON text. */
const toBytes = (data: SinkRecord['data']): Uint8Array | undefined => {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  const json: string | undefined = JSON.stringify(data);
  return json === undefined ? undefined : Buffer.from(json, 'utf8');
};

const fits = (chunk: Chunk, record: PreparedRecord): boolean =>
  chunk.records.length < MAX_RECORDS_PER_REQUEST &&
  chunk.bytes + record.bytes <= MAX_BYTES_PER_REQUEST;

const add = (chunk: Chunk, record: PreparedRecord): void => {
  chunk.records.push(record);
  chunk.bytes += record.bytes;
};

/** Packs records into as few chunks as the quotas allow, keeping the input order. */
const packInOrder = (records: readonly PreparedRecord[]): Chunk[] => {
  const chunks: Chunk[] = [];
  let current: Chunk | undefined;
  for (const record of records) {
    if (current === undefined || !fits(current, record)) {
      current = { records: [], bytes: 0 };
      chunks.push(current);
    }
    add(current, record);
  }
  return chunks;
};

/**
 * Packs records so that a chunk holds at most one record per partition key and every record of
 * a key sits in a later chunk than the key's previous record: each record goes to the first
 * chunk after its key's previous one that has room. Within a chunk, records keep input order.
 */
const packOnePerKey = (records: readonly PreparedRecord[]): Chunk[] => {
  const chunks: Chunk[] = [];
  const lastChunkOfKey = new Map<string, number>();
  for (const record of records) {
    let position = (lastChunkOfKey.get(record.partitionKey) ?? -1) + 1;
    while (position < chunks.length && !fits(chunks[position] as Chunk, record)) position++;
    if (position === chunks.length) chunks.push({ records: [], bytes: 0 });
    add(chunks[position] as Chunk, record);
    lastChunkOfKey.set(record.partitionKey, position);
  }
  return chunks;
};
