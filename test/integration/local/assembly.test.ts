import { join } from 'node:path';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { deployAssembly } from '#local/assembly/deployAssembly';
import { loadCloudAssembly } from '#local/assembly/loadCloudAssembly';
import { localClients } from '#local/aws/index';
import { useEngines } from '#test/helpers/engines';

const FIXTURE = join(__dirname, '../../fixtures/assembly');

describe('deployAssembly (engines)', () => {
  const engines = useEngines();

  it('creates the streams with their shard counts and the tables with keys, GSI and TTL', async () => {
    // GIVEN
    const { endpoints } = engines();
    const clients = localClients(endpoints);
    const warnings: string[] = [];

    // WHEN
    const deployment = await deployAssembly(loadCloudAssembly(FIXTURE), {
      endpoints,
      clients,
      warn: (line) => warnings.push(line),
    });

    // THEN streams
    const shardCounts: Record<string, number> = {};
    for (const name of ['Fixture-Numbers', 'Fixture-doubled', 'fixture-flaky-in']) {
      const { Shards } = await clients.kinesis.send(new ListShardsCommand({ StreamName: name }));
      shardCounts[name] = Shards?.length ?? 0;
    }
    expect(shardCounts).toEqual({
      'Fixture-Numbers': 2,
      'Fixture-doubled': 4,
      'fixture-flaky-in': 1,
    });

    // THEN table
    const { Table: table } = await clients.dynamodb.send(
      new DescribeTableCommand({ TableName: 'Fixture-state' }),
    );
    expect(table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(
      table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.KeySchema]),
    ).toEqual([
      [
        'byStatus',
        [
          { AttributeName: 'status', KeyType: 'HASH' },
          { AttributeName: 'closesAt', KeyType: 'RANGE' },
        ],
      ],
    ]);
    const { TimeToLiveDescription: ttl } = await clients.dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: 'Fixture-state' }),
    );
    expect(ttl).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    const { Table: registry } = await clients.dynamodb.send(
      new DescribeTableCommand({ TableName: 'Fixture-Registry' }),
    );
    expect(registry?.TableStatus).toBe('ACTIVE');

    // THEN names and the one warning line
    expect(deployment.names.numbers?.physicalName).toBe('Fixture-Numbers');
    expect(warnings).toEqual([
      expect.stringMatching(/^shardflow: not emulated locally: AWS::CloudWatch::Alarm \(1\), /),
    ]);
  });

  it('reuses what already exists, so a restart with persisted state works', async () => {
    // GIVEN
    const { endpoints } = engines();
    const options = { endpoints, clients: localClients(endpoints), warn: () => undefined };
    const first = await deployAssembly(loadCloudAssembly(FIXTURE), options);

    // WHEN
    const second = await deployAssembly(loadCloudAssembly(FIXTURE), options);

    // THEN
    expect(second.names).toEqual(first.names);
    expect(second.functions.map((fn) => fn.environment)).toEqual(
      first.functions.map((fn) => fn.environment),
    );
  });
});
