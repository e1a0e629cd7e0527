import {
  KinesisClient,
  ProvisionedThroughputExceededException,
  PutRecordsCommand,
  type PutRecordsCommandInput,
  type PutRecordsResultEntry,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import fc from 'fast-check';
import {
  InvalidRecordError,
  KinesisSink,
  MAX_BYTES_PER_RECORD,
  MAX_BYTES_PER_REQUEST,
  PutRecordsFailedError,
  RecordTooLargeError,
  SinkConfigurationError,
  SinkError,
  type SinkRecord,
} from '#sinks/index';

const STREAM = 'page-view-counts';

/** An entry as the fake stream saw it. */
interface SeenEntry {
  readonly partitionKey: string;
  readonly data: string;
  readonly bytes: number;
}

/**
 * Decides the fate of one PutRecords call: per entry, `undefined` writes it and a string fails
 * it with that error code; throwing fails the whole call.
 */
type Script = (entries: readonly SeenEntry[], call: number) => ReadonlyArray<string | undefined>;

const allSucceed: Script = (entries) => entries.map(() => undefined);

/** A stubbed KinesisClient whose `send` implements PutRecords with scripted failures. */
class FakeKinesis {
  public readonly calls: PutRecordsCommandInput[] = [];
  public readonly batches: SeenEntry[][] = [];
  /** What reached the stream, in write order. */
  public readonly written: SeenEntry[] = [];

  public constructor(private readonly script: Script = allSucceed) {}

  public async send(
    command: unknown,
  ): Promise<{ FailedRecordCount: number; Records: PutRecordsResultEntry[] }> {
    if (!(command instanceof PutRecordsCommand)) throw new Error('unexpected command');
    const input = command.input;
    this.calls.push(input);
    const entries = (input.Records ?? []).map((entry) => {
      const data = Buffer.from(entry.Data ?? new Uint8Array()).toString('utf8');
      const partitionKey = entry.PartitionKey ?? '';
      return {
        partitionKey,
        data,
        bytes: (entry.Data?.byteLength ?? 0) + Buffer.byteLength(partitionKey),
      };
    });
    this.batches.push(entries);
    const outcomes = this.script(entries, this.calls.length);
    const records = entries.map((entry, i): PutRecordsResultEntry => {
      const code = outcomes[i];
      if (code !== undefined)
        return { ErrorCode: code, ErrorMessage: `${code} for ${entry.partitionKey}` };
      this.written.push(entry);
      return { SequenceNumber: String(this.written.length), ShardId: 'shardId-000000000000' };
    });
    return { FailedRecordCount: records.filter((r) => r.ErrorCode).length, Records: records };
  }

  public asClient(): KinesisClient {
    return this as unknown as KinesisClient;
  }
}

/** A sink on the fake, recording the sleeps it asks for instead of sleeping. */
const sinkOn = (
  fake: FakeKinesis,
  options: { maxAttempts?: number; ordered?: boolean; random?: () => number } = {},
): { sink: KinesisSink; sleeps: number[] } => {
  const sleeps: number[] = [];
  const sink = new KinesisSink({
    streamName: STREAM,
    client: fake.asClient(),
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
  return { sink, sleeps };
};

const records = (count: number, key: (i: number) => string = (i) => `k${i}`): SinkRecord[] =>
  Array.from({ length: count }, (_, i) => ({ data: `r${i}`, partitionKey: key(i) }));

const byKey = (
  entries: readonly { partitionKey: string; data: string }[],
): Map<string, string[]> => {
  const grouped = new Map<string, string[]>();
  for (const { partitionKey, data } of entries) {
    grouped.set(partitionKey, [...(grouped.get(partitionKey) ?? []), data]);
  }
  return grouped;
};

describe('KinesisSink', () => {
  describe('chunking', () => {
    it('splits records into PutRecords calls of at most 500 records', async () => {
      // GIVEN
      const fake = new FakeKinesis();
      const { sink } = sinkOn(fake);

      // WHEN
      const stats = await sink.send(records(1234));

      // THEN
      expect(fake.batches.map((batch) => batch.length)).toEqual([500, 500, 234]);
      expect(fake.written.map((entry) => entry.data)).toEqual(records(1234).map((r) => r.data));
      expect(stats).toEqual({
        records: 1234,
        requests: 3,
        retries: 0,
        bytes: fake.written.reduce((sum, entry) => sum + entry.bytes, 0),
      });
    });

    it('splits records into PutRecords calls of at most 5 MiB, partition keys included', async () => {
      // GIVEN twelve records of exactly 1 MiB each (9-byte keys): five fill 5 MiB, six do not fit
      const fake = new FakeKinesis();
      const { sink } = sinkOn(fake);
      const big = 'x'.repeat(MAX_BYTES_PER_RECORD - 9);
      const input = Array.from({ length: 12 }, (_, i) => ({
        data: big,
        partitionKey: `key-${String(i).padStart(5, '0')}`,
      }));

      // WHEN
      const stats = await sink.send(input);

      // THEN
      expect(fake.batches.map((batch) => batch.length)).toEqual([5, 5, 2]);
      for (const batch of fake.batches) {
        expect(batch.reduce((sum, entry) => sum + entry.bytes, 0)).toBeLessThanOrEqual(
          MAX_BYTES_PER_REQUEST,
        );
      }
      expect(stats.bytes).toBe(12 * MAX_BYTES_PER_RECORD);
    });

    it('counts partition key bytes towards the 5 MiB of a call', async () => {
      // GIVEN ten records whose data alone fits 5 MiB, but not with their 2-byte keys
      const fake = new FakeKinesis();
      const { sink } = sinkOn(fake);
      const data = 'x'.repeat(MAX_BYTES_PER_REQUEST / 10 - 1);

      // WHEN
      await sink.send(records(10).map((record) => ({ ...record, data })));

      // THEN
      expect(fake.batches.map((batch) => batch.length)).toEqual([9, 1]);
    });

    it('accepts a record of exactly 1 MiB, data plus partition key', async () => {
      // GIVEN
      const fake = new FakeKinesis();
      const { sink } = sinkOn(fake);

      // WHEN
      const stats = await sink.send([
        { data: 'x'.repeat(MAX_BYTES_PER_RECORD - 2), partitionKey: 'pk' },
      ]);

      // THEN
      expect(stats).toEqual({ records: 1, requests: 1, retries: 0, bytes: MAX_BYTES_PER_RECORD });
    });

    it('makes no call for no records', async () => {
      // GIVEN
      const fake = new FakeKinesis();
      const { sink } = sinkOn(fake);

      // WHEN
      const stats = await sink.send([]);

      // THEN
      expect(fake.calls).toHaveLength(0);
      expect(stats).toEqual({ records: 0, requests: 0, retries: 0, bytes: 0 });
    });
  });

  describe('entries', () => {
    it('sends bytes as they are, strings as UTF-8 and objects as JSON, with the explicit hash key', async () => {
      // GIVEN
      const fake = new FakeKinesis();
      const sink = new KinesisSink({
        streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/out',
        client: fake.asClient(),
      });

      // WHEN
      await sink.send([
        { data: new Uint8Array([104, 105]), partitionKey: 'a' },
        {
          data: 'héllo',
          partitionKey: 'b',
          explicitHashKey: '340282366920938463463374607431768211455',
        },
        { data: { id: 'x1', values: { views: 42 } }, partitionKey: 'c' },
      ]);

      // THEN
      const call = fake.calls[0];
      expect(call?.StreamARN).toBe('arn:aws:kinesis:eu-west-1:123456789012:stream/out');
      expect(call?.StreamName).toBeUndefined();
      expect(fake.written.map((entry) => entry.data)).toEqual([
        'hi',
        'héllo',
        '{"id":"x1","values":{"views":42}}',
      ]);
      expect(call?.Records?.[1]?.ExplicitHashKey).toBe('340282366920938463463374607431768211455');
      expect(call?.Records?.[0]).not.toHaveProperty('ExplicitHashKey');
    });

    it('uses one module-wide default client for every sink without a client', async () => {
      // GIVEN
      const clients: unknown[] = [];
      const send = jest.spyOn(KinesisClient.prototype, 'send').mockImplementation(async function (
        this: KinesisClient,
      ) {
        clients.push(this);
        return { FailedRecordCount: 0, Records: [{ SequenceNumber: '1', ShardId: 's' }] };
      });

      try {
        // WHEN
        await new KinesisSink({ streamName: 'a' }).send(records(1));
        await new KinesisSink({ streamName: 'b' }).send(records(1));

        // THEN
        expect(clients).toHaveLength(2);
        expect(clients[0]).toBeInstanceOf(KinesisClient);
        expect(clients[1]).toBe(clients[0]);
      } finally {
        send.mockRestore();
      }
    });
  });

  describe('retries', () => {
    it('retries only the failed entries of a call, keeping their order', async () => {
      // GIVEN entries 1 and 3 of the first call are throttled
      const fake = new FakeKinesis((entries, call) =>
        entries.map((_, i) =>
          call === 1 && (i === 1 || i === 3) ? 'ProvisionedThroughputExceededException' : undefined,
        ),
      );
      const { sink, sleeps } = sinkOn(fake);

      // WHEN
      const stats = await sink.send(records(5));

      // THEN
      expect(fake.batches[1]?.map((entry) => entry.data)).toEqual(['r1', 'r3']);
      expect(fake.written.map((entry) => entry.data).sort()).toEqual([
        'r0',
        'r1',
        'r2',
        'r3',
        'r4',
      ]);
      expect(stats).toEqual(expect.objectContaining({ records: 5, requests: 2, retries: 1 }));
      expect(sleeps).toHaveLength(1);
    });

    it('writes the failed entries of a chunk before sending the next chunk', async () => {
      // GIVEN 600 records: two chunks; the first call fails its last entry, then InternalFailure
      const fake = new FakeKinesis((entries, call) =>
        entries.map((_, i) => {
          if (call === 1 && i === 499) return 'InternalFailure';
          if (call === 2) return 'KMSThrottlingException';
          return undefined;
        }),
      );
      const { sink } = sinkOn(fake);

      // WHEN
      const stats = await sink.send(records(600));

      // THEN
      expect(fake.batches.map((batch) => batch.length)).toEqual([500, 1, 1, 100]);
      expect(fake.batches[2]?.[0]?.data).toBe('r499');
      expect(fake.written.map((entry) => entry.data)).toEqual(records(600).map((r) => r.data));
      expect(stats).toEqual(expect.objectContaining({ records: 600, requests: 4, retries: 2 }));
    });

    it('treats a response without a result for an entry as a failure of that entry', async () => {
      // GIVEN the first response lists only the first of two entries
      let call = 0;
      const send = jest.fn(async (command: PutRecordsCommand) => {
        call++;
        const count = command.input.Records?.length ?? 0;
        const results = Array.from({ length: call === 1 ? 1 : count }, () => ({
          SequenceNumber: '1',
        }));
        return { FailedRecordCount: 0, Records: results };
      });
      const sink = new KinesisSink({
        streamName: STREAM,
        client: { send } as unknown as KinesisClient,
        sleep: async () => {},
      });

      // WHEN
      const stats = await sink.send(records(2));

      // THEN
      expect(send.mock.calls[1]?.[0].input.Records?.map((r) => r.PartitionKey)).toEqual(['k1']);
      expect(stats).toEqual(expect.objectContaining({ records: 2, requests: 2, retries: 1 }));
    });

    it('retries a whole call that is throttled or fails on the server side', async () => {
      // GIVEN
      const fake = new FakeKinesis((entries, call) => {
        if (call === 1) {
          throw new ProvisionedThroughputExceededException({
            message: 'Rate exceeded',
            $metadata: {},
          });
        }
        if (call === 2) {
          throw Object.assign(new Error('Service Unavailable'), {
            name: 'Unknown',
            $metadata: { httpStatusCode: 503 },
          });
        }
        return allSucceed(entries, call);
      });
      const { sink, sleeps } = sinkOn(fake);

      // WHEN
      const stats = await sink.send(records(3));

      // THEN
      expect(fake.batches.map((batch) => batch.length)).toEqual([3, 3, 3]);
      expect(fake.written).toHaveLength(3);
      expect(stats).toEqual(expect.objectContaining({ records: 3, requests: 3, retries: 2 }));
      expect(sleeps).toHaveLength(2);
    });

    it('bounds the backoff: full jitter under a ceiling that doubles up to maxDelayMs', async () => {
      // GIVEN a call that always fails and the largest random number
      const fake = new FakeKinesis((entries) => entries.map(() => 'InternalFailure'));
      const { sink, sleeps } = sinkOn(fake, { maxAttempts: 8, random: () => 0.999999 });

      // WHEN
      await expect(sink.send(records(1))).rejects.toThrow(PutRecordsFailedError);

      // THEN
      expect(sleeps).toEqual([49, 99, 199, 399, 799, 1599, 1999]);
    });

    it('draws each backoff from the jitter source', async () => {
      // GIVEN
      const draws = [0, 0.5, 0.25];
      const fake = new FakeKinesis((entries, call) =>
        entries.map(() => (call <= 3 ? 'InternalFailure' : undefined)),
      );
      const { sink, sleeps } = sinkOn(fake, { random: () => draws.shift() ?? 0 });

      // WHEN
      await sink.send(records(1));

      // THEN ceilings 50, 100, 200
      expect(sleeps).toEqual([0, 50, 50]);
    });
  });

  describe('failures', () => {
    it('fails with PutRecordsFailedError after maxAttempts, saying what is not written', async () => {
      // GIVEN 600 records; the second chunk keeps failing two entries
      const fake = new FakeKinesis((entries, call) =>
        entries.map((entry) =>
          call >= 2 && (entry.partitionKey === 'k510' || entry.partitionKey === 'k520')
            ? 'ProvisionedThroughputExceededException'
            : undefined,
        ),
      );
      const { sink } = sinkOn(fake, { maxAttempts: 3 });

      // WHEN
      const error = await sink.send(records(600)).catch((e: unknown) => e);

      // THEN
      expect(error).toBeInstanceOf(PutRecordsFailedError);
      expect(error).toBeInstanceOf(SinkError);
      const failed = error as PutRecordsFailedError;
      expect(failed.name).toBe('PutRecordsFailedError');
      expect(failed.message).toBe(
        'PutRecords to stream "page-view-counts" failed: 2 of 100 records of the chunk still failing after 3 attempts ' +
          '(first: ProvisionedThroughputExceededException "ProvisionedThroughputExceededException for k510" for partition key "k510"); ' +
          '598 of 600 records written, 2 not written',
      );
      expect(failed).toMatchObject({
        stream: STREAM,
        failedCount: 2,
        firstErrorCode: 'ProvisionedThroughputExceededException',
        firstFailedPartitionKey: 'k510',
        attempts: 3,
        writtenCount: 598,
      });
      expect(fake.batches.map((batch) => batch.length)).toEqual([500, 100, 2, 2]);
    });

    it('fails after maxAttempts of whole-call throttling, with the last error as the cause', async () => {
      // GIVEN
      const throttled = new ProvisionedThroughputExceededException({
        message: 'Rate exceeded',
        $metadata: {},
      });
      const fake = new FakeKinesis(() => {
        throw throttled;
      });
      const { sink } = sinkOn(fake, { maxAttempts: 2 });

      // WHEN
      const error = await sink.send(records(3)).catch((e: unknown) => e);

      // THEN
      expect(error).toBeInstanceOf(PutRecordsFailedError);
      expect(error).toMatchObject({
        failedCount: 3,
        firstErrorCode: 'ProvisionedThroughputExceededException',
        attempts: 2,
        cause: throttled,
      });
      expect(fake.calls).toHaveLength(2);
    });

    it('fails at once on an entry error that retrying cannot fix', async () => {
      // GIVEN
      const fake = new FakeKinesis((entries) =>
        entries.map((_, i) =>
          i === 0 ? 'InternalFailure' : i === 1 ? 'KMSAccessDeniedException' : undefined,
        ),
      );
      const { sink, sleeps } = sinkOn(fake);

      // WHEN
      const error = await sink.send(records(3)).catch((e: unknown) => e);

      // THEN
      expect(error).toBeInstanceOf(PutRecordsFailedError);
      expect(error).toMatchObject({
        firstErrorCode: 'KMSAccessDeniedException',
        attempts: 1,
        failedCount: 2,
      });
      expect((error as Error).message).toContain('retrying cannot fix');
      expect(fake.calls).toHaveLength(1);
      expect(sleeps).toHaveLength(0);
    });

    it('fails with the SDK error untouched when a whole call fails for good', async () => {
      // GIVEN
      const notFound = new ResourceNotFoundException({
        message: 'Stream page-view-counts not found',
        $metadata: {},
      });
      const fake = new FakeKinesis(() => {
        throw notFound;
      });
      const { sink } = sinkOn(fake);

      // WHEN
      const error = await sink.send(records(3)).catch((e: unknown) => e);

      // THEN
      expect(error).toBe(notFound);
      expect(fake.calls).toHaveLength(1);
    });

    it('fails with RecordTooLargeError naming the stream and partition key, before sending anything', async () => {
      // GIVEN a small record first, then one a byte above 1 MiB with its partition key
      const fake = new FakeKinesis();
      const { sink } = sinkOn(fake);
      const input = [
        { data: 'small', partitionKey: 'ok' },
        { data: 'x'.repeat(MAX_BYTES_PER_RECORD - 4), partitionKey: '/home' },
      ];

      // WHEN
      const error = await sink.send(input).catch((e: unknown) => e);

      // THEN
      expect(error).toBeInstanceOf(RecordTooLargeError);
      expect(error).toMatchObject({
        name: 'RecordTooLargeError',
        stream: STREAM,
        partitionKey: '/home',
        index: 1,
        sizeBytes: MAX_BYTES_PER_RECORD + 1,
        limitBytes: MAX_BYTES_PER_RECORD,
        failedCount: 2,
      });
      expect((error as Error).message).toBe(
        `record 1 (partition key "/home") for stream "page-view-counts" is ${MAX_BYTES_PER_RECORD + 1} bytes, ` +
          `above the ${MAX_BYTES_PER_RECORD} bytes Kinesis accepts per record (data plus partition key); nothing was sent`,
      );
      expect(fake.calls).toHaveLength(0);
    });

    it.each([
      ['an empty partition key', { data: 'x', partitionKey: '' }],
      ['a partition key over 256 characters', { data: 'x', partitionKey: 'é'.repeat(257) }],
      [
        'a non-decimal explicit hash key',
        { data: 'x', partitionKey: 'k', explicitHashKey: '0x10' },
      ],
      [
        'an explicit hash key above 2^128-1',
        {
          data: 'x',
          partitionKey: 'k',
          explicitHashKey: '340282366920938463463374607431768211456',
        },
      ],
      ['data with no JSON text', { data: { toJSON: () => undefined }, partitionKey: 'k' }],
    ])('fails with InvalidRecordError on %s, before sending anything', async (_, record) => {
      // GIVEN
      const fake = new FakeKinesis();
      const { sink } = sinkOn(fake);

      // WHEN
      const error = await sink
        .send([{ data: 'fine', partitionKey: 'a' }, record])
        .catch((e: unknown) => e);

      // THEN
      expect(error).toBeInstanceOf(InvalidRecordError);
      expect(error).toMatchObject({ stream: STREAM, index: 1, partitionKey: record.partitionKey });
      expect(fake.calls).toHaveLength(0);
    });

    it('accepts a partition key of 256 characters', async () => {
      // GIVEN
      const fake = new FakeKinesis();
      const { sink } = sinkOn(fake);

      // WHEN
      const stats = await sink.send([{ data: 'x', partitionKey: '😀'.repeat(256) }]);

      // THEN
      expect(stats.records).toBe(1);
    });

    it.each([
      [{ streamName: '' }, /exactly one non-empty streamName or streamArn/],
      [{ streamName: 'a', streamArn: 'b' }, /exactly one non-empty streamName or streamArn/],
      [{ streamName: 'a', maxAttempts: 0 }, 'maxAttempts must be an integer >= 1, got 0'],
      [{ streamName: 'a', maxAttempts: 1.5 }, 'maxAttempts must be an integer >= 1, got 1.5'],
      [{ streamName: 'a', baseDelayMs: -1 }, 'baseDelayMs must be >= 0, got -1'],
      [
        { streamName: 'a', baseDelayMs: 100, maxDelayMs: 50 },
        'maxDelayMs must be >= baseDelayMs (100), got 50',
      ],
    ])('fails with SinkConfigurationError on %p', (options, message) => {
      // GIVEN / WHEN
      const create = (): KinesisSink =>
        new KinesisSink({
          client: new FakeKinesis().asClient(),
          ...options,
        } as ConstructorParameters<typeof KinesisSink>[0]);

      // THEN
      expect(create).toThrow(SinkConfigurationError);
      expect(create).toThrow(message);
    });
  });

  describe('order per partition key', () => {
    it('sends at most one record per partition key per call by default', async () => {
      // GIVEN
      const fake = new FakeKinesis();
      const { sink } = sinkOn(fake);
      const input = ['a1', 'a2', 'b1', 'a3', 'b2', 'c1'].map((data) => ({
        data,
        partitionKey: data[0] ?? '',
      }));

      // WHEN
      const stats = await sink.send(input);

      // THEN
      expect(fake.batches.map((batch) => batch.map((entry) => entry.data))).toEqual([
        ['a1', 'b1', 'c1'],
        ['a2', 'b2'],
        ['a3'],
      ]);
      expect(stats.requests).toBe(3);
    });

    it('keeps the order of a key when an earlier record of it fails and is retried', async () => {
      // GIVEN a1 is throttled in the first call
      const fake = new FakeKinesis((entries, call) =>
        entries.map((entry) =>
          call === 1 && entry.data === 'a1' ? 'ProvisionedThroughputExceededException' : undefined,
        ),
      );
      const { sink } = sinkOn(fake);
      const input = ['a1', 'a2', 'b1', 'b2'].map((data) => ({ data, partitionKey: data[0] ?? '' }));

      // WHEN
      await sink.send(input);

      // THEN
      expect(fake.written.map((entry) => entry.data)).toEqual(['b1', 'a1', 'a2', 'b2']);
    });

    it('packs calls to the quota in input order with ordered: false', async () => {
      // GIVEN
      const fake = new FakeKinesis();
      const { sink } = sinkOn(fake, { ordered: false });

      // WHEN
      await sink.send(records(1200, (i) => `k${i % 10}`));

      // THEN
      expect(fake.batches.map((batch) => batch.length)).toEqual([500, 500, 200]);
    });

    it('keeps every key in order and writes every record under any pattern of retryable failures', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { maxLength: 60 }),
          fc.infiniteStream(fc.boolean()),
          async (keys, failures) => {
            // GIVEN records of few keys and a stream that fails entries at random, at most 4 times each
            const attemptsOf = new Map<string, number>();
            const fake = new FakeKinesis((entries) =>
              entries.map((entry) => {
                const attempts = (attemptsOf.get(entry.data) ?? 0) + 1;
                attemptsOf.set(entry.data, attempts);
                return attempts < 5 && failures.next().value ? 'InternalFailure' : undefined;
              }),
            );
            const { sink } = sinkOn(fake);
            const input = keys.map((key, i) => ({ data: `${key}${i}`, partitionKey: key }));

            // WHEN
            const stats = await sink.send(input);

            // THEN
            expect(byKey(fake.written)).toEqual(byKey(input));
            expect(fake.written).toHaveLength(input.length);
            expect(stats.records).toBe(input.length);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});
