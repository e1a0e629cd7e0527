import {
  type AttributeValue,
  ListTablesCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { localClients } from '#local/aws/index';
import type { LocalState } from '#local/cli/localState';
import type { GeneratedRecord } from '#local/generator/index';
import { keysCoveringShards } from '#local/generator/index';
import { readStream } from '#local/io/readStream';
import { resultId, type WindowResult } from '#runtime/index';
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

/** What one pipeline produced, deduplicated. */
export interface PipelineRun {
  /** Final results by id, without the warm-up and flush keys (`__…`). */
  readonly results: Map<string, WindowResult>;
  /** Ids that arrived more than once with different values (must be empty). */
  readonly inconsistent: string[];
  /** Side-output records by stream, then by id. */
  readonly side: Map<string, Map<string, Record<string, unknown>>>;
  /** Failure records, one per (shard, sequence number, reason). */
  readonly failures: ReadFailure[];
  /** Whether the read ended on `timeoutMs` rather than on the expected numbers. */
  readonly timedOut: boolean;
}

/** Generated records for one input stream, and the windowed pipelines that read it. */
export interface InputFeed {
  readonly input: string;
  readonly pipelines: readonly string[];
  readonly records: readonly GeneratedRecord[];
  /** A valid event of the reserved key `key` at `ts` (warm-up and flush markers). */
  readonly marker: (key: string, ts: number) => object;
  /** Event time of the first event (warm-up markers go a day before it). */
  readonly start: number;
}

/** What to read back for one pipeline, and when it is complete. */
export interface PipelineExpectation {
  readonly pipeline: string;
  readonly output: string;
  readonly sideOutputs?: readonly string[];
  /** Final results expected, given the failures read so far (the read ends when reached). */
  readonly expectedResults: (failures: readonly ReadFailure[]) => number;
  readonly expectedFailures: number;
}

/** The endpoints and physical names of a running local deployment. */
export interface Deployment {
  readonly state: LocalState;
}

const physical = (deployment: Deployment, logical: string): string => {
  const entry = deployment.state.names[logical];
  if (entry === undefined) throw new Error(`no resource '${logical}' in the local deployment`);
  return entry.physicalName;
};

const decode = (data: Uint8Array): unknown => JSON.parse(Buffer.from(data).toString('utf8'));

/** Adds a failure record to `failures`, one per (shard, sequence number, reason). */
function readFailure(failures: Map<string, ReadFailure>, data: Uint8Array): void {
  const body = decode(data) as Omit<ReadFailure, 'text'> & { data: string };
  failures.set(`${body.shardId}|${body.sequenceNumber}|${body.reason}`, {
    reason: body.reason,
    detail: body.detail,
    shardId: body.shardId,
    sequenceNumber: body.sequenceNumber,
    text: Buffer.from(body.data, 'base64').toString('utf8'),
  });
}

/**
 * Warm-up: one marker per input shard a day before `start`, then waits until every pipeline has a watermark
 * item per shard — so no shard is unknown to a watermark when the bulk arrives (an unknown shard
 * does not hold the watermark back, and its records could be refused as LATE).
 */
export async function warmUp(
  deployment: Deployment,
  feeds: readonly InputFeed[],
  timeoutMs = 90_000,
): Promise<void> {
  const { kinesis, dynamodb } = localClients(deployment.state.endpoints);
  const started = Date.now();
  for (const feed of feeds) {
    const sink = new KinesisSink({ streamName: physical(deployment, feed.input), client: kinesis });
    await sink.send(
      keysCoveringShards('__warmup', INPUT_SHARDS).map((key) => ({
        // A day before the first event: while the other pipelines warm up, the shards go idle
        // and the watermark runs on with the wall clock from here — it must not reach `start`.
        data: feed.marker(key, feed.start - 86_400_000),
        partitionKey: key,
      })),
    );
  }
  const tableName = await stateTable(deployment);
  for (const pipeline of feeds.flatMap((f) => f.pipelines)) {
    for (;;) {
      const page = await dynamodb.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
          ExpressionAttributeValues: { ':pk': { S: `${pipeline}#WM` }, ':s': { S: 'S#' } },
          ConsistentRead: true,
        }),
      );
      if ((page.Count ?? 0) >= INPUT_SHARDS) break;
      if (Date.now() - started > timeoutMs) {
        throw new Error(`warm-up markers were not processed by ${pipeline}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** The app deploys one table: the state table of the windowed pipelines. */
async function stateTable(deployment: Deployment): Promise<string> {
  const { dynamodb } = localClients(deployment.state.endpoints);
  const tables = (await dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
  if (tables.length !== 1) throw new Error(`expected one state table, got ${tables.join(', ')}`);
  return tables[0] as string;
}

/**
 * Diagnosis of final results that were expected but not read: the status of each one's window
 * item in the state table (`CLOSED` = closed but never marked emitted; `no window item` = never
 * found due), with the time it was closed. Windowed (sliced) pipelines only.
 */
export async function windowStatuses(
  deployment: Deployment,
  pipeline: string,
  ids: readonly string[],
): Promise<Record<string, string>> {
  const { dynamodb } = localClients(deployment.state.endpoints);
  const tableName = await stateTable(deployment);
  const wanted = new Set(ids);
  const found: Record<string, string> = {};
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: '#kind = :window AND begins_with(pk, :pipeline)',
        ExpressionAttributeNames: { '#kind': 'kind' },
        ExpressionAttributeValues: {
          ':window': { S: 'window' },
          ':pipeline': { S: `${pipeline}#K#` },
        },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const window = { start: Number(item.windowStart?.N), end: Number(item.windowEnd?.N) };
      const id = resultId(pipeline, String(item.key?.S), window, true);
      if (!wanted.has(id)) continue;
      const closedAt = item.closedAt?.N ? new Date(Number(item.closedAt.N)).toISOString() : '-';
      found[id] =
        `${item.status?.S} closedAt=${closedAt} key=${item.key?.S} window=${window.start}`;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return Object.fromEntries(ids.map((id) => [id, found[id] ?? 'no window item']));
}

/**
 * Sends each feed's records in generated order (500 per PutRecords), feeds concurrently; then one flush marker per shard a day after each feed's last event: the watermark
 * passes every window, and the batch handler closes them all.
 */
export async function sendFeeds(
  deployment: Deployment,
  feeds: readonly InputFeed[],
): Promise<void> {
  const { kinesis } = localClients(deployment.state.endpoints);
  await Promise.all(
    feeds.map(async (feed) => {
      // Unordered: records go out in generated (event-time) order, 500 per call, as a real
      // producer sends them. The ordered sink sends one record per key per call, so a shard would
      // receive the first record of every key — spanning the whole run — before a busy key's
      // second one, and its watermark would pass that key's on-time records.
      const sink = new KinesisSink({
        streamName: physical(deployment, feed.input),
        client: kinesis,
        ordered: false,
      });
      await sink.send(feed.records.map((r) => ({ data: r.data, partitionKey: r.partitionKey })));
      const last = Math.max(...feed.records.map((r) => r.eventTime));
      await sink.send(
        keysCoveringShards('__flush', INPUT_SHARDS).map((key) => ({
          data: feed.marker(key, last + 86_400_000),
          partitionKey: key,
        })),
      );
    }),
  );
}

/**
 * Reads a pipeline's output, failure and side-output streams from their start until the expected
 * numbers are reached (the expected results depend on the failures) or `timeoutMs` passes.
 */
export async function collect(
  deployment: Deployment,
  expectation: PipelineExpectation,
  timeoutMs = 240_000,
  // Longer than the sweeper's repair of a window whose closer died before emitting it
  // (repairAfterMs 60 s + its 1-minute schedule + the sweep itself).
  settleMs = 150_000,
): Promise<PipelineRun> {
  const { kinesis } = localClients(deployment.state.endpoints);
  const results = new Map<string, WindowResult>();
  const inconsistent: string[] = [];
  const failures = new Map<string, ReadFailure>();
  const controller = new AbortController();
  let expected = expectation.expectedResults([]);
  const check = (): void => {
    if (failures.size >= expectation.expectedFailures && results.size >= expected) {
      controller.abort();
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  // Settled: almost every result is in and none came for `settleMs` — the read ends, and the
  // test compares what came (a missing result then shows as such, without waiting for timeoutMs).
  let lastResultAt = Date.now();
  const settle = setInterval(() => {
    const almost = results.size > 0 && results.size >= expected * 0.95;
    if (almost && Date.now() - lastResultAt > settleMs) controller.abort();
  }, 5_000);
  await Promise.all([
    readStream({
      client: kinesis,
      streamName: physical(deployment, expectation.output),
      fromStart: true,
      signal: controller.signal,
      onRecord: (record) => {
        const result = decode(record.data) as WindowResult;
        if (!result.final || result.key.startsWith('__')) return;
        const seen = results.get(result.id);
        if (seen !== undefined && JSON.stringify(seen.values) !== JSON.stringify(result.values)) {
          inconsistent.push(result.id);
        }
        results.set(result.id, result);
        lastResultAt = Date.now();
        check();
      },
    }),
    readStream({
      client: kinesis,
      streamName: physical(deployment, `${expectation.pipeline}-failures`),
      fromStart: true,
      signal: controller.signal,
      onRecord: (record) => {
        readFailure(failures, record.data);
        expected = expectation.expectedResults([...failures.values()]);
        check();
      },
    }),
  ]);
  clearTimeout(timer);
  clearInterval(settle);
  // Failures are written before the windows they miss close, and side outputs right after their
  // results: both are complete once read to the end now.
  // A second pass adds what the first had not read yet (never fewer: a pass can end early on an
  // idle page, so its result alone would drop refused records and the oracle would expect their
  // windows).
  await readStream({
    client: kinesis,
    streamName: physical(deployment, `${expectation.pipeline}-failures`),
    fromStart: true,
    idleTimeoutMs: 5_000,
    onRecord: (record) => readFailure(failures, record.data),
  });
  const side = new Map<string, Map<string, Record<string, unknown>>>();
  for (const stream of expectation.sideOutputs ?? []) {
    const byId = new Map<string, Record<string, unknown>>();
    side.set(stream, byId);
    await readStream({
      client: kinesis,
      streamName: physical(deployment, stream),
      fromStart: true,
      idleTimeoutMs: 3_000,
      onRecord: (record) => {
        const body = decode(record.data) as Record<string, unknown>;
        byId.set(String(body.id), body);
      },
    });
  }
  return { results, inconsistent, side, failures: [...failures.values()], timedOut };
}

/** Reasons of valid records whose elements were not counted (the rest is invalid input). */
const REFUSED_REASONS = new Set(['LATE', 'EXPIRED', 'STATE_TOO_LARGE']);

/** Event ids (`idField`) of the records the pipeline refused as LATE, EXPIRED or STATE_TOO_LARGE. */
export function refusedIds(failures: readonly ReadFailure[], idField: string): Set<string> {
  const ids = new Set<string>();
  for (const f of failures) {
    if (!REFUSED_REASONS.has(f.reason)) continue;
    ids.add(String((JSON.parse(f.text) as Record<string, unknown>)[idField]));
  }
  return ids;
}

/** The reasons reported per original record text, for invalid input (not LATE, EXPIRED, …). */
export function invalidReasons(failures: readonly ReadFailure[]): Map<string, string> {
  return new Map(
    failures.filter((f) => !REFUSED_REASONS.has(f.reason)).map((f) => [f.text, f.reason]),
  );
}

/** Epoch ms of an event's `ts` (ISO-8601 or epoch ms). */
export const tsOf = (event: Readonly<Record<string, unknown>>): number =>
  typeof event.ts === 'number' ? event.ts : Date.parse(String(event.ts));
