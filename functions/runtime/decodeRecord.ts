import type { KinesisStreamRecord } from 'aws-lambda';
import { FAILURE_REASON, MAX_JSON_DEPTH, MAX_RECORD_DATA_BYTES } from './constants';
import type { DecodeResult, FailureReason, RecordMeta, RecordSchema } from './types';

/** Limits {@link decodeRecord} enforces before a record reaches the schema. */
export interface DecodeOptions {
  /**
   * Largest `data` in bytes; larger records fail as TOO_LARGE without being decoded.
   * @default MAX_RECORD_DATA_BYTES (512 KiB)
   */
  readonly maxDataBytes?: number;
  /**
   * Deepest JSON nesting of arrays and objects; deeper records fail as TOO_DEEP.
   * @default MAX_JSON_DEPTH (100)
   */
  readonly maxDepth?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_DETAIL_LENGTH = 1000;

const truncate = (text: string): string =>
  text.length <= MAX_DETAIL_LENGTH ? text : `${text.slice(0, MAX_DETAIL_LENGTH - 1)}…`;

const messageOf = (error: unknown): string =>
  truncate(error instanceof Error ? error.message : String(error));

/** The shard id of a record's `eventID` (`shardId-…:sequenceNumber`); `''` when it has none. */
export const shardIdOf = (eventId: unknown): string => {
  if (typeof eventId !== 'string') return '';
  const colon = eventId.indexOf(':');
  return colon === -1 ? eventId : eventId.slice(0, colon);
};

/**
 * Where a Kinesis record came from. Tolerates a malformed record (missing fields become `''`/0)
 * so that decoding can always report a failure instead of throwing.
 */
export const recordMeta = (record: KinesisStreamRecord): RecordMeta => {
  const kinesis = record?.kinesis;
  const arrival = kinesis?.approximateArrivalTimestamp;
  return {
    shardId: shardIdOf(record?.eventID),
    sequenceNumber: typeof kinesis?.sequenceNumber === 'string' ? kinesis.sequenceNumber : '',
    partitionKey: typeof kinesis?.partitionKey === 'string' ? kinesis.partitionKey : '',
    approximateArrivalTimestamp: typeof arrival === 'number' ? Math.round(arrival * 1000) : 0,
  };
};

/** Bytes a base64 string decodes to, without decoding it. */
export const base64ByteLength = (base64: string): number => {
  let padding = 0;
  if (base64.endsWith('==')) padding = 2;
  else if (base64.endsWith('=')) padding = 1;
  return Math.floor((base64.length * 3) / 4) - padding;
};

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether JSON text nests arrays and objects deeper than `maxDepth`, by one pass over the text
 * (brackets inside strings do not count). Text shorter than `2 × (maxDepth + 1)` cannot, so it is
 * not scanned.
 */
export const nestsDeeperThan = (text: string, maxDepth: number): boolean => {
  if (text.length < 2 * (maxDepth + 1)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
};

const fail = (reason: FailureReason, detail: string, meta: RecordMeta): DecodeResult<never> => ({
  ok: false,
  reason,
  detail,
  meta,
});

/** What {@link decodeData} returns: the {@link DecodeResult} without the record's meta. */
export type DecodedData<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: FailureReason; readonly detail: string };

const failData = (reason: FailureReason, detail: string): DecodedData<never> => ({
  ok: false,
  reason,
  detail,
});

/**
 * Decodes a Kinesis record's `data` as {@link decodeRecord} does (size check → base64 → strict
 * UTF-8 → nesting check → JSON → zod `safeParse`), without reading or allocating the record's
 * meta: the hot path of `preAggregate`, which reads the few fields it needs itself.
 *
 * @param data - the record's `kinesis.data` (anything else fails as NOT_JSON)
 * @param schema - zod schema (classic `zod` or `zod/mini`) of the payload
 * @param maxDataBytes - largest `data` in bytes (TOO_LARGE above)
 * @param maxDepth - deepest JSON nesting (TOO_DEEP above)
 */
export const decodeData = <T>(
  data: unknown,
  schema: RecordSchema<T>,
  maxDataBytes: number = MAX_RECORD_DATA_BYTES,
  maxDepth: number = MAX_JSON_DEPTH,
): DecodedData<T> => {
  if (typeof data !== 'string') return failData(FAILURE_REASON.NOT_JSON, 'record has no data');
  const bytes = base64ByteLength(data);
  if (bytes > maxDataBytes) {
    return failData(
      FAILURE_REASON.TOO_LARGE,
      `record data is ${bytes} bytes, the limit is ${maxDataBytes}`,
    );
  }
  let text: string;
  try {
    text = utf8.decode(Buffer.from(data, 'base64'));
  } catch (error) {
    return failData(FAILURE_REASON.INVALID_UTF8, messageOf(error));
  }
  if (nestsDeeperThan(text, maxDepth)) {
    return failData(FAILURE_REASON.TOO_DEEP, `JSON nests deeper than ${maxDepth} levels`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof RangeError ? FAILURE_REASON.TOO_DEEP : FAILURE_REASON.NOT_JSON;
    return failData(reason, messageOf(error));
  }
  try {
    const parsed = schema.safeParse(json);
    if (parsed.success) return { ok: true, value: parsed.data };
    const detail = parsed.error.issues
      .map(
        (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`,
      )
      .join('; ');
    return failData(FAILURE_REASON.SCHEMA, truncate(detail));
  } catch (error) {
    const reason = error instanceof RangeError ? FAILURE_REASON.TOO_DEEP : FAILURE_REASON.SCHEMA;
    return failData(reason, messageOf(error));
  }
};

/**
 * Decodes a Kinesis record: size check → base64 → strict UTF-8 → nesting check → JSON → zod
 * `safeParse`. Never throws: every problem becomes `{ ok: false, reason, detail }` (reasons
 * TOO_LARGE, INVALID_UTF8, TOO_DEEP, NOT_JSON, SCHEMA), with the record's meta either way. Invalid
 * UTF-8 is refused, never replaced by U+FFFD.
 *
 * @param record - one element of a `KinesisStreamEvent`'s `Records`
 * @param schema - zod schema (classic `zod` or `zod/mini`) of the payload
 * @param options - size and nesting limits; see {@link DecodeOptions} for the defaults
 * @example
 * ```ts
 * const decoded = decodeRecord(event.Records[0], PageView);
 * if (decoded.ok) use(decoded.value, decoded.meta.shardId);
 * else sendToFailureSink(decoded.reason, decoded.detail);
 * ```
 */
export const decodeRecord = <T>(
  record: KinesisStreamRecord,
  schema: RecordSchema<T>,
  options: DecodeOptions = {},
): DecodeResult<T> => {
  const meta = recordMeta(record);
  const decoded = decodeData(
    record?.kinesis?.data,
    schema,
    options.maxDataBytes ?? MAX_RECORD_DATA_BYTES,
    options.maxDepth ?? MAX_JSON_DEPTH,
  );
  return decoded.ok
    ? { ok: true, value: decoded.value, meta }
    : fail(decoded.reason, decoded.detail, meta);
};
