/**
 * What every {@link SinkError} carries.
 */
export interface SinkErrorOptions extends ErrorOptions {
  /** Name or ARN of the stream the sink writes to. */
  readonly stream: string;
  /**
   * Records of the failed `send` that were not written to the stream.
   * @default 0
   */
  readonly failedCount?: number;
  /**
   * Kinesis error code of the first record or call that failed.
   * @default - none, the failure did not come from Kinesis
   */
  readonly firstErrorCode?: string;
}

/**
 * Base error of the sinks module: a `send` or a sink's configuration failed.
 */
export class SinkError extends Error {
  /** Name or ARN of the stream the sink writes to. */
  public readonly stream: string;
  /** Records of the failed `send` that were not written to the stream. */
  public readonly failedCount: number;
  /** Kinesis error code of the first record or call that failed, if it came from Kinesis. */
  public readonly firstErrorCode: string | undefined;

  public constructor(message: string, options: SinkErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SinkError';
    this.stream = options.stream;
    this.failedCount = options.failedCount ?? 0;
    this.firstErrorCode = options.firstErrorCode;
  }
}

/**
 * The options given to a sink are invalid; the message shows the bad value and what is allowed.
 */
export class SinkConfigurationError extends SinkError {
  public constructor(message: string, options: SinkErrorOptions) {
    super(message, options);
    this.name = 'SinkConfigurationError';
  }
}

/**
 * A record cannot be written as given (empty or too long partition key, bad explicit hash key,
 * data that has no JSON text). Raised before anything of the `send` is written.
 */
export class InvalidRecordError extends SinkError {
  /** Partition key of the record. */
  public readonly partitionKey: string;
  /** Position of the record in the array given to `send`. */
  public readonly index: number;

  public constructor(
    message: string,
    options: SinkErrorOptions & { readonly partitionKey: string; readonly index: number },
  ) {
    super(message, options);
    this.name = 'InvalidRecordError';
    this.partitionKey = options.partitionKey;
    this.index = options.index;
  }
}

/**
 * A record is larger than Kinesis accepts (data plus partition key above 1 MiB). Raised before
 * anything of the `send` is written.
 */
export class RecordTooLargeError extends SinkError {
  /** Partition key of the record. */
  public readonly partitionKey: string;
  /** Position of the record in the array given to `send`. */
  public readonly index: number;
  /** Size of the record: data bytes plus partition key bytes. */
  public readonly sizeBytes: number;
  /** The most a record may have. */
  public readonly limitBytes: number;

  public constructor(
    message: string,
    options: SinkErrorOptions & {
      readonly partitionKey: string;
      readonly index: number;
      readonly sizeBytes: number;
      readonly limitBytes: number;
    },
  ) {
    super(message, options);
    this.name = 'RecordTooLargeError';
    this.partitionKey = options.partitionKey;
    this.index = options.index;
    this.sizeBytes = options.sizeBytes;
    this.limitBytes = options.limitBytes;
  }
}

/**
 * Records could not be written after all attempts, or failed with an error that retrying cannot
 * fix. Records of earlier chunks may already be in the stream: let the invocation fail so Lambda
 * retries the batch (readers dedupe by record id).
 */
export class PutRecordsFailedError extends SinkError {
  /** PutRecords attempts made for the chunk that failed. */
  public readonly attempts: number;
  /** Records of the `send` written before it failed. */
  public readonly writtenCount: number;
  /** Partition key of the first record that failed. */
  public readonly firstFailedPartitionKey: string | undefined;
  /** Kinesis error message of the first record or call that failed. */
  public readonly firstErrorMessage: string | undefined;

  public constructor(
    message: string,
    options: SinkErrorOptions & {
      readonly attempts: number;
      readonly writtenCount: number;
      readonly firstFailedPartitionKey?: string;
      readonly firstErrorMessage?: string;
    },
  ) {
    super(message, options);
    this.name = 'PutRecordsFailedError';
    this.attempts = options.attempts;
    this.writtenCount = options.writtenCount;
    this.firstFailedPartitionKey = options.firstFailedPartitionKey;
    this.firstErrorMessage = options.firstErrorMessage;
  }
}
