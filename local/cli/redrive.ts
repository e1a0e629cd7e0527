import { join } from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { compareSequenceNumbers } from '#commons/compareSequenceNumbers';
import { localClients } from '#local/aws/index';
import { DEFAULT_FAILURES_FILE } from '#local/capture/constants';
import {
  type PipelineFailureStream,
  pipelineFailureStreams,
} from '#local/capture/pipelineFailureStreams';
import { type PipelineSource, pipelineSources } from '#local/capture/pipelineSources';
import { type FailureStreamRecord, readFailureStreams } from '#local/capture/readFailureStreams';
import { readFailures } from '#local/capture/readFailures';
import { readRecordAt } from '#local/capture/readRecordAt';
import type { CapturedFailure } from '#local/capture/types';
import { KinesisSink, type SinkRecord } from '#sinks/index';
import { NoLocalRuntimeError } from './errors';
import { type LocalState, requireRunningRuntime } from './localState';

/** Rejections that are not redriven unless asked for by `--reason LATE`: their windows are closed. */
const LATE = 'LATE';

/** Options for {@link redrive}. */
export interface RedriveOptions {
  /** Only this pipeline's failed records. @default - every pipeline */
  readonly pipeline?: string;
  /**
   * Only records rejected for this reason (`SCHEMA`, `TOO_LARGE`, …) or, for on-failure captures, given
   * up on under this condition (`RetryAttemptsExhausted`, `RecordAgeExceeded`).
   * @default - every reason except LATE
   */
  readonly reason?: string;
  /** Count and list what would be sent, send nothing. @default false */
  readonly dryRun?: boolean;
  /**
   * Also redrive the records of batches the event source mappings gave up on (the on-failure
   * captures in `.shardflow/failures.jsonl`).
   * @default false
   */
  readonly captured?: boolean;
  /** Project directory. @default - the current directory */
  readonly projectDir?: string;
  /** The failure file of on-failure captures. @default - `.shardflow/failures.jsonl` under `projectDir` */
  readonly file?: string;
  /**
   * The running local deployment.
   * @default - `.shardflow/local.json` under `projectDir`, if the runtime it names is verified to run
   */
  readonly state?: LocalState;
  /** Kinesis client of the deployment. @default - a client on the state's Kinesis endpoint */
  readonly client?: KinesisClient;
  /** Each pipeline's input stream. @default - read from the deployment's template */
  readonly sources?: ReadonlyMap<string, PipelineSource>;
  /**
   * Each pipeline's failure stream, by physical name: what says whose a rejected record is.
   * @default - read from the deployment's template
   */
  readonly failureStreams?: ReadonlyMap<string, PipelineFailureStream>;
  /**
   * Reads failure streams (physical names) from their oldest record.
   * @default - {@link readFailureStreams} with `client`
   */
  readonly readRejected?: (streams: readonly string[]) => Promise<FailureStreamRecord[]>;
  /** Receives the report. @default - stdout */
  readonly write?: (text: string) => void;
}

/** One record to send back, and where it failed. */
interface Candidate {
  readonly pipeline: string;
  readonly source: PipelineSource;
  readonly reason: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** Base64, or undefined when it must be read back from the stream. */
  readonly data: string | undefined;
}

/** What a redrive did (or, with `dryRun`, would do). */
export interface RedriveReport {
  /** Records sent (or that would be sent), by logical input stream. */
  readonly sent: Readonly<Record<string, number>>;
  /** Records sent in total. */
  readonly total: number;
  /** LATE records left out because no `reason` asked for them. */
  readonly skippedLate: number;
  /** Records whose data could not be read back from the stream, with why. */
  readonly missing: ReadonlyArray<{
    readonly pipeline: string;
    readonly shardId: string;
    readonly sequenceNumber: string;
    readonly why: string;
  }>;
  /**
   * Records of failure streams that were sent nowhere because whose they are cannot be trusted: their
   * `pipeline` is not the pipeline whose failure stream they were read from, or they are not failure
   * records at all. With where they are in the failure stream.
   */
  readonly refused: ReadonlyArray<{
    /** Logical name of the failure stream (`enrich-failures`). */
    readonly failureStream: string;
    readonly shardId: string;
    readonly sequenceNumber: string;
    readonly why: string;
  }>;
}

