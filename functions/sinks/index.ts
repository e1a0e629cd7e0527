export {
  MAX_BYTES_PER_RECORD,
  MAX_BYTES_PER_REQUEST,
  MAX_PARTITION_KEY_LENGTH,
  MAX_RECORDS_PER_REQUEST,
  SINK_DEFAULTS,
} from '#sinks/constants';
export {
  InvalidRecordError,
  PutRecordsFailedError,
  RecordTooLargeError,
  SinkConfigurationError,
  SinkError,
  type SinkErrorOptions,
} from '#sinks/errors';
export { KinesisSink } from '#sinks/KinesisSink';
export type {
  KinesisSinkOptions,
  KinesisSinkSettings,
  SendStats,
  SinkRecord,
  SinkStream,
} from '#sinks/types';
