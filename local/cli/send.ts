import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { SingleBar } from 'cli-progress';
import { KinesisSink } from '#sinks/index';
import type { ResolvedStream } from './resolveStream';

/** Options of `shardflow send`. */
export interface SendOptions {
  /** JSON field whose value becomes the partition key; records without it are rejected. */
  readonly partitionKey?: string;
  /** Show a progress bar on stderr. @default true when stderr is a terminal */
  readonly progress?: boolean;
}

const CHUNK = 500;

/**
 * Sends JSON lines (a file, or stdin with `-`) to a stream, 500 records per PutRecords, keeping the order of
 * the input per partition key. Lines are sent byte for byte, so invalid records can be sent on purpose;
 * without `--partition-key` each record gets a random partition key.
 *
 * @returns the number of records sent
 */
export async function sendLines(
  target: ResolvedStream,
  input: NodeJS.ReadableStream,
  options: SendOptions = {},
): Promise<number> {
  const sink = new KinesisSink({ streamName: target.streamName, client: target.client });
  const bar = options.progress
    ? new SingleBar({
        format: 'sending {bar} {value} records {duration}s',
        stream: process.stderr,
        hideCursor: true,
      })
    : undefined;
  bar?.start(0, 0);
  let sent = 0;
  let lineNumber = 0;
  let chunk: Array<{ data: string; partitionKey: string }> = [];
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) {
      return;
    }
    await sink.send(chunk);
    sent += chunk.length;
    chunk = [];
    bar?.setTotal(sent);
    bar?.update(sent);
  };
  try {
    for await (const line of readline.createInterface({
      input,
      crlfDelay: Number.POSITIVE_INFINITY,
    })) {
      lineNumber += 1;
      if (line.trim() === '') {
        continue;
      }
      chunk.push({
        data: line,
        partitionKey: partitionKeyOf(line, lineNumber, options.partitionKey),
      });
      if (chunk.length >= CHUNK) {
        await flush();
      }
    }
    await flush();
  } finally {
    bar?.stop();
  }
  return sent;
}

/** Opens FILE, or stdin for `-` or no file. */
export function openInput(file: string | undefined): NodeJS.ReadableStream {
  if (file === undefined || file === '-') {
    return process.stdin;
  }
  if (!fs.existsSync(file)) {
    throw new Error(`no such file: ${file}`);
  }
  return fs.createReadStream(file);
}

function partitionKeyOf(line: string, lineNumber: number, field: string | undefined): string {
  if (field === undefined) {
    return randomUUID();
  }
  let value: unknown;
  try {
    value = (JSON.parse(line) as Record<string, unknown>)[field];
  } catch {
    throw new Error(`line ${lineNumber} is not JSON, so it has no partition key field '${field}'`);
  }
  if (value === undefined || value === null || value === '') {
    throw new Error(`line ${lineNumber} has no partition key field '${field}'`);
  }
  return String(value);
}
