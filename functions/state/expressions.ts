import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { num, str } from './attributes';
import { ATTR, TABLE_KEYS, WINDOW_STATUS } from './constants';

/**
 * Collects `#name` / `:value` placeholders and the clauses of one UpdateItem/Query request, so
 * every expression is assembled from named pieces and attribute names never need escaping.
 */
export class ExpressionBuilder {
  /** `ExpressionAttributeNames` of the request. */
  readonly names: Record<string, string> = {};
  /** `ExpressionAttributeValues` of the request. */
  readonly values: Record<string, AttributeValue> = {};
  readonly #nameIds = new Map<string, string>();
  readonly #set: string[] = [];
  readonly #add: string[] = [];
  readonly #remove: string[] = [];

  /** Placeholder of an attribute name (the same name always gets the same placeholder). */
  name(attribute: string): string {
    let id = this.#nameIds.get(attribute);
    if (id === undefined) {
      id = `#n${this.#nameIds.size}`;
      this.#nameIds.set(attribute, id);
      this.names[id] = attribute;
    }
    return id;
  }

  /** Placeholder of a value. */
  value(value: AttributeValue): string {
    const id = `:v${Object.keys(this.values).length}`;
    this.values[id] = value;
    return id;
  }

  /** Adds `SET attribute = value`. */
  set(attribute: string, value: AttributeValue): this {
    this.#set.push(`${this.name(attribute)} = ${this.value(value)}`);
    return this;
  }

  /** Adds `SET attribute = if_not_exists(attribute, value)`: sets it only where it is absent. */
  setIfAbsent(attribute: string, value: AttributeValue): this {
    const name = this.name(attribute);
    this.#set.push(`${name} = if_not_exists(${name}, ${this.value(value)})`);
    return this;
  }

  /** Adds `ADD attribute value` (numbers: increment, created at 0 when absent). */
  add(attribute: string, value: number): this {
    this.#add.push(`${this.name(attribute)} ${this.value(num(value))}`);
    return this;
  }

  /** Adds `REMOVE attribute`. */
  remove(attribute: string): this {
    this.#remove.push(this.name(attribute));
    return this;
  }

