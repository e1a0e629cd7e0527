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

/**
 * Where a Kinesis record came from. Tolerates a malformed record (missing fields become `''`/0)
 * so that decoding can always report a failure instead of throwing.
 */
export const recordMeta = (record: KinesisStreamRecord): RecordMeta => {
  const eventId = typeof record?.eventID === 'string' ? record.eventID : '';
  const colon = eventId.indexOf(':');
  const kinesis = record?.kinesis;
  const arrival = kinesis?.approximateArrivalTimestamp;
  return {
    shardId: colon === -1 ? eventId : eventId.slice(0, colon),
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
  const data = record?.kinesis?.data;
  if (typeof data !== 'string') return fail(FAILURE_REASON.NOT_JSON, 'record has no data', meta);
  const maxDataBytes = options.maxDataBytes ?? MAX_RECORD_DATA_BYTES;
  const bytes = base64ByteLength(data);
  if (bytes > maxDataBytes) {
    return fail(
      FAILURE_REASON.TOO_LARGE,
      `record data is ${bytes} bytes, the limit is ${maxDataBytes}`,
      meta,
    );
  }
  let text: string;
  try {
    text = utf8.decode(Buffer.from(data, 'base64'));
  } catch (error) {
    return fail(FAILURE_REASON.INVALID_UTF8, messageOf(error), meta);
  }
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  if (nestsDeeperThan(text, maxDepth)) {
    return fail(FAILURE_REASON.TOO_DEEP, `JSON nests deeper than ${maxDepth} levels`, meta);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof RangeError ? FAILURE_REASON.TOO_DEEP : FAILURE_REASON.NOT_JSON;
    return fail(reason, messageOf(error), meta);
  }
  try {
    const parsed = schema.safeParse(json);
    if (parsed.success) return { ok: true, value: parsed.data, meta };
    const detail = parsed.error.issues
      .map(
        (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`,
      )
      .join('; ');
    return fail(FAILURE_REASON.SCHEMA, truncate(detail), meta);
  } catch (error) {
    const reason = error instanceof RangeError ? FAILURE_REASON.TOO_DEEP : FAILURE_REASON.SCHEMA;
    return fail(reason, messageOf(error), meta);
  }
};
