/** Base error of the esm module: event source mappings. */
export class EventSourceMappingError extends Error {
  /** UUID of the mapping. */
  public readonly mappingId: string;

  public constructor(message: string, mappingId: string, options?: ErrorOptions) {
    super(`event source mapping ${mappingId}: ${message}`, options);
    this.name = 'EventSourceMappingError';
    this.mappingId = mappingId;
  }
}

/** A mapping's settings are out of the range Lambda accepts, or its source is not a Kinesis stream. */
export class EventSourceMappingConfigError extends EventSourceMappingError {
  /** The setting at fault. */
  public readonly setting: string;
  /** The value given. */
  public readonly value: unknown;

  public constructor(mappingId: string, setting: string, value: unknown, allowed: string) {
    super(`${setting} must be ${allowed}, got ${JSON.stringify(value)}`, mappingId);
    this.name = 'EventSourceMappingConfigError';
    this.setting = setting;
    this.value = value;
  }
}

/** Reading a shard failed in a way polling cannot recover from. */
export class ShardReadError extends EventSourceMappingError {
  /** Shard being read. */
  public readonly shardId: string;

  public constructor(mappingId: string, shardId: string, options?: ErrorOptions) {
    super(`cannot read shard ${shardId}`, mappingId, options);
    this.name = 'ShardReadError';
    this.shardId = shardId;
  }
}
