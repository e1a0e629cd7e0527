/** Error types of injected function errors. */
export const CHAOS_ERROR_TYPES = {
  BEFORE_HANDLER: 'Shardflow.ChaosBeforeHandler',
  AFTER_HANDLER: 'Shardflow.ChaosAfterHandler',
} as const;

/** Seed when none is given, so a run without `--seed` is reproducible too. */
export const DEFAULT_CHAOS_SEED = 1;

/** Error code of injected DynamoDB throttling and failed PutRecords entries. */
export const CHAOS_THROTTLE_ERROR = 'ProvisionedThroughputExceededException';

/** `X-Amz-Target` of a Kinesis PutRecords request. */
export const KINESIS_PUT_RECORDS_TARGET = 'Kinesis_20131202.PutRecords';
