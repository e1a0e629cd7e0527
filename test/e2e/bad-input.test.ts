import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { FailureRecordBody } from '#handlers/types';
import { localClients } from '#local/aws/index';
import { readRejectedRecords, resolveRejectedData } from '#local/cli/failures';
import { redriveRecords } from '#local/cli/redrive';
import { keysCoveringShards } from '#local/generator/shardOf';
import { readStream } from '#local/io/readStream';
import { type LocalSession, startLocalSession } from '#local/session/startLocalSession';
import { MAX_BYTES_PER_RECORD } from '#sinks/index';

/**
 * Bad input end to end (issue #8): 10 % poison records among good ones, through the real handlers
 * on the embedded AWS. Every poison record must end in the pipeline's failure stream with its
 * reason and the record itself (read back from the source stream when too large to carry), every
 * good record must be processed, and no batch may fail (nothing retried, nothing given up on).
 * SHARDFLOW_FULL_SCALE=1 runs thousands of records instead of a few hundred.
 */
const PROJECT_ROOT = path.resolve(__dirname, '../..');
const FULL_SCALE = process.env.SHARDFLOW_FULL_SCALE === '1';
const GOOD = FULL_SCALE ? 5000 : 300;
/** 1 MiB poison records are costly to move around: a handful is enough to prove the point. */
const HUGE = FULL_SCALE ? 12 : 3;
const DEEP_LEVELS = 20_000;
const MINUTE = 60_000;

/** A record to put, what it should become, and where it landed. */
interface Sent {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  /** Expected failure reason; undefined for a good record. */
  readonly reason?: string;
  shardId?: string;
  sequenceNumber?: string;
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const json = (value: unknown): Uint8Array => utf8(JSON.stringify(value));

/** Puts records in order (≤ 500 and ≤ 4 MiB per call) and notes each one's shard and sequence number. */
async function put(client: KinesisClient, streamName: string, records: Sent[]): Promise<void> {
  let start = 0;
  while (start < records.length) {
    let end = start;
    let bytes = 0;
    while (end < records.length && end - start < 500) {
      const size = (records[end]?.data.length ?? 0) + 256;
      if (end > start && bytes + size > 4 * 1024 * 1024) break;
      bytes += size;
      end += 1;
    }
    const chunk = records.slice(start, end);
    const result = await client.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: chunk.map((record) => ({ Data: record.data, PartitionKey: record.partitionKey })),
      }),
    );
    if ((result.FailedRecordCount ?? 0) > 0) {
      throw new Error(`PutRecords failed ${result.FailedRecordCount} record(s) of ${streamName}`);
    }
    chunk.forEach((record, i) => {
      record.shardId = result.Records?.[i]?.ShardId;
      record.sequenceNumber = result.Records?.[i]?.SequenceNumber;
    });
    start = end;
  }
}

/** Poison records made so far: each call makes the next kind, so every kind occurs. */
let poisonCount = 0;

/** The poison records every pipeline must refuse, each with the reason it must be refused for. */
function poisonRecords(n: number, partitionKey: string, valid: object): Sent[] {
  poisonCount += 1;
  const kind = poisonCount % 6;
  switch (kind) {
    case 0:
      return [{ data: utf8(`not json ${n} {`), partitionKey, reason: 'NOT_JSON' }];
    case 1:
      return [{ data: json({ name: `wrong-schema-${n}` }), partitionKey, reason: 'SCHEMA' }];
    case 2:
      return [
        {
          data: json({ ...valid, id: n, value: 'seven', page: 42, userId: [] }),
          partitionKey,
          reason: 'SCHEMA',
        },
      ];
    case 3: {
      // Valid in every other way: only its nesting makes it poison.
      const deep = `${'['.repeat(DEEP_LEVELS)}${']'.repeat(DEEP_LEVELS)}`;
      const text = JSON.stringify({ ...valid, nested: 0 }).replace('0}', `${deep}}`);
      return [{ data: utf8(text), partitionKey, reason: 'TOO_DEEP' }];
    }
    case 4: {
      // {"...","note":"<0xC3 0x28>"}: a broken two-byte sequence, never to be replaced by U+FFFD.
      const head = JSON.stringify({ ...valid, note: '' }).slice(0, -2);
      const data = Buffer.concat([utf8(head), Buffer.from([0xc3, 0x28]), utf8('"}')]);
      return [{ data, partitionKey, reason: 'INVALID_UTF8' }];
    }
    default:
      return [{ data: utf8(`[${n}, "array, not an object"]`), partitionKey, reason: 'SCHEMA' }];
  }
}