  /** The UpdateExpression built so far. */
  updateExpression(): string {
    const parts: string[] = [];
    if (this.#set.length > 0) parts.push(`SET ${this.#set.join(', ')}`);
    if (this.#add.length > 0) parts.push(`ADD ${this.#add.join(', ')}`);
    if (this.#remove.length > 0) parts.push(`REMOVE ${this.#remove.join(', ')}`);
    return parts.join(' ');
  }

  /** Names/values in the shape the SDK wants (values omitted when empty, as DynamoDB requires). */
  attributes(): {
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues?: Record<string, AttributeValue>;
  } {
    return Object.keys(this.values).length > 0
      ? { ExpressionAttributeNames: this.names, ExpressionAttributeValues: this.values }
      : { ExpressionAttributeNames: this.names };
  }
}

/** Joins condition pieces with AND, each parenthesized. */
export function allOf(...conditions: string[]): string {
  return conditions.map((c) => `(${c})`).join(' AND ');
}

// --- Condition pieces. Each comment states what a successful write proves. ----------------------

/**
 * Fast path, per lane: the lane has absorbed nothing at or after `firstSeq` (fence absent or
 * below it). Since the lane's absorbed set is a prefix, the *whole* contribution is new: applying
 * it blind can neither double-count nor (the batch starting at the checkpoint) leave a gap.
 */
export function laneFenceBelow(
  b: ExpressionBuilder,
  fenceAttribute: string,
  paddedFirstSeq: string,
): string {
  const f = b.name(fenceAttribute);
  return `attribute_not_exists(${f}) OR ${f} < ${b.value(str(paddedFirstSeq))}`;
}

/**
 * Conflict path, per lane: the lane's fence is still exactly the one we read and recomputed the
 * contribution against (or still absent), so "records after the fence" is still what is missing.
 */
export function laneFenceIs(
  b: ExpressionBuilder,
  fenceAttribute: string,
  paddedFence: string | undefined,
): string {
  const f = b.name(fenceAttribute);
  return paddedFence === undefined
    ? `attribute_not_exists(${f})`
    : `${f} = ${b.value(str(paddedFence))}`;
}

/**
 * Read-merge-write: nobody wrote the item since the image we merged into (same version, or still
 * absent). Every writer bumps `version`, so a SET of merged accumulators can never overwrite a
 * contribution it did not see.
 */
export function versionIs(b: ExpressionBuilder, version: number | undefined): string {
  return version === undefined
    ? `attribute_not_exists(${b.name(TABLE_KEYS.partitionKey)})`
    : `${b.name(ATTR.version)} = ${b.value(num(version))}`;
}

/**
 * Every slice write: no closer has sealed the slice yet. A closer seals every slice of a window
 * before it reads the window's contents, so a write that passes this check lands before that read
 * and is part of the emitted result; a write that fails it becomes LATE, never a silent loss.
 */
export function sliceNotSealed(b: ExpressionBuilder): string {
  return `attribute_not_exists(${b.name(ATTR.sealed)})`;
}

/** Housekeeping writes: the item still exists, so a REMOVE/SET never resurrects a TTL-deleted item. */
export function itemExists(b: ExpressionBuilder): string {
  return `attribute_exists(${b.name(TABLE_KEYS.partitionKey)})`;
}

/** Closing: the window is still OPEN (no status yet, or OPEN), so exactly one closer wins. */
export function windowIsOpen(b: ExpressionBuilder): string {
  const s = b.name(ATTR.status);
  return `attribute_not_exists(${s}) OR ${s} = ${b.value(str(WINDOW_STATUS.OPEN))}`;
}

/** Emission: the window is CLOSED (not yet EMITTED), so EMITTED is recorded once, after a close. */
export function windowIsClosed(b: ExpressionBuilder): string {
  return `${b.name(ATTR.status)} = ${b.value(str(WINDOW_STATUS.CLOSED))}`;
}

/** Watermark: the stored max event time is below the new one, so it only ever moves forward. */
export function eventTimeBelow(b: ExpressionBuilder, eventTime: number): string {
  const t = b.name(ATTR.maxEventTime);
  return `attribute_not_exists(${t}) OR ${t} < ${b.value(num(eventTime))}`;
}

/** Idle detection: the stored processing time is older, so a slow writer never makes a shard look idler. */
export function processedAtBelow(b: ExpressionBuilder, processedAt: number): string {
  const p = b.name(ATTR.processedAt);
  return `attribute_not_exists(${p}) OR ${p} < ${b.value(num(processedAt))}`;
}

/**
 * Shard position: the stored (padded) sequence number is below the new one, so concurrent or
 * duplicate batches (ParallelizationFactor > 1, retries) never move it back.
 */
export function positionBelow(b: ExpressionBuilder, paddedSequence: string): string {
  const p = b.name(ATTR.lastSequenceNumber);
  return `attribute_not_exists(${p}) OR ${p} < ${b.value(str(paddedSequence))}`;
}

/** Committed watermark: only ever moves forward, so windows closed under it stay closed. */
export function watermarkBelow(b: ExpressionBuilder, watermark: number): string {
  const w = b.name(ATTR.watermark);
  return `attribute_not_exists(${w}) OR ${w} < ${b.value(num(watermark))}`;
}

// --- Session pieces (see SessionStore). -----------------------------------------------------------

/**
 * Every session write and delete: no closer has sealed the session yet. A closer seals a session
 * before it reads it for emission, so a merge that passes this check lands before that read; a
 * merge that fails it is re-planned, and the records touching the sealed session become LATE.
 */
export function sessionNotSealed(b: ExpressionBuilder): string {
  return `attribute_not_exists(${b.name(ATTR.sealed)})`;
}

/**
 * A session or fence item is exactly the image the batch planned against (same `version`, or
 * still absent). On the fence item this serializes every batch writing the key: the fences read
 * are still the fences, so "records above the fence" is still exactly what is missing.
 */
export function sessionVersionIs(b: ExpressionBuilder, version: number | undefined): string {
  return versionIs(b, version);
}
