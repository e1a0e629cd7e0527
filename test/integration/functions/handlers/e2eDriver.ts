import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { localClients } from '#local/aws/index';
import type { GeneratedRecord } from '#local/generator/index';
import { keysCoveringShards } from '#local/generator/index';
import { readStream } from '#local/io/readStream';
import type { LocalSession } from '#local/session/startLocalSession';
import type { WindowResult } from '#runtime/index';
import { KinesisSink } from '#sinks/index';

/** Shards of every input stream the stack creates (infra default). */
export const INPUT_SHARDS = 2;

/** A failure record read back from `<pipeline>-failures`, with its original data decoded. */
export interface ReadFailure {
  readonly reason: string;
  readonly detail: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** The original record's data as text. */
  readonly text: string;
}

/** What a run produced, deduplicated. */
export interface PipelineRun {
  /** Final results by id, without the warm-up and flush keys (`__…`). */
  readonly results: Map<string, WindowResult>;
  /** Ids that arrived more than once with different values (must be empty). */
  readonly inconsistent: string[];
  /** Side-output records by stream, then by id. */
  readonly side: Map<string, Map<string, Record<string, unknown>>>;
  /** Failure records, one per (shard, sequence number, reason). */
  readonly failures: ReadFailure[];
  readonly elapsedMs: number;
}

/** Options of {@link drivePipeline}. */
export interface DriveOptions {
  readonly session: LocalSession;
  readonly pipeline: string;
  readonly input: string;
  readonly output: string;
  readonly sideOutputs?: readonly string[];
  readonly records: readonly GeneratedRecord[];
  /** A valid event of the reserved key `key` at `ts` (warm-up and flush markers), and its partition key. */
  readonly marker: (key: string, ts: number) => { data: object; partitionKey: string };
  /** Event time of the warm-up markers (≤ the first event). */
  readonly start: number;
  /** Final results expected, given the failures read so far (the run ends when reached). */
  readonly expectedResults: (failures: readonly ReadFailure[]) => number;
  readonly expectedFailures: number;
  /** @default 100000 */
  readonly timeoutMs?: number;
}

const physical = (session: LocalSession, logical: string): string => {
  const entry = session.state.names[logical];
  if (entry === undefined) throw new Error(`no resource '${logical}' in the local deployment`);
  return entry.physicalName;
};

/**
 * Runs generated records through a deployed pipeline on the embedded AWS and collects what comes
 * out:
 *
 * 1. warm-up: one marker per input shard at `start`, then waits until every shard has a watermark
 *    item — so no shard is unknown to the watermark when the bulk arrives (an unknown shard does
 *    not hold the watermark back, and its records could be refused as LATE);
 * 2. sends the records in order (KinesisSink, 500 per PutRecords, order kept per partition key);
 * 3. flush: one marker per shard a day after the last event: the watermark passes every window,
 *    and the batch handler closes them all (no sweeper needed);
 * 4. reads the output, side-output and failure streams until the expected numbers are reached
 *    (the expected results depend on the failures) or `timeoutMs` passes.
 */
