/** What a person needs to find the state an error is about. All fields optional. */
export interface WindowStoreErrorDetails {
  readonly pipeline?: string;
  readonly key?: string;
  readonly sliceStart?: number;
  readonly sliceEnd?: number;
  readonly windowStart?: number;
  readonly windowEnd?: number;
  readonly shardId?: string;
  readonly lane?: string;
  readonly sequenceNumber?: string;
}

/** Base error of the window store; carries the pipeline/key/window/shard/sequence it is about. */
export class WindowStoreError extends Error {
  /** Where the error happened. */
  readonly details: WindowStoreErrorDetails;

  constructor(
    message: string,
    details: WindowStoreErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WindowStoreError';
    this.details = details;
  }
}

/**
 * A slice item would exceed the configured size threshold (DynamoDB's limit is 400 KB). Nothing
 * was written for it; the accumulator is never truncated.
 */
export class ItemTooLargeError extends WindowStoreError {
  /** Estimated size of the item after the write, bytes. */
  readonly estimatedBytes: number;
  /** The threshold that was exceeded, bytes. */
  readonly limitBytes: number;

  constructor(
    details: WindowStoreErrorDetails & {
      readonly pipeline: string;
      readonly key: string;
      readonly sliceStart: number;
    },
    estimatedBytes: number,
    limitBytes: number,
    options?: { cause?: unknown },
  ) {
    super(
      `state item of pipeline "${details.pipeline}", key "${details.key}", slice ${new Date(details.sliceStart).toISOString()} would be ~${estimatedBytes} bytes, above the ${limitBytes}-byte limit; use fewer/smaller aggregates or a shorter slice`,
      details,
      options,
    );
    this.name = 'ItemTooLargeError';
    this.estimatedBytes = estimatedBytes;
    this.limitBytes = limitBytes;
  }
}

/** An item kept changing under a read-merge-write cycle until the attempts ran out. */
export class WindowStateConflictError extends WindowStoreError {
  /** Attempts made. */
  readonly attempts: number;

  constructor(details: WindowStoreErrorDetails, attempts: number, options?: { cause?: unknown }) {
    super(
      `state item of pipeline "${details.pipeline}", key "${details.key}", slice ${details.sliceStart} still conflicting after ${attempts} attempts`,
      details,
      options,
    );
    this.name = 'WindowStateConflictError';
    this.attempts = attempts;
  }
}

/** A sequence number is not a decimal string of 1..128 digits. */
export class InvalidSequenceNumberError extends WindowStoreError {
  constructor(sequenceNumber: string, details: WindowStoreErrorDetails = {}) {
    super(`sequence number must be a decimal string of 1..128 digits, got "${sequenceNumber}"`, {
      ...details,
      sequenceNumber,
    });
    this.name = 'InvalidSequenceNumberError';
  }
}

/** An argument the store cannot encode (pipeline name with `#`, negative time, …). */
export class InvalidWindowStoreInputError extends WindowStoreError {
  constructor(message: string, details: WindowStoreErrorDetails = {}) {
    super(message, details);
    this.name = 'InvalidWindowStoreInputError';
  }
}

/** `markEmitted` was called on a window that is not CLOSED (never closed, or gone). */
export class WindowNotClosedError extends WindowStoreError {
  /** Status found, `undefined` when there is no status item. */
  readonly status: string | undefined;

  constructor(
    details: WindowStoreErrorDetails,
    status: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `window [${details.windowStart}, ${details.windowEnd}) of pipeline "${details.pipeline}", key "${details.key}" is ${status ?? 'OPEN'}, not CLOSED`,
      details,
      options,
    );
    this.name = 'WindowNotClosedError';
    this.status = status;
  }
}
