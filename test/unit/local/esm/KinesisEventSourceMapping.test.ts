import { EventSourceMappingConfigError } from '#local/esm/errors';
import { InMemoryCheckpointStore } from '#local/esm/InMemoryCheckpointStore';
import { KinesisEventSourceMapping } from '#local/esm/KinesisEventSourceMapping';
import { RetryUntilSuccess } from '#local/esm/RetryUntilSuccess';
import type { KinesisEventSourceMappingOptions } from '#local/esm/types';
import { eventually, FakeInvoker, FakeKinesis, VirtualClock } from './fakes';

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/input';
const ROLE_ARN = 'arn:aws:iam::000000000000:role/handler';

describe('KinesisEventSourceMapping', () => {
  const mappings: KinesisEventSourceMapping[] = [];
  const warnings: string[] = [];

  function mapping(
    kinesis: FakeKinesis,
    invoker: FakeInvoker,
    properties: Record<string, unknown>,
    options: Partial<KinesisEventSourceMappingOptions> = {},
  ): KinesisEventSourceMapping {
    const created = new KinesisEventSourceMapping({
      definition: {
        uuid: 'mapping-1',
        functionName: 'fake-fn',
        eventSourceArn: STREAM_ARN,
        properties: { StartingPosition: 'TRIM_HORIZON', ...properties },
      },
      invoker,
      kinesis: kinesis.client,
      region: 'us-east-1',
      invokeIdentityArn: ROLE_ARN,
      clock: new VirtualClock(),
      outcome: new RetryUntilSuccess(10),
      warn: (line) => warnings.push(line),
      ...options,
    });
    mappings.push(created);
    return created;
  }

  afterEach(async () => {
    await Promise.all(mappings.splice(0).map((created) => created.stop()));
    warnings.length = 0;
  });

  it('invokes with AWS exact event shape, in order per shard, batched by BatchSize', async () => {
    // GIVEN
    const kinesis = new FakeKinesis();
    kinesis.addShard('shardId-000000000000');
    kinesis.addShard('shardId-000000000001');
    const arrival = new Date('2026-11-26T09:59:58.123Z');
    const first = kinesis.put('shardId-000000000000', '{"id":"a"}', arrival, 'key-a');
    for (let i = 1; i < 25; i++) kinesis.put('shardId-000000000000', `{"i":${i}}`);
    for (let i = 0; i < 3; i++) kinesis.put('shardId-000000000001', `{"j":${i}}`);
    const invoker = new FakeInvoker();

    // WHEN
    await mapping(kinesis, invoker, { BatchSize: 10 }).start();
    await eventually(() => invoker.events.length === 4);

    // THEN
    expect(invoker.events[0]?.Records[0]).toEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'key-a',
        sequenceNumber: first,
        data: Buffer.from('{"id":"a"}').toString('base64'),
        approximateArrivalTimestamp: 1795687198.123,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${first}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: ROLE_ARN,
      awsRegion: 'us-east-1',
      eventSourceARN: STREAM_ARN,
    });
    const shard0 = invoker.events
      .filter((event) => event.Records[0]?.eventID.startsWith('shardId-000000000000'))
      .map((event) => event.Records.map((record) => record.kinesis.sequenceNumber));
    expect(shard0.map((batch) => batch.length)).toEqual([10, 10, 5]);
    expect(shard0.flat()).toEqual(
      kinesis.shards.get('shardId-000000000000')?.records.map((r) => r.SequenceNumber),
    );
  });

  it('retries the same batch on function error and checkpoints only after success', async () => {
    // GIVEN
    const kinesis = new FakeKinesis();
    kinesis.addShard('shardId-000000000000');
    const sequenceNumbers = [1, 2, 3].map((i) => kinesis.put('shardId-000000000000', `${i}`));
    const checkpoints = new InMemoryCheckpointStore();
    const saved: (string | undefined)[] = [];
    const save = checkpoints.save.bind(checkpoints);
    const invoker = new FakeInvoker((invocation) => {
      if (invocation <= 2) saved.push(`before ${invocation}: ${saved.length}`);
      return invocation <= 2;
    });
    checkpoints.save = async (mappingId, shardId, checkpoint) => {
      saved.push(checkpoint.sequenceNumber);
      await save(mappingId, shardId, checkpoint);
    };
    const esm = mapping(kinesis, invoker, { BatchSize: 10 }, { checkpoints });

    // WHEN
    await esm.start();
    await eventually(() => invoker.events.length === 3);
    await eventually(() => esm.stats.recordsDelivered === 3);

    // THEN
    expect(invoker.batches).toEqual([sequenceNumbers, sequenceNumbers, sequenceNumbers]);
    expect(saved).toEqual(['before 1: 0', 'before 2: 1', sequenceNumbers[2]]);
    expect(await checkpoints.load('mapping-1', 'shardId-000000000000')).toEqual({
      sequenceNumber: sequenceNumbers[2],
      ended: false,
    });
    expect(esm.stats).toMatchObject({ invocations: 3, errors: 2, batches: 1, recordsDelivered: 3 });
  });

  it('starts at LATEST without reading earlier records', async () => {
    // GIVEN
    const kinesis = new FakeKinesis();
    kinesis.addShard('shardId-000000000000');
    kinesis.put('shardId-000000000000', 'old');
    const invoker = new FakeInvoker();
    await mapping(kinesis, invoker, { StartingPosition: 'LATEST' }).start();

    // WHEN
    const fresh = kinesis.put('shardId-000000000000', 'new');

    // THEN
    await eventually(() => invoker.events.length === 1);
    expect(invoker.batches).toEqual([[fresh]]);
  });

  it('starts AT_TIMESTAMP from the first record that arrived at or after it', async () => {
    // GIVEN
    const kinesis = new FakeKinesis();
    kinesis.addShard('shardId-000000000000');
    kinesis.put('shardId-000000000000', 'before', new Date('2026-01-01T00:00:00Z'));
    const after = kinesis.put('shardId-000000000000', 'after', new Date('2026-01-01T00:01:00Z'));
    const invoker = new FakeInvoker();

    // WHEN
    await mapping(kinesis, invoker, {
      StartingPosition: 'AT_TIMESTAMP',
      StartingPositionTimestamp: Date.parse('2026-01-01T00:00:30Z') / 1000,
    }).start();

    // THEN
    await eventually(() => invoker.events.length === 1);
    expect(invoker.batches).toEqual([[after]]);
  });

  it('resumes after the stored checkpoint', async () => {
    // GIVEN
    const kinesis = new FakeKinesis();
    kinesis.addShard('shardId-000000000000');
    const [, second, third] = [1, 2, 3].map((i) => kinesis.put('shardId-000000000000', `${i}`));
    const checkpoints = new InMemoryCheckpointStore();
    await checkpoints.save('mapping-1', 'shardId-000000000000', {
      sequenceNumber: second,
      ended: false,
    });
    const invoker = new FakeInvoker();

    // WHEN
    await mapping(kinesis, invoker, {}, { checkpoints }).start();

    // THEN
    await eventually(() => invoker.events.length === 1);
    expect(invoker.batches).toEqual([[third]]);
  });

  it('accumulates records across reads until the batching window expires', async () => {
    // GIVEN two records per GetRecords
    const kinesis = new FakeKinesis(2);
    kinesis.addShard('shardId-000000000000');
    for (let i = 0; i < 5; i++) kinesis.put('shardId-000000000000', `${i}`);
    const withWindow = new FakeInvoker();
    const withoutWindow = new FakeInvoker();

    // WHEN
    await mapping(kinesis, withWindow, {
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 2,
    }).start();
    await mapping(kinesis, withoutWindow, { BatchSize: 10 }).start();

    // THEN
    await eventually(() => withWindow.events.length === 1 && withoutWindow.events.length === 3);
    expect(withWindow.batches.map((batch) => batch.length)).toEqual([5]);
    expect(withoutWindow.batches.map((batch) => batch.length)).toEqual([2, 2, 1]);
  });

  it('invokes before the payload would exceed 6 MB', async () => {
    // GIVEN five records of 1 MB (1.33 MB in base64)
    const kinesis = new FakeKinesis();
    kinesis.addShard('shardId-000000000000');
    for (let i = 0; i < 5; i++) kinesis.put('shardId-000000000000', 'x'.repeat(1_000_000));
    const invoker = new FakeInvoker();

    // WHEN
    await mapping(kinesis, invoker, { BatchSize: 10 }).start();

    // THEN
    await eventually(() => invoker.events.length === 2);
    expect(invoker.batches.map((batch) => batch.length)).toEqual([4, 1]);
  });

  it('drops records matching no filter and checkpoints them', async () => {
    // GIVEN
    const kinesis = new FakeKinesis();
    kinesis.addShard('shardId-000000000000');
    const kept = kinesis.put('shardId-000000000000', '{"type":"a"}');
    kinesis.put('shardId-000000000000', '{"type":"b"}');
    const last = kinesis.put('shardId-000000000000', 'not json');
    const invoker = new FakeInvoker();

    // WHEN
    const created = mapping(kinesis, invoker, {
      FilterCriteria: { Filters: [{ Pattern: '{"data":{"type":["a"]}}' }] },
    });
    await created.start();

    // THEN
    await eventually(() => created.stats.shards[0]?.checkpoint === last);
    expect(invoker.batches).toEqual([[kept]]);
    expect(created.stats.shards[0]?.recordsFiltered).toBe(2);
  });

  it('reads a child shard only after its parent is finished', async () => {
    // GIVEN a closed parent with records and a child that already has records
    const kinesis = new FakeKinesis(1);
    kinesis.addShard('shardId-000000000000');
    const parentRecords = [1, 2, 3].map((i) => kinesis.put('shardId-000000000000', `p${i}`));
    kinesis.addShard('shardId-000000000001', 'shardId-000000000000');
    const childRecord = kinesis.put('shardId-000000000001', 'c1');
    (kinesis.shards.get('shardId-000000000000') as { closed: boolean }).closed = true;
    const invoker = new FakeInvoker();
    const esm = mapping(kinesis, invoker, { BatchSize: 1 });

    // WHEN
    await esm.start();

    // THEN
    await eventually(() => invoker.events.length === 4);
    expect(invoker.batches.flat()).toEqual([...parentRecords, childRecord]);
    expect(esm.stats.shards.map(({ shardId, state }) => [shardId, state])).toEqual([
      ['shardId-000000000000', 'ended'],
      ['shardId-000000000001', 'polling'],
    ]);
  });

  it('finds a shard that appears later and reads it from TRIM_HORIZON', async () => {
    // GIVEN
    const kinesis = new FakeKinesis();
    kinesis.addShard('shardId-000000000000');
    const invoker = new FakeInvoker();
    await mapping(
      kinesis,
      invoker,
      { StartingPosition: 'LATEST' },
      { shardDiscoveryIntervalMs: 20 },
    ).start();

    // WHEN
    kinesis.addShard('shardId-000000000002');
    const record = kinesis.put('shardId-000000000002', 'late shard');

    // THEN
    await eventually(() => invoker.events.length === 1);
    expect(invoker.batches).toEqual([[record]]);
  });

  it('waits for the in-flight invocation on stop, then stops reading', async () => {
    // GIVEN
    const kinesis = new FakeKinesis();
    kinesis.addShard('shardId-000000000000');
    kinesis.put('shardId-000000000000', 'x');
    const invoker = new FakeInvoker(() => false, 200);
    const esm = mapping(kinesis, invoker, {});
    await esm.start();
    await eventually(() => invoker.inFlight === 1);

    // WHEN
    await esm.stop();

    // THEN
    expect(invoker.inFlight).toBe(0);
    const reads = kinesis.calls.length;
    kinesis.put('shardId-000000000000', 'y');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(kinesis.calls.length).toBe(reads);
    expect(esm.stats.state).toBe('Stopped');
  });

  it('does not read a disabled mapping', async () => {
    // GIVEN
    const kinesis = new FakeKinesis();
    kinesis.addShard('shardId-000000000000');

    // WHEN
    const esm = mapping(kinesis, new FakeInvoker(), { Enabled: false });
    await esm.start();

    // THEN
    expect(kinesis.calls).toEqual([]);
    expect(esm.stats.state).toBe('Disabled');
  });

  it('reads every failure-handling setting without a warning', () => {
    // WHEN
    const created = mapping(new FakeKinesis(), new FakeInvoker(), {
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 60,
      ParallelizationFactor: 3,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: { Filters: [{ Pattern: '{"data":{"type":["a"]}}' }] },
      DestinationConfig: {
        OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:failures' },
      },
    });

    // THEN
    expect(warnings).toEqual([]);
    expect(created.settings).toMatchObject({
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 2,
      maximumRecordAgeInSeconds: 60,
      parallelizationFactor: 3,
      reportBatchItemFailures: true,
      filters: [{ data: { type: ['a'] } }],
      onFailureDestination: 'arn:aws:sqs:us-east-1:000000000000:failures',
    });
  });

  it.each([
    ['MaximumRetryAttempts', 10_001],
    ['MaximumRecordAgeInSeconds', 59],
    ['ParallelizationFactor', 11],
    ['TumblingWindowInSeconds', 901],
    ['FunctionResponseTypes', ['Other']],
    ['FilterCriteria', { Filters: [{ Pattern: '{"partitionKey":["a"]}' }] }],
  ])('fails on %s %j outside what Lambda accepts', (setting, value) => {
    // WHEN / THEN
    expect(() => mapping(new FakeKinesis(), new FakeInvoker(), { [setting]: value })).toThrow(
      EventSourceMappingConfigError,
    );
  });

  it.each([
    [{ BatchSize: 0 }, 'BatchSize must be 1..10000, got 0'],
    [{ BatchSize: 10_001 }, 'BatchSize must be 1..10000, got 10001'],
    [
      { MaximumBatchingWindowInSeconds: 301 },
      'MaximumBatchingWindowInSeconds must be 0..300, got 301',
    ],
    [
      { StartingPosition: 'AT_SEQUENCE' },
      'StartingPosition must be TRIM_HORIZON | LATEST | AT_TIMESTAMP',
    ],
    [{ StartingPosition: 'AT_TIMESTAMP' }, 'StartingPositionTimestamp must be epoch seconds'],
  ])('fails on out-of-range settings %j', (properties, message) => {
    expect(() => mapping(new FakeKinesis(), new FakeInvoker(), properties)).toThrow(
      EventSourceMappingConfigError,
    );
    expect(() => mapping(new FakeKinesis(), new FakeInvoker(), properties)).toThrow(message);
  });

  it('fails when the source is not a Kinesis stream', () => {
    expect(
      () =>
        new KinesisEventSourceMapping({
          definition: {
            uuid: 'm',
            functionName: 'f',
            eventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:queue',
            properties: {},
          },
          invoker: new FakeInvoker(),
          kinesis: new FakeKinesis().client,
          region: 'us-east-1',
          invokeIdentityArn: ROLE_ARN,
        }),
    ).toThrow('EventSourceArn must be a Kinesis stream ARN');
  });
});
