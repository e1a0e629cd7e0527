import { join } from 'node:path';
import { DEFAULT_FAILURES_FILE } from '#local/capture/constants';
import { readFailures } from '#local/capture/readFailures';
import type { CapturedFailure } from '#local/capture/types';

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
  const file = options.file ?? join(options.projectDir ?? process.cwd(), DEFAULT_FAILURES_FILE);
  const failures = readFailures(file);
  if (options.json) {
    for (const failure of failures) write(`${JSON.stringify(failure)}\n`);
    return 0;
  }
  if (failures.length === 0) {
    write(`no failures in ${file}\n`);
    return 0;
  }
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
  write(`${table(rows)}\n${failures.length} failure record(s) in ${file}\n`);
  return 0;
}