/**
 * `shardflow redrive`: sends failed records back to their pipeline's input stream, after a fix —
 * from the `<pipeline>-failures` streams and, with `captured`, the on-failure captures — with their
 * original data and partition key, in their original order per shard. A source record is sent once
 * per run even when several pipelines or reasons list it; records whose failure record left the data
 * out (`dataTruncated`) are read back from the stream by position. LATE records are left out unless
 * `reason` is `LATE`: their windows are closed, so they would be refused again.
 *
 * A rejected record goes to the input stream of the pipeline whose failure stream it was read from,
 * never to the one its `pipeline` field names: a failure record whose `pipeline` disagrees with its
 * stream is sent nowhere and reported (`refused`).
 *
 * Not idempotent: each run sends again, under new sequence numbers, so a record redriven twice is
 * processed twice (see docs/local.md).
 *
 * @returns the exit code: 0, or 1 when no runtime is running, some records could not be read back or
 *   some failure records were refused
 * @example
 * ```ts
 * process.exitCode = await redrive({ pipeline: 'page-views', reason: 'SCHEMA', dryRun: true });
 * ```
 */
export async function redrive(options: RedriveOptions = {}): Promise<number> {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const projectDir = options.projectDir ?? process.cwd();
  let state: LocalState;
  try {
    state = options.state ?? requireRunningRuntime(projectDir);
  } catch (error) {
    if (!(error instanceof NoLocalRuntimeError)) throw error;
    write(`${error.message}\n`);
    return 1;
  }
  const report = await redriveRecords(state, options, write);
  const streams = Object.entries(report.sent);
  const verb = options.dryRun ? 'would send' : 'sent';
  for (const [stream, count] of streams) write(`${verb} ${count} record(s) to ${stream}\n`);
  if (report.skippedLate > 0) {
    write(
      `left out ${report.skippedLate} LATE record(s): their windows are closed, so they would be refused again (--reason LATE sends them)\n`,
    );
  }
  for (const missing of report.missing) {
    write(
      `not redriven: ${missing.pipeline} ${missing.shardId} ${missing.sequenceNumber}: ${missing.why}\n`,
    );
  }
  for (const refused of report.refused) {
    write(
      `refused: ${refused.failureStream} ${refused.shardId} ${refused.sequenceNumber}: ${refused.why}\n`,
    );
  }
  if (report.refused.length > 0) {
    write(
      `refused ${report.refused.length} record(s) of the failure streams, sent nowhere: a failure record is redriven only to the pipeline whose failure stream holds it\n`,
    );
  }
  write(
    options.dryRun
      ? `dry run: ${report.total} record(s) would be sent\n`
      : `${report.total} record(s) sent\n`,
  );
  return report.missing.length > 0 || report.refused.length > 0 ? 1 : 0;
}

/**
 * The work of {@link redrive} without the report text: collects, resolves and sends the records.
 */
