import { join } from 'node:path';
import type { FailureRecordBody } from '#handlers/types';
import { localClients } from '#local/aws/index';
import { DEFAULT_FAILURES_FILE } from '#local/capture/constants';
import { type PipelineSource, pipelineSources } from '#local/capture/pipelineSources';
import { readFailureStreams } from '#local/capture/readFailureStreams';
import { readFailures } from '#local/capture/readFailures';
import { readRecordAt } from '#local/capture/readRecordAt';
import type { CapturedFailure } from '#local/capture/types';
import { type LocalState, runningRuntime } from './localState';

/** Logical names of pipelines' failure streams end with this. */
const FAILURE_STREAM_SUFFIX = '-failures';

/** Options for {@link printFailures}. */
export interface PrintFailuresOptions {
  /** Print JSON lines (one failure record with its records each) instead of a table. @default false */
  readonly json?: boolean;
  /** The failure file. @default - `.shardflow/failures.jsonl` under `projectDir` */
  readonly file?: string;
  /** Project directory. @default - the current directory */
  readonly projectDir?: string;
  /** Receives the output. @default - stdout */
  readonly write?: (text: string) => void;
  /**
   * The running local deployment whose `<pipeline>-failures` streams are read too.
   * @default - `.shardflow/local.json` under `projectDir`, if the runtime it names is verified to
   *   run (`runningRuntime`); otherwise only the failure file is read
   */
  readonly state?: LocalState;
}

/**
 * Every record a pipeline rejected (invalid, LATE …) from the `<pipeline>-failures` streams of a local
 * deployment, once each: failure streams are at-least-once, and `(shardId, sequenceNumber, reason)`
 * identifies a rejection ({@link readFailureStreams}).
 */
export async function readRejectedRecords(state: LocalState): Promise<FailureRecordBody[]> {
  const { kinesis } = localClients(state.endpoints);
  const streams = Object.entries(state.names)
    .filter(
      ([name, resource]) =>
        resource.type === 'AWS::Kinesis::Stream' && name.endsWith(FAILURE_STREAM_SUFFIX),
    )
    .map(([, resource]) => resource.physicalName);
  const records = await readFailureStreams(kinesis, streams);
  return records.flatMap((record) => (record.body === undefined ? [] : [record.body]));
}

/** A rejected record with its data: inline, or read back from the source stream. */
export interface ResolvedRejectedRecord extends FailureRecordBody {
  /** `true` when `data` was left out of the failure record and read back from the source stream. */
  readonly dataFetched?: true;
  /** Why the data of a `dataTruncated` record could not be read back (e.g. past retention). */
  readonly dataMissing?: string;
}

/**
 * Fills in the data of failure records that left it out (`dataTruncated`: the record was too large
 * to carry inline) by reading each record back from its pipeline's input stream at its shard and
 * sequence number — possible while the record is within the stream's retention (24 h by default).
 */
export async function resolveRejectedData(
  state: LocalState,
  rejected: readonly FailureRecordBody[],
  sources: ReadonlyMap<string, PipelineSource> = sourcesOf(state, rejected),
): Promise<ResolvedRejectedRecord[]> {
  const { kinesis } = localClients(state.endpoints);
  const resolved: ResolvedRejectedRecord[] = [];
  for (const record of rejected) {
    if (record.dataTruncated !== true) {
      resolved.push(record);
      continue;
    }
    const source = sources.get(record.pipeline);
    if (source === undefined) {
      resolved.push({ ...record, dataMissing: `no input stream found for ${record.pipeline}` });
      continue;
    }
    const at = await readRecordAt(
      kinesis,
      source.physicalName,
      record.shardId,
      record.sequenceNumber,
    );
    resolved.push(
      at.found
        ? { ...record, data: Buffer.from(at.data).toString('base64'), dataFetched: true }
        : { ...record, dataMissing: at.reason },
    );
  }
  return resolved;
}

/** The pipelines' input streams, read from the template only when some record needs them. */
function sourcesOf(
  state: LocalState,
  rejected: readonly FailureRecordBody[],
): Map<string, PipelineSource> {
  return rejected.some((record) => record.dataTruncated === true)
    ? pipelineSources(state)
    : new Map();
}

function previewData(record: ResolvedRejectedRecord): string {
  if (record.dataMissing !== undefined) {
    return `(${record.dataBytes ?? '?'} bytes, not read back: ${record.dataMissing})`;
  }
  const text = Buffer.from(record.data, 'base64').toString('utf8').replace(/\s+/g, ' ');
  const shown = text.length > 40 ? `${text.slice(0, 39)}…` : text;
  return record.dataFetched ? `(${record.dataBytes} bytes from the stream) ${shown}` : shown;
}

function preview(failure: CapturedFailure): string {
  const first = failure.shardflow?.records?.[0];
  if (first === undefined) return '';
  const text = Buffer.from(first.data, 'base64').toString('utf8').replace(/\s+/g, ' ');
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? '').length)),
  );
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths?.[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * `shardflow failures [--json]`: lists what reached the on-failure destinations of the local
 * run, read from the failure file the runtime appends to — a table by default, JSON lines (AWS's
 * failure-record shape plus the records under `shardflow`) with `json`. Returns the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await printFailures({ json: true });
 * ```
 */
export async function printFailures(options: PrintFailuresOptions = {}): Promise<number> {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const projectDir = options.projectDir ?? process.cwd();
  const file = options.file ?? join(projectDir, DEFAULT_FAILURES_FILE);
  const failures = readFailures(file);
  const state = options.state ?? runningRuntime(projectDir);
  const rejected =
    state === undefined ? [] : await resolveRejectedData(state, await readRejectedRecords(state));
  if (options.json) {
    for (const failure of failures) write(`${JSON.stringify(failure)}\n`);
    for (const record of rejected) write(`${JSON.stringify(record)}\n`);
    return 0;
  }
  if (failures.length === 0) {
    write(`no on-failure destination records in ${file}\n`);
  } else {
    const rows = [
      [
        'TIME',
        'CONDITION',
        'FUNCTION',
        'SHARD',
        'RECORDS',
        'INVOKES',
        'FIRST SEQUENCE',
        'ERROR',
        'FIRST RECORD',
      ],
      ...failures.map((failure) => [
        failure.timestamp,
        failure.requestContext.condition,
        failure.shardflow?.functionName ?? failure.requestContext.functionArn,
        failure.KinesisBatchInfo.shardId,
        String(failure.KinesisBatchInfo.batchSize),
        String(failure.requestContext.approximateInvokeCount),
        failure.KinesisBatchInfo.startSequenceNumber,
        failure.shardflow?.error ?? '',
        preview(failure),
      ]),
    ];
    write(`${table(rows)}\n${failures.length} on-failure destination record(s) in ${file}\n`);
  }
  if (state === undefined) {
    write('no local runtime is running here, so no failure streams were read\n');
  } else if (rejected.length === 0) {
    write('no rejected records in the pipelines’ failure streams\n');
  } else {
    const rows = [
      ['FAILED AT', 'PIPELINE', 'REASON', 'SHARD', 'SEQUENCE', 'DETAIL', 'RECORD'],
      ...rejected.map((record) => [
        record.failedAt,
        record.pipeline,
        record.reason,
        record.shardId,
        record.sequenceNumber,
        record.detail.length > 60 ? `${record.detail.slice(0, 59)}…` : record.detail,
        previewData(record),
      ]),
    ];
    write(`${table(rows)}\n${rejected.length} rejected record(s) in the failure streams\n`);
  }
  return 0;
}
