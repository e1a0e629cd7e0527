/**
 * Metric names (EMF, namespace {@link METRICS_NAMESPACE}), shared by the handlers that emit them and
 * the infrastructure that graphs and alarms on them.
 */
export const METRIC = {
  RECORDS_IN: 'RecordsIn',
  RECORDS_OUT: 'RecordsOut',
  INVALID_RECORDS: 'InvalidRecords',
  LATE_RECORDS: 'LateRecords',
  /** Records dated after their arrival in Kinesis: counted in their window, but their shard's event clock stopped at the arrival. */
  CLAMPED_EVENT_TIMES: 'ClampedEventTimes',
  WINDOWS_CLOSED: 'WindowsClosed',
  DYNAMODB_WRITES: 'DynamoDbWrites',
  PUT_RECORDS_RETRIES: 'PutRecordsRetries',
} as const;

/** CloudWatch namespace of every shardflow metric. */
export const METRICS_NAMESPACE = 'shardflow';
