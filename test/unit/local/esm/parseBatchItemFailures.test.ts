import { parseBatchItemFailures } from '#local/esm/parseBatchItemFailures';
import type { StreamRecord } from '#local/esm/types';

const records: StreamRecord[] = ['10', '20', '30'].map((sequenceNumber) => ({
  shardId: 's',
  sequenceNumber,
  partitionKey: 'pk',
  data: new Uint8Array(),
  approximateArrivalTimestamp: 0,
}));

describe('parseBatchItemFailures', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['an empty list', { batchItemFailures: [] }],
    ['a null list', { batchItemFailures: null }],
  ])('reads %s as complete success', (_, payload) => {
    // WHEN / THEN
    expect(parseBatchItemFailures(payload, records)).toEqual({ kind: 'success' });
  });

  it('returns the index of the lowest failed sequence number', () => {
    // WHEN
    const response = parseBatchItemFailures(
      { batchItemFailures: [{ itemIdentifier: '30' }, { itemIdentifier: '20' }] },
      records,
    );

    // THEN
    expect(response).toEqual({ kind: 'partial', failedFrom: 1 });
  });

  it.each([
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a wrong key', { batchItemFailures: [{ itemId: '10' }] }],
    ['an unknown sequence number', { batchItemFailures: [{ itemIdentifier: '40' }] }],
    ['a list of the wrong type', { batchItemFailures: 'x' }],
    ['a non-object response', 'ok'],
  ])('fails the whole batch on %s', (_, payload) => {
    // WHEN / THEN
    expect(parseBatchItemFailures(payload, records).kind).toBe('invalid');
  });
});
