import fc from 'fast-check';
import { z } from 'zod';
import { decodeRecord } from '#runtime/decodeRecord';
import { kinesisRecordFactory } from '#test/helpers/kinesisFactories';

const Click = z.object({ page: z.string(), userId: z.string(), ts: z.string() });

describe('decodeRecord', () => {
  it('decodes a valid record with its meta', () => {
    // GIVEN
    const record = kinesisRecordFactory({
      payload: { page: '/home', userId: 'u1', ts: '2026-11-26T10:00:00Z' },
      shardId: 'shardId-000000000003',
      sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
      partitionKey: 'u1',
      arrivalMs: 1_795_687_201_234,
    });

    // WHEN
    const decoded = decodeRecord(record, Click);

    // THEN
    expect(decoded).toEqual({
      ok: true,
      value: { page: '/home', userId: 'u1', ts: '2026-11-26T10:00:00Z' },
      meta: {
        shardId: 'shardId-000000000003',
        sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
        partitionKey: 'u1',
        approximateArrivalTimestamp: 1_795_687_201_234,
      },
    });
  });

  it('fails as NOT_JSON on text that is not JSON', () => {
    const decoded = decodeRecord(
      kinesisRecordFactory({ data: Buffer.from('{oops').toString('base64') }),
      Click,
    );
    expect(decoded).toMatchObject({ ok: false, reason: 'NOT_JSON' });
  });

  it('fails as INVALID_UTF8 on bytes that are not UTF-8', () => {
    const decoded = decodeRecord(
      kinesisRecordFactory({ data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64') }),
      Click,
    );
    expect(decoded).toMatchObject({ ok: false, reason: 'INVALID_UTF8' });
  });

  it('fails as SCHEMA with the offending path', () => {
    const decoded = decodeRecord(
      kinesisRecordFactory({ payload: { page: 1, userId: 'u', ts: 'x' } }),
      Click,
    );
    expect(decoded).toMatchObject({ ok: false, reason: 'SCHEMA' });
    expect(decoded.ok ? '' : decoded.detail).toMatch(/^page: /);
  });

  it('fails as TOO_DEEP when validation exhausts the stack', () => {
    // GIVEN: a recursive schema and a very deep value
    const Tree: z.ZodType<unknown[]> = z.lazy(() => z.array(Tree));
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;

    // WHEN
    const decoded = decodeRecord(
      kinesisRecordFactory({ data: Buffer.from(deep).toString('base64') }),
      Tree,
    );

    // THEN
    expect(decoded).toMatchObject({ ok: false, reason: 'TOO_DEEP' });
  });

  it('never throws, whatever the bytes (10,000 runs)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.string(), (bytes, partitionKey) => {
        const record = kinesisRecordFactory({
          data: Buffer.from(bytes).toString('base64'),
          partitionKey,
        });
        const decoded = decodeRecord(record, Click);
        expect(typeof decoded.ok).toBe('boolean');
        expect(decoded.meta.partitionKey).toBe(partitionKey);
      }),
      { numRuns: 10_000 },
    );
  });

  it('never throws on JSON-ish text or a malformed record', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        const decoded = decodeRecord(
          kinesisRecordFactory({ data: Buffer.from(text).toString('base64') }),
          Click,
        );
        expect(typeof decoded.ok).toBe('boolean');
      }),
      { numRuns: 2_000 },
    );
    expect(decodeRecord({} as never, Click)).toMatchObject({
      ok: false,
      meta: { shardId: '', sequenceNumber: '' },
    });
  });
});