/** A schema-valid record of exactly 1 MiB with its partition key: Kinesis's largest. */
function hugeRecord(valid: object, partitionKey: string): Sent {
  const head = JSON.stringify({ ...valid, pad: '' }).slice(0, -2);
  const padding = MAX_BYTES_PER_RECORD - Buffer.byteLength(partitionKey) - head.length - 2;
  return {
    data: utf8(`${head}${'x'.repeat(padding)}"}`),
    partitionKey,
    reason: 'TOO_LARGE',
  };
}

/** Polls the pipelines' failure streams until every expected record is there (or the deadline). */
async function waitForFailures(
  session: LocalSession,
  pipeline: string,
  expected: readonly Sent[],
  timeoutMs: number,
): Promise<Map<string, FailureRecordBody>> {
  const deadline = Date.now() + timeoutMs;
  let found = new Map<string, FailureRecordBody>();
  for (;;) {
    const rejected = await readRejectedRecords(session.state);
    found = new Map(
      rejected
        .filter((record) => record.pipeline === pipeline)
        .map((record) => [`${record.shardId}|${record.sequenceNumber}`, record]),
    );
    if (expected.every((record) => found.has(`${record.shardId}|${record.sequenceNumber}`))) {
      return found;
    }
    if (Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** Every on-failure capture and every failed invocation of the mappings reading `stream`. */
function stuckOrFailed(session: LocalSession, stream: string) {
  const mappings = session.runtime.stats().filter((mapping) => mapping.streamName === stream);
  return {
    errors: mappings.reduce((sum, mapping) => sum + mapping.errors, 0),
    discarded: mappings.flatMap((mapping) =>
      mapping.shards.map((shard) => shard.recordsDiscarded ?? 0),
    ),
    captured: session.runtime.failures().length,
    lastErrors: mappings.flatMap((mapping) =>
      mapping.shards.flatMap((shard) => (shard.lastError ? [shard.lastError] : [])),
    ),
  };
}

describe('bad input on the embedded AWS', () => {
  let session: LocalSession;
  let workDir: string;
  let kinesis: KinesisClient;
  const physical = (logical: string) => session.state.names[logical]?.physicalName ?? '';

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-bad-input-'));
    session = await startLocalSession({
      app: PROJECT_ROOT,
      cdkOutDir: path.join(workDir, 'cdk.out'),
      failuresFile: path.join(workDir, 'failures.jsonl'),
    });
    kinesis = localClients(session.state.endpoints).kinesis;
  }, 300_000);

  afterAll(async () => {
    await session?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it(`enrich: ${GOOD} good records all processed, every poison record (10 %) in failures with its reason and data`, async () => {
    // GIVEN good records with 10 % poison among them, on 10 partition keys, in one stream order
    const records: Sent[] = [];
    for (let i = 0; i < GOOD; i += 1) {
      const partitionKey = `device-${i % 10}`;
      records.push({ data: json({ id: `g-${i}`, value: i }), partitionKey });
      if (i % 10 === 5) {
        records.push(...poisonRecords(i, partitionKey, { id: `p-${i}`, value: i }));
      }
    }
    for (let i = 0; i < HUGE; i += 1) {
      records.splice(Math.floor(((i + 0.5) * records.length) / HUGE), 0, {
        ...hugeRecord({ id: `huge-${i}`, value: i }, `device-${i}`),
      });
    }
    const poison = records.filter((record) => record.reason !== undefined);
    expect(poison.length).toBeGreaterThanOrEqual(GOOD / 10);
    expect(new Set(poison.map((record) => record.reason))).toEqual(
      new Set(['NOT_JSON', 'SCHEMA', 'TOO_DEEP', 'INVALID_UTF8', 'TOO_LARGE']),
    );

    // WHEN
    await put(kinesis, physical('numbers'), records);
    const outputs = new Set<string>();
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), 180_000);
    await readStream({
      client: kinesis,
      streamName: physical('numbers-doubled'),
      fromStart: true,
      signal: controller.signal,
      idleTimeoutMs: 30_000,
      onRecord: (record) => {
        outputs.add((JSON.parse(Buffer.from(record.data).toString('utf8')) as { id: string }).id);
        if (outputs.size >= GOOD) controller.abort();
      },
    });
    clearTimeout(timeout);
    const failures = await waitForFailures(session, 'enrich', poison, 120_000);

    // THEN every good record was processed, and no poison record reached the output
    expect([...outputs].sort()).toEqual(Array.from({ length: GOOD }, (_, i) => `g-${i}`).sort());
    // AND every poison record is in the failure stream with its reason, position and partition key
    const reasons = poison.map((record) => {
      const failure = failures.get(`${record.shardId}|${record.sequenceNumber}`);
      return [record.sequenceNumber, failure?.reason, failure?.partitionKey];
    });
    expect(reasons).toEqual(
      poison.map((record) => [record.sequenceNumber, record.reason, record.partitionKey]),
    );
    // AND with the record itself: inline, or read back from the stream for the 1 MiB ones
    const resolved = await resolveRejectedData(session.state, [...failures.values()]);
    const dataOf = new Map(resolved.map((r) => [`${r.shardId}|${r.sequenceNumber}`, r]));
    for (const record of poison) {
      const failure = dataOf.get(`${record.shardId}|${record.sequenceNumber}`);
      expect(failure?.dataTruncated === true).toBe(record.reason === 'TOO_LARGE');
      expect(failure?.dataBytes).toBe(record.data.length);
      expect(Buffer.from(failure?.data ?? '', 'base64').equals(Buffer.from(record.data))).toBe(
        true,
      );
    }
    // AND no batch failed: nothing retried, nothing given up on, no shard stuck
    const health = stuckOrFailed(session, physical('numbers'));
    expect(health).toMatchObject({ errors: 0, captured: 0, lastErrors: [] });
    expect(health.discarded.every((count) => count === 0)).toBe(true);
  }, 600_000);

  it('page-views: far-past and far-future event times are refused and never move the watermark', async () => {
    // GIVEN page views 10 to 5 minutes ago, with poison among them: bad input of every kind, event
    // times decades away, and 1 MiB records
    const now = Date.now();
    const base = Math.floor((now - 10 * MINUTE) / MINUTE) * MINUTE;
    const views = Math.max(100, Math.floor(GOOD / 2));
    const records: Sent[] = [];
    // Event times decades away go in after the good views' windows closed: a record far in the past
    // is EXPIRED against the pipeline's committed watermark (further behind it than the state
    // retention; before anything was committed, there is no watermark and it would open its own
    // window, as in any event-time engine).
    const timed: Sent[] = [];
    const expectedViews = new Map<string, number>();
    for (let i = 0; i < views; i += 1) {
      const ts = base + Math.floor((i * 4 * MINUTE) / views);
      const page = `/p${i % 5}`;
      const userId = `u-${i % 37}`;
      records.push({ data: json({ type: 'page_view', page, userId, ts }), partitionKey: userId });
      const window = `${page}|${new Date(Math.floor(ts / MINUTE) * MINUTE).toISOString()}`;
      expectedViews.set(window, (expectedViews.get(window) ?? 0) + 1);
      if (i % 10 === 3) {
        const valid = { type: 'page_view', page, userId, ts };
        const timePoison: Sent[] = [
          {
            data: json({ ...valid, ts: '1999-01-01T00:00:00Z' }),
            partitionKey: userId,
            reason: 'EXPIRED',
          },
          {
            data: json({ ...valid, ts: '2999-01-01T00:00:00Z' }),
            partitionKey: userId,
            reason: 'FUTURE_EVENT_TIME',
          },
          {
            data: json({ ...valid, ts: now + 365 * 24 * 60 * MINUTE }),
            partitionKey: userId,
            reason: 'FUTURE_EVENT_TIME',
          },
        ];
        records.push(...poisonRecords(i, userId, valid));
        timed.push(timePoison[i % 3] as Sent);
      }
    }
    records.splice(Math.floor(records.length / 2), 0, {
      ...hugeRecord({ type: 'page_view', page: '/p0', userId: 'u-huge', ts: base }, 'u-huge'),
    });
    // One record per shard after the views moves both shards' event clocks past every window above.
    const flush = (ts: number): Sent[] =>
      keysCoveringShards('flush', 2).map((userId) => ({
        data: json({ type: 'page_view', page: '/flush', userId, ts }),
        partitionKey: userId,
      }));
    records.push(...flush(base + 6 * MINUTE));

    // WHEN
    await put(kinesis, physical('clicks'), records);
    const results = new Map<string, number>();
    /** Final views by `page|windowStart`, without the flush key. */
    const readResult = (data: Uint8Array): void => {
      const result = JSON.parse(Buffer.from(data).toString('utf8')) as {
        key: string;
        window: { start: string };
        values: { views: number };
        final: boolean;
      };
      if (!result.final || result.key === '/flush') return;
      results.set(`${result.key}|${result.window.start}`, result.values.views);
    };
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), 240_000);
    await readStream({
      client: kinesis,
      streamName: physical('page-view-counts'),
      fromStart: true,
      signal: controller.signal,
      idleTimeoutMs: 90_000,
      onRecord: (record) => {
        readResult(record.data);
        if (results.size >= expectedViews.size) controller.abort();
      },
    });
    clearTimeout(timeout);
    // AND the far-past and far-future records, then a flush to now
    await put(kinesis, physical('clicks'), [...timed, ...flush(now)]);
    const poison = [...records, ...timed].filter((record) => record.reason !== undefined);
    const failures = await waitForFailures(session, 'page-views', poison, 120_000);
    await readStream({
      client: kinesis,
      streamName: physical('page-view-counts'),
      fromStart: true,
      idleTimeoutMs: 10_000,
      onRecord: (record) => {
        readResult(record.data);
      },
    });

    // THEN no batch failed, and no good page view was refused (a far-future one never pushed the
    // watermark ahead): checked first, so a count that differs below says why
    const health = stuckOrFailed(session, physical('clicks'));
    expect({ errors: health.errors, lastErrors: health.lastErrors }).toEqual({
      errors: 0,
      lastErrors: [],
    });
    expect(health.captured).toBe(0);
    const poisonIds = new Set(poison.map((record) => `${record.shardId}|${record.sequenceNumber}`));
    const refusedGood = [...failures.values()]
      .filter((failure) => !poisonIds.has(`${failure.shardId}|${failure.sequenceNumber}`))
      .map((failure) => `${failure.reason}: ${failure.detail}`);
    expect(refusedGood).toEqual([]);
    // AND the final counts are exactly those of the good page views: no poison counted, no window
    // from 1999 or 2999
    expect(Object.fromEntries(results)).toEqual(Object.fromEntries(expectedViews));
    // AND every poison record is in the failure stream with its reason
    expect(
      poison.map((record) => [
        record.sequenceNumber,
        failures.get(`${record.shardId}|${record.sequenceNumber}`)?.reason,
      ]),
    ).toEqual(poison.map((record) => [record.sequenceNumber, record.reason]));
  }, 600_000);

  it('redrive sends rejected records back to the input stream with their data and partition key', async () => {
    // GIVEN the enrich failures of the first test
    const before = (await readRejectedRecords(session.state)).filter(
      (record) => record.pipeline === 'enrich' && record.reason === 'NOT_JSON',
    );
    expect(before.length).toBeGreaterThan(0);

    // WHEN
    const report = await redriveRecords(session.state, { pipeline: 'enrich', reason: 'NOT_JSON' });

    // THEN exactly those records are in `numbers` again, with the same bytes and partition keys
    expect(report).toMatchObject({ total: before.length, sent: { numbers: before.length } });
    const again: Array<{ data: string; partitionKey: string }> = [];
    await readStream({
      client: kinesis,
      streamName: physical('numbers'),
      fromStart: true,
      idleTimeoutMs: 3000,
      onRecord: (record) => {
        const text = Buffer.from(record.data).toString('utf8');
        if (text.startsWith('not json')) {
          again.push({ data: text, partitionKey: record.partitionKey });
        }
      },
    });
    const original = before.map((record) => ({
      data: Buffer.from(record.data, 'base64').toString('utf8'),
      partitionKey: record.partitionKey,
    }));
    const key = (r: { data: string; partitionKey: string }) => `${r.partitionKey}|${r.data}`;
    expect(again.map(key).sort()).toEqual([...original, ...original].map(key).sort());
    // AND the pipeline processed them again: each is rejected a second time, under a new sequence number
    const deadline = Date.now() + 60_000;
    let after = before;
    while (after.length < 2 * before.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      after = (await readRejectedRecords(session.state)).filter(
        (record) => record.pipeline === 'enrich' && record.reason === 'NOT_JSON',
      );
    }
    expect(after).toHaveLength(2 * before.length);
  }, 300_000);
});
