import { Logger } from '@aws-lambda-powertools/logger';
import { createStatelessHandler } from '#handlers/factories/createStatelessHandler';
import { enrich } from '#pipelines/enrich';
import { metricsStub as metrics, recordingSink as sink } from '#test/helpers/handlerStubs';
import { kinesisEventFactory, kinesisRecordFactory } from '#test/helpers/kinesisFactories';

const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const NOW = Date.UTC(2026, 10, 27, 1, 0, 0);

describe('createStatelessHandler (enrich)', () => {
  it('doubles each value in input order under the same partition key', async () => {
    // GIVEN
    const output = sink();
    const handler = createStatelessHandler(enrich, {
      sink: output,
      failureSink: sink(),
      logger,
      metrics: metrics().metrics,
      clock: () => NOW,
    });
    const event = kinesisEventFactory([
      kinesisRecordFactory({ payload: { id: 'a', value: 1, extra: true }, partitionKey: 'k1' }),
      kinesisRecordFactory({ payload: { id: 'b', value: -2.5 }, partitionKey: 'k2' }),
    ]);

    // WHEN
    const response = await handler(event);

    // THEN
    expect(response).toEqual({ batchItemFailures: [] });
    const written = output.sent.map((record) => ({
      partitionKey: record.partitionKey,
      ...(JSON.parse(String(record.data)) as Record<string, unknown>),
    }));
    expect(written).toEqual([
      expect.objectContaining({ partitionKey: 'k1', id: 'a', value: 2, extra: true }),
      expect.objectContaining({ partitionKey: 'k2', id: 'b', value: -5 }),
    ]);
  });

  it('sends records that are not JSON or lack a numeric value to the failure stream without failing the batch', async () => {
    // GIVEN
    const output = sink();
    const failures = sink();
    const measured = metrics();
    const handler = createStatelessHandler(enrich, {
      sink: output,
      failureSink: failures,
      logger,
      metrics: measured.metrics,
      clock: () => NOW,
    });
    const notJson = kinesisRecordFactory({
      data: Buffer.from('{oops').toString('base64'),
      partitionKey: 'k1',
      shardId: 'shardId-000000000001',
      sequenceNumber: '49590338271490256608559692538361571095921575989136588001',
    });
    const noValue = kinesisRecordFactory({
      payload: { id: 'x', value: 'seven' },
      partitionKey: 'k2',
    });
    const good = kinesisRecordFactory({ payload: { id: 'g', value: 3 }, partitionKey: 'k3' });

    // WHEN
    const response = await handler(kinesisEventFactory([notJson, noValue, good]));

    // THEN
    expect(response).toEqual({ batchItemFailures: [] });
    expect(output.sent).toHaveLength(1);
    const bodies = failures.sent.map((record) => JSON.parse(String(record.data)));
    expect(bodies).toEqual([
      expect.objectContaining({
        pipeline: 'enrich',
        reason: 'NOT_JSON',
        shardId: 'shardId-000000000001',
        sequenceNumber: '49590338271490256608559692538361571095921575989136588001',
        partitionKey: 'k1',
        data: notJson.kinesis.data,
        failedAt: new Date(NOW).toISOString(),
      }),
      expect.objectContaining({ reason: 'SCHEMA', partitionKey: 'k2', data: noValue.kinesis.data }),
    ]);
    expect(measured.values).toMatchObject({ RecordsIn: 3, RecordsOut: 1, InvalidRecords: 2 });
  });

  it('fails the invocation when the output cannot be written, so Lambda retries the batch', async () => {
    // GIVEN
    const handler = createStatelessHandler(enrich, {
      sink: { send: jest.fn(async () => Promise.reject(new Error('PutRecords failed'))) },
      failureSink: sink(),
      logger,
      metrics: metrics().metrics,
    });

    // WHEN / THEN
    await expect(
      handler(kinesisEventFactory([kinesisRecordFactory({ payload: { id: 'a', value: 1 } })])),
    ).rejects.toThrow('PutRecords failed');
  });
});
