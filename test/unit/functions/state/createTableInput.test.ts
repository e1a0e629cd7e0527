import { createTableInput, timeToLiveInput } from '#state/index';

describe('createTableInput / timeToLiveInput', () => {
  it('enables TTL on expiresAt, the attribute every state item carries', () => {
    // WHEN
    const input = timeToLiveInput('shardflow-state');
    // THEN
    expect(input).toEqual({
      TableName: 'shardflow-state',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('keys the table on pk/sk, with the sweeper index gsi1', () => {
    // WHEN
    const input = createTableInput('shardflow-state');
    // THEN
    expect(input.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(input.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['gsi1']);
  });
});
