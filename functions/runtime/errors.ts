import { ShardflowError } from '#commons/errors';

/** A duration string that is not `<integer><ms|s|m|h|d>`. */
export class InvalidDurationError extends ShardflowError {
  public readonly value: unknown;

  constructor(value: unknown, options?: ErrorOptions) {
    super(
      `invalid duration ${JSON.stringify(value)}: expected a non-negative integer followed by ms, s, m, h or d (e.g. '500ms', '30s', '10m')`,
      options,
    );
    this.name = 'InvalidDurationError';
    this.value = value;
  }
}

/** A pipeline definition that cannot work (bad name, window, lateness, aggregate, …). */
export class PipelineDefinitionError extends ShardflowError {
  public readonly pipeline: string;

  constructor(pipeline: string, message: string, options?: ErrorOptions) {
    super(`pipeline ${JSON.stringify(pipeline)}: ${message}`, options);
    this.name = 'PipelineDefinitionError';
    this.pipeline = pipeline;
  }
}

/** A window assigner with impossible parameters. */
export class InvalidWindowError extends ShardflowError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidWindowError';
  }
}

/** An aggregate's extractor returned a value the aggregate cannot absorb (the record fails as BAD_VALUE). */
export class AggregateValueError extends ShardflowError {
  public readonly aggregate: string;
  public readonly value: unknown;

  constructor(aggregate: string, value: unknown, expected: string, options?: ErrorOptions) {
    super(`${aggregate}() got ${String(value)}, expected ${expected}`, options);
    this.name = 'AggregateValueError';
    this.aggregate = aggregate;
    this.value = value;
  }
}

/** Two accumulators that cannot be merged (different sketch parameters, corrupt state). */
export class AccumulatorMismatchError extends ShardflowError {
  public readonly aggregate: string;

  constructor(aggregate: string, message: string, options?: ErrorOptions) {
    super(`${aggregate}: ${message}`, options);
    this.name = 'AccumulatorMismatchError';
    this.aggregate = aggregate;
  }
}

/** An aggregate configured with impossible options (precision, capacity, quantiles, …). */
export class InvalidAggregateError extends ShardflowError {
  public readonly aggregate: string;

  constructor(aggregate: string, message: string, options?: ErrorOptions) {
    super(`${aggregate}(): ${message}`, options);
    this.name = 'InvalidAggregateError';
    this.aggregate = aggregate;
  }
}