export async function redriveRecords(
  state: LocalState,
  options: RedriveOptions = {},
  write: (text: string) => void = () => {},
): Promise<RedriveReport> {
  const client = options.client ?? localClients(state.endpoints).kinesis;
  const sources = options.sources ?? pipelineSources(state);
  const wanted = (pipeline: string) =>
    options.pipeline === undefined || options.pipeline === pipeline;
  if (options.pipeline !== undefined && !sources.has(options.pipeline)) {
    throw new Error(
      `unknown pipeline '${options.pipeline}'; the local deployment has: ${[...sources.keys()].join(', ')}`,
    );
  }
  const candidates: Candidate[] = [];
  let skippedLate = 0;
  const missing: Array<RedriveReport['missing'][number]> = [];
  const refused: Array<RedriveReport['refused'][number]> = [];

  // Whose a rejected record is comes from the failure stream it is read from: anyone who can write
  // to a failure stream can put any `pipeline` in a record.
  const failureStreams = options.failureStreams ?? pipelineFailureStreams(state);
  const toRead = [...failureStreams.values()].filter((stream) => stream.pipelines.some(wanted));
  const readRejected =
    options.readRejected ?? ((streams: readonly string[]) => readFailureStreams(client, streams));
  const rejected = await readRejected(toRead.map((stream) => stream.physicalName));
  for (const { failureStream: physicalName, body: record, ...at } of rejected) {
    const failureStream = failureStreams.get(physicalName);
    if (failureStream === undefined) continue; // not a failure stream that was asked for
    if (record === undefined) {
      refused.push({ failureStream: failureStream.stream, ...at, why: 'not a failure record' });
      continue;
    }
    if (!failureStream.pipelines.includes(record.pipeline)) {
      refused.push({
        failureStream: failureStream.stream,
        ...at,
        why: `says pipeline ${JSON.stringify(record.pipeline)}, but ${failureStream.stream} is the failure stream of ${failureStream.pipelines.join(', ')}`,
      });
      continue;
    }
    if (!wanted(record.pipeline)) continue;
    if (options.reason === undefined ? record.reason === LATE : record.reason !== options.reason) {
      if (options.reason === undefined) skippedLate++;
      continue;
    }
    const source = sources.get(record.pipeline);
    if (source === undefined) {
      missing.push({ ...position(record), why: 'no input stream found for this pipeline' });
      continue;
    }
    candidates.push({
      pipeline: record.pipeline,
      source,
      reason: record.reason,
      shardId: record.shardId,
      sequenceNumber: record.sequenceNumber,
      partitionKey: record.partitionKey,
      data: record.dataTruncated === true ? undefined : record.data,
    });
  }
  if (options.captured) {
    const file = options.file ?? join(options.projectDir ?? process.cwd(), DEFAULT_FAILURES_FILE);
    for (const failure of readFailures(file)) {
      const source = [...sources.values()].find(
        (candidate) => candidate.functionName === failure.shardflow?.functionName,
      );
      if (source === undefined || !wanted(source.pipeline)) continue;
      if (options.reason !== undefined && failure.requestContext.condition !== options.reason) {
        continue;
      }
      candidates.push(...capturedCandidates(failure, source));
    }
  }

  // One send per source record, in the stream's order per shard.
  const unique = new Map<string, Candidate>();
  for (const candidate of candidates) {
    const identity = `${candidate.source.physicalName}|${candidate.shardId}|${candidate.sequenceNumber}`;
    if (!unique.has(identity)) unique.set(identity, candidate);
  }
  const ordered = [...unique.values()].sort(
    (a, b) =>
      a.source.physicalName.localeCompare(b.source.physicalName) ||
      a.shardId.localeCompare(b.shardId) ||
      compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber),
  );

  const byStream = new Map<string, { source: PipelineSource; records: SinkRecord[] }>();
  for (const candidate of ordered) {
    let data: Uint8Array;
    if (candidate.data !== undefined) {
      data = Buffer.from(candidate.data, 'base64');
    } else {
      const at = await readRecordAt(
        client,
        candidate.source.physicalName,
        candidate.shardId,
        candidate.sequenceNumber,
      );
      if (!at.found) {
        missing.push({ ...position(candidate), why: at.reason });
        continue;
      }
      data = at.data;
    }
    if (candidate.partitionKey === '') {
      missing.push({ ...position(candidate), why: 'the failure record has no partition key' });
      continue;
    }
    const entry = byStream.get(candidate.source.physicalName) ?? {
      source: candidate.source,
      records: [],
    };
    entry.records.push({ data, partitionKey: candidate.partitionKey });
    byStream.set(candidate.source.physicalName, entry);
  }

  const sent: Record<string, number> = {};
  let total = 0;
  for (const { source, records } of byStream.values()) {
    if (source.alsoReadBy.length > 0) {
      write(
        `note: ${source.stream} is also read by ${source.alsoReadBy.join(', ')}, which will process these records again too\n`,
      );
    }
    if (!options.dryRun) {
      await new KinesisSink({ streamName: source.physicalName, client }).send(records);
    }
    sent[source.stream] = (sent[source.stream] ?? 0) + records.length;
    total += records.length;
  }
  return { sent, total, skippedLate, missing, refused };
}

function position(record: {
  readonly pipeline: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
}): { pipeline: string; shardId: string; sequenceNumber: string } {
  return {
    pipeline: record.pipeline,
    shardId: record.shardId,
    sequenceNumber: record.sequenceNumber,
  };
}

function capturedCandidates(failure: CapturedFailure, source: PipelineSource): Candidate[] {
  return (failure.shardflow?.records ?? []).map((record) => ({
    pipeline: source.pipeline,
    source,
    reason: failure.requestContext.condition,
    shardId: failure.KinesisBatchInfo.shardId,
    sequenceNumber: record.sequenceNumber,
    partitionKey: record.partitionKey,
    data: record.data,
  }));
}
