import {
  DEFAULT_BATCH_SIZE,
  MAX_BATCH_SIZE,
  MAX_BATCHING_WINDOW_SECONDS,
  MAX_FILTERS,
  MAX_PARALLELIZATION_FACTOR,
  MAX_RECORD_AGE_SECONDS,
  MAX_RETRY_ATTEMPTS,
  MAX_TUMBLING_WINDOW_SECONDS,
  MIN_RECORD_AGE_SECONDS,
  REPORT_BATCH_ITEM_FAILURES,
  STARTING_POSITIONS,
} from './constants';
import { EventSourceMappingConfigError } from './errors';
import type { FilterPattern } from './matchesFilter';
import type { KinesisMappingDefinition, KinesisMappingSettings } from './types';

const KINESIS_STREAM_ARN = /^arn:[^:]+:kinesis:[^:]*:[^:]*:stream\/(.+)$/;

function integerIn(
  uuid: string,
  setting: string,
  value: unknown,
  fallback: number,
  valid: (n: number) => boolean,
  allowed: string,
): number {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || !valid(n)) {
    throw new EventSourceMappingConfigError(uuid, setting, value, allowed);
  }
  return n;
}

function readFilters(uuid: string, criteria: unknown): FilterPattern[] {
  if (criteria === undefined || criteria === null) return [];
  const filters = (criteria as { Filters?: unknown }).Filters ?? [];
  if (!Array.isArray(filters) || filters.length > MAX_FILTERS) {
    throw new EventSourceMappingConfigError(
      uuid,
      'FilterCriteria.Filters',
      filters,
      `a list of at most ${MAX_FILTERS} filters`,
    );
  }
  return filters.map((filter: { Pattern?: unknown }) => {
    let pattern: unknown;
    try {
      pattern = typeof filter?.Pattern === 'string' ? JSON.parse(filter.Pattern) : filter?.Pattern;
    } catch {
      pattern = undefined;
    }
    const keys = typeof pattern === 'object' && pattern !== null ? Object.keys(pattern) : [];
    if (keys.length === 0 || keys.some((key) => key !== 'data')) {
      throw new EventSourceMappingConfigError(
        uuid,
        'FilterCriteria.Filters[].Pattern',
        filter?.Pattern,
        'a JSON pattern on the "data" key (Kinesis mappings filter on data only)',
      );
    }
    return pattern as FilterPattern;
  });
}

/**
 * Reads and validates a Kinesis mapping's settings from its template properties, applying
 * Lambda's defaults (the ranges of the event source mapping parameters reference).
 * @throws EventSourceMappingConfigError if a setting is outside what Lambda accepts
 */
