import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localClients } from '#local/aws/index';
import { readStream } from '#local/io/readStream';
import { type LocalSession, startLocalSession } from '#local/session/startLocalSession';
import { KinesisSink } from '#sinks/index';

const PROJECT_ROOT = path.resolve(__dirname, '../..');
const EVENTS = 1000;
const KEYS = 10;

interface Doubled {
  id: string;
  device: string;
  seq: number;
  value: number;
  processedAt: string;
}

describe('enrich pipeline on the embedded AWS', () => {
  let session: LocalSession;
  let workDir: string;

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-e2e-'));
    session = await startLocalSession({
      app: PROJECT_ROOT,
      cdkOutDir: path.join(workDir, 'cdk.out'),
    });
  }, 180_000);

  afterAll(async () => {
    await session?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('doubles all 1,000 events exactly once, in order per partition key, and reports invalid ones without failing', async () => {
    // GIVEN
    const { kinesis } = localClients(session.state.endpoints);
    const input = session.state.names.numbers?.physicalName ?? '';
    const output = session.state.names['numbers-doubled']?.physicalName ?? '';
    const sink = new KinesisSink({ streamName: input, client: kinesis });
    const records = [];
    for (let i = 0; i < EVENTS; i += 1) {
      const device = `device-${i % KEYS}`;
      records.push({
        data: { id: `e-${i}`, device, seq: i, value: i + 0.5 },
        partitionKey: device,
      });
      if (i % 250 === 0) {
        // Poison records between good ones: neither may block or fail the shard.
        records.push({ data: 'not json', partitionKey: device });
        records.push({ data: { id: `bad-${i}`, device, value: 'seven' }, partitionKey: device });
      }
    }

    // WHEN
    await sink.send(records);
    const results: Doubled[] = [];
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), 90_000);
    await readStream({
      client: kinesis,
      streamName: output,
      fromStart: true,
      signal: controller.signal,
      idleTimeoutMs: 20_000,
      onRecord: (record) => {
        results.push(JSON.parse(Buffer.from(record.data).toString('utf8')) as Doubled);
        if (results.length >= EVENTS) {
          controller.abort();
        }
      },
    });
    clearTimeout(timeout);

    // THEN every event arrived exactly once with its value doubled
    const ids = results.map((result) => result.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(Array.from({ length: EVENTS }, (_, i) => `e-${i}`).sort());
    for (const result of results) {
      expect(result.value).toBe((result.seq + 0.5) * 2);
      expect(Number.isNaN(Date.parse(result.processedAt))).toBe(false);
    }
    // AND the order per partition key is the order they were sent in
    const byDevice = new Map<string, number[]>();
    for (const result of results) {
      byDevice.set(result.device, [...(byDevice.get(result.device) ?? []), result.seq]);
    }
    expect(byDevice.size).toBe(KEYS);
    for (const seqs of byDevice.values()) {
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });
});
