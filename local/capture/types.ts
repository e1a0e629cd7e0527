/** On-failure record of a Kinesis event source mapping, in the shape Lambda sends to the destination. */
export interface KinesisFailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    /** `RetryAttemptsExhausted` or `RecordAgeExceeded`. */
    readonly condition: string;
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: string;
    /** `Unhandled` after a function error; absent after a success whose response failed the batch. */
    readonly functionError?: string;
  };
  readonly version: '1.0';
  /** ISO time the records were given up on. */
  readonly timestamp: string;
  readonly KinesisBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

/** A record given up on, as shardflow keeps it next to the failure record (AWS sends only the batch info). */
export interface CapturedRecord {
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** Base64 of the record's data. */
  readonly data: string;
  /** ISO time. */
  readonly approximateArrivalTimestamp: string;
}

/** One line of the failure file: AWS's failure record plus what shardflow keeps with it. */
export interface CapturedFailure extends KinesisFailureRecord {
  readonly shardflow: {
    /** ARN of the on-failure destination from the template (SQS queue, SNS topic or S3 bucket). */
    readonly destinationArn: string;
    readonly destinationType: 'sqs' | 'sns' | 's3';
    readonly eventSourceMappingUuid: string;
    readonly functionName: string;
    /** The last function error, if any (`errorType: errorMessage`). */
    readonly error?: string;
    readonly records: readonly CapturedRecord[];
  };
}

/** Options for {@link FailureCapture}. */
export interface FailureCaptureOptions {
  /**
   * JSON lines file the failures are appended to, so another process (`shardflow failures`) can list them.
   * @default - kept in memory only
   */
  readonly file?: string;
}
