import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localClients } from '#local/aws/index';
import { readRejectedRecords } from '#local/cli/failures';
import { readStream } from '#local/io/readStream';
import { type LocalSession, startLocalSession } from '#local/session/startLocalSession';
import { KinesisSink } from '#sinks/index';

const PROJECT_ROOT = path.resolve(__dirname, '../..');
const VALID = 300;
const KEYS = 10;
const CHAOS = { rate: 0.2, seed: 20261127 };

describe('enrich pipeline under --chaos 0.2 (issue 4 property)', () => {
  let session: LocalSession;
  let workDir: string;

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-chaos-'));
    session = await startLocalSession({
      app: PROJECT_ROOT,
      cdkOutDir: path.join(workDir, 'cdk.out'),
      chaos: CHAOS,
    });
  }, 180_000);

  afterAll(async () => {
    await session?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('delivers every valid record at least once, in order per partition key, and every poison record to the failures', async () => {
    // GIVEN valid events over 10 partition keys with poison records among them
    const { kinesis } = localClients(session.state.endpoints);
    const input = session.state.names.numbers?.physicalName ?? '';
    const output = session.state.names['numbers-doubled']?.physicalName ?? '';
    const records: { data: string; partitionKey: string }[] = [];
    const poison: string[] = [];
    for (let i = 0; i < VALID; i += 1) {
      const key = `k${i % KEYS}`;
      records.push({
        data: JSON.stringify({ id: `v${i}`, key, seq: i, value: i }),
        partitionKey: key,
      });
      if (i % 15 === 0) {
        const bad = i % 30 === 0 ? `not json ${i}` : JSON.stringify({ id: `p${i}`, value: `${i}` });
        poison.push(Buffer.from(bad).toString('base64'));
        records.push({ data: bad, partitionKey: key });
      }
    }

    // WHEN they go through the pipeline while invocations, DynamoDB and PutRecords fail at random
    await new KinesisSink({ streamName: input, client: kinesis }).send(records);
    const firstSeen: { key: string; seq: number }[] = [];
    const seen = new Set<string>();
    let deliveries = 0;
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), 150_000);
    await readStream({
      client: kinesis,
      streamName: output,
      fromStart: true,
      signal: controller.signal,
      onRecord: (record) => {
        const event = JSON.parse(Buffer.from(record.data).toString('utf8')) as {
          id: string;
          key: string;
          seq: number;
          value: number;
        };
        deliveries += 1;
        expect(event.value).toBe(event.seq * 2);
        if (!seen.has(event.id)) {
          seen.add(event.id);
          firstSeen.push({ key: event.key, seq: event.seq });
        }
        if (seen.size === VALID) {
          controller.abort();
        }
      },
    });
    clearTimeout(timeout);

    // THEN every valid record arrived at least once
    expect(seen.size).toBe(VALID);
    expect(deliveries).toBeGreaterThanOrEqual(VALID);
    // AND in the order sent, per partition key
    for (let k = 0; k < KEYS; k += 1) {
      const seqs = firstSeen.filter((event) => event.key === `k${k}`).map((event) => event.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    // AND chaos really happened
    const chaos = session.runtime.chaosStats();
    expect(chaos.functionErrorsBeforeHandler + chaos.functionErrorsAfterHandler).toBeGreaterThan(0);
    expect(chaos.putRecordsEntriesFailed).toBeGreaterThan(0);
    // AND every poison record is in `shardflow failures`, with its reason
    const rejected = await readRejectedRecords(session.state);
    expect(rejected.map((record) => record.data).sort()).toEqual([...poison].sort());
    expect(new Set(rejected.map((record) => record.reason))).toEqual(
      new Set(['NOT_JSON', 'SCHEMA']),
    );
  }, 240_000);
});
