import type { KinesisStreamRecord } from 'aws-lambda';
import type { z } from 'zod';
import { FAILURE_REASON } from './constants';
import type { DecodeResult, FailureReason, RecordMeta } from './types';

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

const fail = (reason: FailureReason, detail: string, meta: RecordMeta): DecodeResult<never> => ({
  ok: false,
  reason,
  detail,
  meta,
});

/**
 * Decodes a Kinesis record: base64 → strict UTF-8 → JSON → zod `safeParse`. Never throws: every
 * problem becomes `{ ok: false, reason, detail }` (reasons INVALID_UTF8, NOT_JSON, SCHEMA,
 * TOO_DEEP), with the record's meta either way.
 *
 * @param record - one element of a `KinesisStreamEvent`'s `Records`
 * @param schema - zod schema of the payload
 * @example
 * ```ts
 * const decoded = decodeRecord(event.Records[0], PageView);
 * if (decoded.ok) use(decoded.value, decoded.meta.shardId);
 * else sendToFailureSink(decoded.reason, decoded.detail);
 * ```
 */
export const decodeRecord = <T>(
  record: KinesisStreamRecord,
  schema: z.ZodType<T>,
): DecodeResult<T> => {
  const meta = recordMeta(record);
  const data = record?.kinesis?.data;
  if (typeof data !== 'string') return fail(FAILURE_REASON.NOT_JSON, 'record has no data', meta);
  let text: string;
  try {
    text = utf8.decode(Buffer.from(data, 'base64'));
  } catch (error) {
    return fail(FAILURE_REASON.INVALID_UTF8, messageOf(error), meta);
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
