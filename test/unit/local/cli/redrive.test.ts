import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import type { FailureRecordBody } from '#handlers/types';
import type { PipelineFailureStream } from '#local/capture/pipelineFailureStreams';
import type { PipelineSource } from '#local/capture/pipelineSources';
import type { FailureStreamRecord } from '#local/capture/readFailureStreams';
import { type LocalState, writeLocalState } from '#local/cli/localState';
import { redrive } from '#local/cli/redrive';

const STATE = {
  version: 1,
  pid: process.pid,
  enginePids: [],
  startedAt: '2026-11-26T10:00:00.000Z',
  cdkOut: '/nonexistent',
  endpoints: { credentials: { accessKeyId: 'SFLOCALTEST', secretAccessKey: 'secret' } },
  names: {},
} as unknown as LocalState;

const SOURCES = new Map<string, PipelineSource>([
  [
    'page-views',
    {
      pipeline: 'page-views',
      stream: 'clicks',
      physicalName: 'dev-clicks',
      functionName: 'dev-page-views',
      alsoReadBy: ['sessions'],
    },
  ],
  [
    'sessions',
    {
      pipeline: 'sessions',
      stream: 'clicks',
      physicalName: 'dev-clicks',
      functionName: 'dev-sessions',
      alsoReadBy: ['page-views'],
    },
  ],
  [
    'enrich',
    {
      pipeline: 'enrich',
      stream: 'numbers',
      physicalName: 'dev-numbers',
      functionName: 'dev-enrich',
      alsoReadBy: [],
    },
  ],
]);

/** Each pipeline's own failure stream, by physical name, as `StreamPipeline` creates them. */
const FAILURE_STREAMS = new Map<string, PipelineFailureStream>(
  ['page-views', 'sessions', 'enrich'].map((pipeline) => [
    `dev-${pipeline}-failures`,
    {
      stream: `${pipeline}-failures`,
      physicalName: `dev-${pipeline}-failures`,
      pipelines: [pipeline],
    },
  ]),
);

const rejected = (
  pipeline: string,
  reason: string,
  sequenceNumber: string,
  text: string | undefined,
  partitionKey = `pk-${sequenceNumber}`,
): FailureRecordBody => ({
  pipeline,
  reason,
  detail: '…',
  shardId: 'shardId-000000000000',
  sequenceNumber,
  partitionKey,
  approximateArrivalTimestamp: '2026-11-26T10:00:00.000Z',
  data: text === undefined ? '' : Buffer.from(text).toString('base64'),
  dataBytes: text?.length ?? 2_000_000,
  ...(text === undefined ? { dataTruncated: true as const } : {}),
  failedAt: '2026-11-26T10:00:01.000Z',
});

/** A failure record as read from the failure stream `failureStream` at `sequenceNumber`. */
const inStream = (
  failureStream: string,
  body: FailureRecordBody | undefined,
  sequenceNumber = '900',
): FailureStreamRecord => ({
  failureStream,
  shardId: 'shardId-000000000000',
  sequenceNumber,
  body,
});

/** A Kinesis stub: accepts PutRecords, serves `stored` records by position. */
const kinesisStub = (stored: Record<string, string> = {}) => {
  const puts: Array<{ stream: string; data: string; partitionKey: string }> = [];
  const reads: string[] = [];
  const send = jest.fn(async (command: unknown) => {
    if (command instanceof PutRecordsCommand) {
      const records = command.input.Records ?? [];
      for (const record of records) {
        puts.push({
          stream: command.input.StreamName ?? '',
          data: Buffer.from(record.Data ?? []).toString('utf8'),
          partitionKey: record.PartitionKey ?? '',
        });
      }
      return {
        FailedRecordCount: 0,
        Records: records.map((_, i) => ({
          ShardId: 'shardId-000000000000',
          SequenceNumber: `${i}`,
        })),
      };
    }
    if (command instanceof GetShardIteratorCommand) {
      expect(command.input.ShardIteratorType).toBe('AT_SEQUENCE_NUMBER');
      reads.push(`${command.input.StreamName}|${command.input.StartingSequenceNumber}`);
      return { ShardIterator: command.input.StartingSequenceNumber };
    }
    if (command instanceof GetRecordsCommand) {
      const sequenceNumber = command.input.ShardIterator ?? '';
      const text = stored[sequenceNumber];
      return {
        Records:
          text === undefined
            ? []
            : [{ SequenceNumber: sequenceNumber, Data: Buffer.from(text), PartitionKey: 'x' }],
        MillisBehindLatest: 0,
      };
    }
    throw new Error(`unexpected command ${String(command)}`);
  });
  return { puts, reads, client: { send } as unknown as KinesisClient };
};

