import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { FailureRecordBody } from '#handlers/types';
import { readStream } from '#local/io/readStream';
import { FAILURE_STREAM_IDLE_MS, FAILURE_STREAM_POLL_INTERVAL_MS } from './constants';

/**
 * A record read from a pipeline failure stream: where it was read, which is known, and what it
 * says, which is only a claim of whoever wrote it.
 */
export interface FailureStreamRecord {
  /** Physical name of the failure stream it was read from. */
  readonly failureStream: string;
  /** Shard of the failure stream that holds it. */
  readonly shardId: string;
  /** Its sequence number in that shard. */
  readonly sequenceNumber: string;
  /** The failure record, or undefined when the data is not one (not JSON, or a field missing). */
  readonly body: FailureRecordBody | undefined;
}

/** Options for {@link readFailureStreams}. */
export interface ReadFailureStreamsOptions {
  /** How long a stream may stay silent before reading it is complete. @default 1500 */
  readonly idleTimeoutMs?: number;
}

const REQUIRED_STRINGS = [
  'pipeline',
  'reason',
  'shardId',
  'sequenceNumber',
  'partitionKey',
  'data',
] as const;

function parseFailureRecord(data: Uint8Array): FailureRecordBody | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const fields = value as Record<string, unknown>;
  return REQUIRED_STRINGS.every((field) => typeof fields[field] === 'string')
    ? (value as FailureRecordBody)
    : undefined;
}

/**
 * Two failure records of one rejection (the same `(shardId, sequenceNumber, reason)`) as one: the
 * first, naming the union of their `elements` — a record whose elements were refused in two steps
 * has a second failure record naming every element refused so far (docs/pipelines.md).
 */
export function mergeFailureRecords(
  first: FailureRecordBody,
  later: FailureRecordBody,
): FailureRecordBody {
  if (first.elements === undefined || later.elements === undefined) return first;
  const elements = [...new Set([...first.elements, ...later.elements])].sort((x, y) => x - y);
  return { ...first, elements };
}

/**
 * Reads pipeline failure streams from their oldest record, each failure record once per stream:
 * failure streams are at-least-once, and `(shardId, sequenceNumber, reason)` of the rejected record
 * identifies a rejection (its later records merged into the first, {@link mergeFailureRecords}).
 * Records that are not failure records are returned too, without a body, so the caller can say
 * where they are.
 *
 * @param streams physical names of the failure streams
 * @example
 * ```ts
 * const records = await readFailureStreams(kinesis, ['dev-enrich-failures']);
 * ```
 */
export async function readFailureStreams(
  client: KinesisClient,
  streams: readonly string[],
  options: ReadFailureStreamsOptions = {},
): Promise<FailureStreamRecord[]> {
  const records: FailureStreamRecord[] = [];
  for (const failureStream of streams) {
    const seen = new Map<string, number>();
    await readStream({
      client,
      streamName: failureStream,
      fromStart: true,
      idleTimeoutMs: options.idleTimeoutMs ?? FAILURE_STREAM_IDLE_MS,
      pollIntervalMs: FAILURE_STREAM_POLL_INTERVAL_MS,
      onRecord: (record) => {
        const body = parseFailureRecord(record.data);
        if (body !== undefined) {
          // The pipeline too: pipelines reading one stream may share a failure stream.
          const identity = `${body.pipeline}|${body.shardId}|${body.sequenceNumber}|${body.reason}`;
          const at = seen.get(identity);
          if (at !== undefined) {
            const earlier = records[at] as FailureStreamRecord;
            records[at] = {
              ...earlier,
              body: mergeFailureRecords(earlier.body as FailureRecordBody, body),
            };
            return;
          }
          seen.set(identity, records.length);
        }
        records.push({
          failureStream,
          shardId: record.shardId,
          sequenceNumber: record.sequenceNumber,
          body,
        });
      },
    });
  }
  return records;
}