export async function drivePipeline(options: DriveOptions): Promise<PipelineRun> {
  const started = Date.now();
  const { session, pipeline } = options;
  const { kinesis, dynamodb } = localClients(session.state.endpoints);
  const input = new KinesisSink({ streamName: physical(session, options.input), client: kinesis });
  const table = Object.values(session.state.names).find(
    (entry) => entry.type === 'AWS::DynamoDB::Table',
  );
  if (table === undefined) throw new Error('no state table in the local deployment');

  // 1. warm-up
  await input.send(
    keysCoveringShards('__warmup', INPUT_SHARDS).map((key) => options.marker(key, options.start)),
  );
  for (let shards = 0; shards < INPUT_SHARDS; ) {
    const page = await dynamodb.send(
      new QueryCommand({
        TableName: table.physicalName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
        ExpressionAttributeValues: { ':pk': { S: `${pipeline}#WM` }, ':s': { S: 'S#' } },
        ConsistentRead: true,
      }),
    );
    shards = page.Count ?? 0;
    if (shards < INPUT_SHARDS) await new Promise((resolve) => setTimeout(resolve, 250));
    if (Date.now() - started > 60_000) throw new Error('warm-up markers were not processed');
  }

  // 2. the generated records, 3. flush
  await input.send(options.records.map((r) => ({ data: r.data, partitionKey: r.partitionKey })));
  const last = Math.max(...options.records.map((r) => r.eventTime));
  await input.send(
    keysCoveringShards('__flush', INPUT_SHARDS).map((key) =>
      options.marker(key, last + 86_400_000),
    ),
  );

  // 4. read until complete
  const results = new Map<string, WindowResult>();
  const inconsistent: string[] = [];
  const side = new Map<string, Map<string, Record<string, unknown>>>();
  const failures = new Map<string, ReadFailure>();
  const controller = new AbortController();
  let expected = options.expectedResults([]);
  const check = (): void => {
    if (failures.size >= options.expectedFailures && results.size >= expected) controller.abort();
  };
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 100_000);
  const decode = (data: Uint8Array) => JSON.parse(Buffer.from(data).toString('utf8'));
  await Promise.all([
    readStream({
      client: kinesis,
      streamName: physical(session, options.output),
      fromStart: true,
      signal: controller.signal,
      onRecord: (record) => {
        const result = decode(record.data) as WindowResult;
        if (!result.final || result.key.startsWith('__')) return;
        const seen = results.get(result.id);
        if (seen !== undefined && JSON.stringify(seen.values) !== JSON.stringify(result.values))
          inconsistent.push(result.id);
        results.set(result.id, result);
        check();
      },
    }),
    ...(options.sideOutputs ?? []).map((stream) => {
      const byId = new Map<string, Record<string, unknown>>();
      side.set(stream, byId);
      return readStream({
        client: kinesis,
        streamName: physical(session, stream),
        fromStart: true,
        signal: controller.signal,
        onRecord: (record) => {
          const body = decode(record.data) as Record<string, unknown>;
          byId.set(String(body.id), body);
        },
      });
    }),
    readStream({
      client: kinesis,
      streamName: physical(session, `${pipeline}-failures`),
      fromStart: true,
      signal: controller.signal,
      onRecord: (record) => {
        const body = decode(record.data) as Omit<ReadFailure, 'text'> & { data: string };
        failures.set(`${body.shardId}|${body.sequenceNumber}|${body.reason}`, {
          reason: body.reason,
          detail: body.detail,
          shardId: body.shardId,
          sequenceNumber: body.sequenceNumber,
          text: Buffer.from(body.data, 'base64').toString('utf8'),
        });
        expected = options.expectedResults([...failures.values()]);
        check();
      },
    }),
  ]);
  clearTimeout(timer);
  // Side outputs are written right after their results: give them a moment to be read.
  return {
    results,
    inconsistent,
    side,
    failures: [...failures.values()],
    elapsedMs: Date.now() - started,
  };
}

/** Event ids (`idField`) of the records the pipeline refused as LATE. */
export function refusedIds(failures: readonly ReadFailure[], idField: string): Set<string> {
  const ids = new Set<string>();
  for (const f of failures) {
    if (f.reason !== 'LATE') continue;
    ids.add(String((JSON.parse(f.text) as Record<string, unknown>)[idField]));
  }
  return ids;
}

/** The reasons reported per original record text, for NOT_JSON and SCHEMA failures. */
export function invalidReasons(failures: readonly ReadFailure[]): Map<string, string> {
  return new Map(failures.filter((f) => f.reason !== 'LATE').map((f) => [f.text, f.reason]));
}

/** Epoch ms of an event's `ts` (ISO-8601 or epoch ms). */
export const tsOf = (event: Readonly<Record<string, unknown>>): number =>
  typeof event.ts === 'number' ? event.ts : Date.parse(String(event.ts));