/**
 * Runs redrive on failure streams holding `records`: a plain failure record sits in its own pipeline's
 * failure stream, an {@link inStream} one where it says.
 */
const run = async (
  records: Array<FailureRecordBody | FailureStreamRecord>,
  options: Parameters<typeof redrive>[0] = {},
  stored: Record<string, string> = {},
) => {
  const kinesis = kinesisStub(stored);
  const held = records.map((record, i) =>
    'failureStream' in record
      ? record
      : inStream(`dev-${record.pipeline}-failures`, record, `${i}`),
  );
  const streamsRead: string[] = [];
  let output = '';
  const code = await redrive({
    state: STATE,
    client: kinesis.client,
    sources: SOURCES,
    failureStreams: FAILURE_STREAMS,
    readRejected: async (streams) => {
      streamsRead.push(...streams);
      return held.filter((record) => streams.includes(record.failureStream));
    },
    write: (text) => {
      output += text;
    },
    ...options,
  });
  return { code, output, streamsRead, ...kinesis };
};

describe('shardflow redrive', () => {
  it('sends rejected records to their input stream with their bytes and partition key, in stream order', async () => {
    // GIVEN
    const records = [
      rejected('enrich', 'SCHEMA', '20', '{"id":2}'),
      rejected('enrich', 'NOT_JSON', '10', 'oops'),
      rejected('page-views', 'SCHEMA', '7', '{"page":1}', 'user-1'),
    ];

    // WHEN
    const { code, output, puts } = await run(records);

    // THEN
    expect(code).toBe(0);
    expect(puts).toEqual([
      { stream: 'dev-clicks', data: '{"page":1}', partitionKey: 'user-1' },
      { stream: 'dev-numbers', data: 'oops', partitionKey: 'pk-10' },
      { stream: 'dev-numbers', data: '{"id":2}', partitionKey: 'pk-20' },
    ]);
    expect(output).toContain('sent 1 record(s) to clicks');
    expect(output).toContain('sent 2 record(s) to numbers');
    expect(output).toContain('note: clicks is also read by sessions');
    expect(output).toMatch(/3 record\(s\) sent\n$/);
  });

  it('sends a rejected record to the input stream of the pipeline whose failure stream holds it', async () => {
    // GIVEN a page-views rejection in page-views-failures, the stream only page-views writes to
    const records = [
      inStream('dev-page-views-failures', rejected('page-views', 'SCHEMA', '7', 'p')),
    ];

    // WHEN
    const { code, puts, output } = await run(records);

    // THEN it goes back to clicks, page-views' input, as before
    expect(code).toBe(0);
    expect(puts).toEqual([{ stream: 'dev-clicks', data: 'p', partitionKey: 'pk-7' }]);
    expect(output).not.toContain('refused');
  });

  it('fails (exit 1) on a failure record whose pipeline is not its failure stream’s, sending it nowhere and saying where it is', async () => {
    // GIVEN a record claiming page-views, written to enrich's failure stream, next to a real enrich one
    const records = [
      inStream('dev-enrich-failures', rejected('page-views', 'SCHEMA', '7', 'forged'), '4001'),
      inStream('dev-enrich-failures', rejected('enrich', 'SCHEMA', '8', '{"id":8}'), '4002'),
    ];

    // WHEN
    const { code, puts, output } = await run(records);
    const dryRun = await run(records, { dryRun: true });

    // THEN the forged record is sent nowhere (not to clicks, not to numbers), the enrich one is redriven
    expect(code).toBe(1);
    expect(puts).toEqual([{ stream: 'dev-numbers', data: '{"id":8}', partitionKey: 'pk-8' }]);
    // AND it is reported with its position in the failure stream it was read from
    expect(output).toContain(
      'refused: enrich-failures shardId-000000000000 4001: says pipeline "page-views", but enrich-failures is the failure stream of enrich\n',
    );
    expect(output).toContain('refused 1 record(s) of the failure streams, sent nowhere');
    expect(output).toMatch(/1 record\(s\) sent\n$/);
    expect(dryRun.output).toContain('refused: enrich-failures shardId-000000000000 4001');
  });

  it('fails (exit 1) on a record of a failure stream that is no failure record, sending it nowhere', async () => {
    const { code, puts, output } = await run([inStream('dev-enrich-failures', undefined, '77')]);
    expect(code).toBe(1);
    expect(puts).toEqual([]);
    expect(output).toContain(
      'refused: enrich-failures shardId-000000000000 77: not a failure record',
    );
  });

  it('with --pipeline, reads only that pipeline’s failure stream, and still refuses records that are not its own there', async () => {
    // GIVEN a forged enrich record in page-views-failures, and a real enrich one in enrich-failures
    const records = [
      inStream('dev-page-views-failures', rejected('enrich', 'SCHEMA', '5', 'forged'), '31'),
      rejected('enrich', 'SCHEMA', '6', 'real'),
      rejected('page-views', 'SCHEMA', '7', 'p'),
    ];

    // WHEN
    const byEnrich = await run(records, { pipeline: 'enrich' });
    const byPageViews = await run(records, { pipeline: 'page-views' });

    // THEN
    expect(byEnrich.streamsRead).toEqual(['dev-enrich-failures']);
    expect(byEnrich.puts.map((put) => put.data)).toEqual(['real']);
    expect(byEnrich.code).toBe(0);
    expect(byPageViews.streamsRead).toEqual(['dev-page-views-failures']);
    expect(byPageViews.puts.map((put) => put.data)).toEqual(['p']);
    expect(byPageViews.output).toContain(
      'refused: page-views-failures shardId-000000000000 31: says pipeline "enrich"',
    );
  });

  it('sends a source record once even when two pipelines or two reasons rejected it', async () => {
    const records = [
      rejected('page-views', 'SCHEMA', '7', '{"page":1}'),
      rejected('sessions', 'SCHEMA', '7', '{"page":1}'),
      rejected('page-views', 'BAD_KEY', '7', '{"page":1}'),
    ];
    const { puts } = await run(records);
    expect(puts).toHaveLength(1);
  });

  it('filters by pipeline and reason, and leaves LATE records out unless asked for', async () => {
    // GIVEN
    const records = [
      rejected('enrich', 'SCHEMA', '1', 'a'),
      rejected('page-views', 'SCHEMA', '2', 'b'),
      rejected('page-views', 'LATE', '3', 'c'),
    ];

    // WHEN / THEN
    const byPipeline = await run(records, { pipeline: 'page-views' });
    expect(byPipeline.puts.map((put) => put.data)).toEqual(['b']);
    expect(byPipeline.output).toContain('left out 1 LATE record(s)');
    const late = await run(records, { reason: 'LATE' });
    expect(late.puts.map((put) => put.data)).toEqual(['c']);
    expect(late.output).not.toContain('left out');
  });

  it('sends nothing on --dry-run, but counts what it would send', async () => {
    const { puts, output, code } = await run([rejected('enrich', 'SCHEMA', '1', 'a')], {
      dryRun: true,
    });
    expect(code).toBe(0);
    expect(puts).toEqual([]);
    expect(output).toContain('would send 1 record(s) to numbers');
    expect(output).toContain('dry run: 1 record(s) would be sent');
  });

  it('reads a record whose failure record left its data out back from the stream by position', async () => {
    const { puts, reads } = await run(
      [rejected('enrich', 'TOO_LARGE', '42', undefined, 'big')],
      {},
      { '42': 'the whole megabyte' },
    );
    expect(reads).toEqual(['dev-numbers|42']);
    expect(puts).toEqual([
      { stream: 'dev-numbers', data: 'the whole megabyte', partitionKey: 'big' },
    ]);
  });

  it('fails (exit 1) and says which records it could not read back, sending the others', async () => {
    const { code, puts, output } = await run([
      rejected('enrich', 'TOO_LARGE', '42', undefined),
      rejected('enrich', 'SCHEMA', '43', 'ok'),
    ]);
    expect(code).toBe(1);
    expect(puts.map((put) => put.data)).toEqual(['ok']);
    expect(output).toContain(
      'not redriven: enrich shardId-000000000000 42: no longer in dev-numbers',
    );
  });

  it('fails on an unknown pipeline, naming the known ones', async () => {
    await expect(run([], { pipeline: 'nope' })).rejects.toThrow(
      "unknown pipeline 'nope'; the local deployment has: page-views, sessions, enrich",
    );
  });

  it('fails (exit 1) when no local runtime is running', async () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-redrive-'));
    let output = '';
    const code = await redrive({ projectDir, write: (text) => (output += text) });
    expect(code).toBe(1);
    expect(output).toContain('no local runtime is running here');
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it('fails (exit 1) on a local.json whose PID is alive but is not the runtime that wrote it', async () => {
    // GIVEN a stale local.json whose PID some live process (this one) has now
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-redrive-'));
    writeLocalState(
      {
        ...STATE,
        pid: process.pid,
        identity: { startTime: '1', bootId: 'a-boot-long-ago' },
        endpoints: {
          kinesis: 'http://127.0.0.1:1',
          kinesisTls: 'https://127.0.0.1:1',
          dynamodb: 'http://127.0.0.1:1',
          kinesisCaFile: '/nonexistent',
          region: 'us-east-1',
          accountId: '000000000000',
          credentials: { accessKeyId: 'SFLOCALTEST', secretAccessKey: 'secret' },
        },
      },
      projectDir,
    );
    let output = '';

    try {
      // WHEN
      const code = await redrive({ projectDir, write: (text) => (output += text) });

      // THEN
      expect(code).toBe(1);
      expect(output).toBe(
        `no local runtime is running here; start one with \`shardflow local up\` (ignored ${path.join(projectDir, '.shardflow', 'local.json')}: it is stale: another process has taken pid ${process.pid})\n`,
      );
    } finally {
      fs.rmSync(projectDir, { recursive: true, force: true });
    }
  });

  it('with --captured, also redrives the records of batches the mapping gave up on', async () => {
    // GIVEN an on-failure capture of the enrich function
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-redrive-'));
    const file = path.join(dir, 'failures.jsonl');
    const capture = {
      requestContext: { condition: 'RetryAttemptsExhausted' },
      KinesisBatchInfo: { shardId: 'shardId-000000000001' },
      shardflow: {
        functionName: 'dev-enrich',
        records: [
          {
            sequenceNumber: '5',
            partitionKey: 'd-1',
            data: Buffer.from('{"id":"x"}').toString('base64'),
          },
        ],
      },
    };
    fs.writeFileSync(file, `${JSON.stringify(capture)}\n`);

    // WHEN
    const without = await run([], { file });
    const withCaptured = await run([], { file, captured: true });

    // THEN
    expect(without.puts).toEqual([]);
    expect(withCaptured.puts).toEqual([
      { stream: 'dev-numbers', data: '{"id":"x"}', partitionKey: 'd-1' },
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