export function readMappingSettings(definition: KinesisMappingDefinition): {
  settings: KinesisMappingSettings;
} {
  const { uuid, properties } = definition;
  const streamName = KINESIS_STREAM_ARN.exec(definition.eventSourceArn)?.[1];
  if (streamName === undefined) {
    throw new EventSourceMappingConfigError(
      uuid,
      'EventSourceArn',
      definition.eventSourceArn,
      'a Kinesis stream ARN',
    );
  }
  const batchSize = Number(properties.BatchSize ?? DEFAULT_BATCH_SIZE);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new EventSourceMappingConfigError(
      uuid,
      'BatchSize',
      properties.BatchSize,
      `1..${MAX_BATCH_SIZE}`,
    );
  }
  const window = Number(properties.MaximumBatchingWindowInSeconds ?? 0);
  if (!Number.isInteger(window) || window < 0 || window > MAX_BATCHING_WINDOW_SECONDS) {
    throw new EventSourceMappingConfigError(
      uuid,
      'MaximumBatchingWindowInSeconds',
      properties.MaximumBatchingWindowInSeconds,
      `0..${MAX_BATCHING_WINDOW_SECONDS}`,
    );
  }
  const startingPosition = properties.StartingPosition ?? STARTING_POSITIONS.LATEST;
  if (!Object.values(STARTING_POSITIONS).includes(startingPosition as 'LATEST')) {
    throw new EventSourceMappingConfigError(
      uuid,
      'StartingPosition',
      startingPosition,
      Object.values(STARTING_POSITIONS).join(' | '),
    );
  }
  const timestamp = properties.StartingPositionTimestamp;
  if (startingPosition === STARTING_POSITIONS.AT_TIMESTAMP && typeof timestamp !== 'number') {
    throw new EventSourceMappingConfigError(
      uuid,
      'StartingPositionTimestamp',
      timestamp,
      'epoch seconds when StartingPosition is AT_TIMESTAMP',
    );
  }
  const maximumRetryAttempts = integerIn(
    uuid,
    'MaximumRetryAttempts',
    properties.MaximumRetryAttempts,
    -1,
    (n) => n >= -1 && n <= MAX_RETRY_ATTEMPTS,
    `-1..${MAX_RETRY_ATTEMPTS}`,
  );
  const maximumRecordAgeInSeconds = integerIn(
    uuid,
    'MaximumRecordAgeInSeconds',
    properties.MaximumRecordAgeInSeconds,
    -1,
    (n) => n === -1 || (n >= MIN_RECORD_AGE_SECONDS && n <= MAX_RECORD_AGE_SECONDS),
    `-1 or ${MIN_RECORD_AGE_SECONDS}..${MAX_RECORD_AGE_SECONDS}`,
  );
  const parallelizationFactor = integerIn(
    uuid,
    'ParallelizationFactor',
    properties.ParallelizationFactor,
    1,
    (n) => n >= 1 && n <= MAX_PARALLELIZATION_FACTOR,
    `1..${MAX_PARALLELIZATION_FACTOR}`,
  );
  const tumblingWindowInSeconds = integerIn(
    uuid,
    'TumblingWindowInSeconds',
    properties.TumblingWindowInSeconds,
    0,
    (n) => n >= 0 && n <= MAX_TUMBLING_WINDOW_SECONDS,
    `0..${MAX_TUMBLING_WINDOW_SECONDS}`,
  );
  const responseTypes = properties.FunctionResponseTypes ?? [];
  if (
    !Array.isArray(responseTypes) ||
    responseTypes.some((type) => type !== REPORT_BATCH_ITEM_FAILURES)
  ) {
    throw new EventSourceMappingConfigError(
      uuid,
      'FunctionResponseTypes',
      responseTypes,
      `[] or ["${REPORT_BATCH_ITEM_FAILURES}"]`,
    );
  }
  const destination = (properties.DestinationConfig as { OnFailure?: { Destination?: unknown } })
    ?.OnFailure?.Destination;
  if (destination !== undefined && !/^arn:[^:]+:(sqs|sns|s3):/.test(String(destination))) {
    throw new EventSourceMappingConfigError(
      uuid,
      'DestinationConfig.OnFailure.Destination',
      destination,
      'an SQS queue, SNS topic or S3 bucket ARN',
    );
  }
  return {
    settings: {
      uuid,
      functionName: definition.functionName,
      eventSourceArn: definition.eventSourceArn,
      streamName,
      enabled: properties.Enabled !== false,
      batchSize,
      maximumBatchingWindowInSeconds: window,
      startingPosition: startingPosition as KinesisMappingSettings['startingPosition'],
      ...(typeof timestamp === 'number' ? { startingPositionTimestamp: timestamp } : {}),
      maximumRetryAttempts,
      maximumRecordAgeInSeconds,
      bisectBatchOnFunctionError: properties.BisectBatchOnFunctionError === true,
      reportBatchItemFailures: responseTypes.length > 0,
      parallelizationFactor,
      tumblingWindowInSeconds,
      filters: readFilters(uuid, properties.FilterCriteria),
      ...(destination !== undefined ? { onFailureDestination: String(destination) } : {}),
      properties,
    },
  };
}
