import fc from 'fast-check';
import { z } from 'zod';
import { MAX_JSON_DEPTH, MAX_RECORD_DATA_BYTES } from '#runtime/constants';
import { base64ByteLength, decodeRecord, nestsDeeperThan } from '#runtime/decodeRecord';
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
      { maxDepth: Number.POSITIVE_INFINITY }, // past the nesting check, into the schema's recursion
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

  describe('input limits', () => {
    const Loose = z.looseObject({ page: z.string() });
    const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    const padded = (bytes: number) => {
      const head = '{"page":"/a","pad":"';
      return `${head}${'x'.repeat(bytes - head.length - 2)}"}`;
    };

    it('accepts a valid record of exactly MAX_RECORD_DATA_BYTES (512 KiB)', () => {
      const decoded = decodeRecord(
        kinesisRecordFactory({ data: encode(padded(MAX_RECORD_DATA_BYTES)) }),
        Loose,
      );
      expect(decoded.ok).toBe(true);
    });

    it('fails as TOO_LARGE one byte above the limit, and on a 1 MiB record, with the size in the detail', () => {
      // GIVEN: valid JSON that matches the schema, only too big
      const justOver = kinesisRecordFactory({ data: encode(padded(MAX_RECORD_DATA_BYTES + 1)) });
      const oneMiB = kinesisRecordFactory({ data: encode(padded(1024 * 1024 - 10)) });

      // WHEN
      const over = decodeRecord(justOver, Loose);
      const huge = decodeRecord(oneMiB, Loose);

      // THEN
      expect(over).toMatchObject({
        ok: false,
        reason: 'TOO_LARGE',
        detail: `record data is ${MAX_RECORD_DATA_BYTES + 1} bytes, the limit is ${MAX_RECORD_DATA_BYTES}`,
      });
      expect(huge).toMatchObject({ ok: false, reason: 'TOO_LARGE' });
    });

    it('honours a smaller maxDataBytes', () => {
      const decoded = decodeRecord(kinesisRecordFactory({ payload: { page: '/home' } }), Loose, {
        maxDataBytes: 10,
      });
      expect(decoded).toMatchObject({ ok: false, reason: 'TOO_LARGE' });
    });

    it('fails as TOO_DEEP on a record that matches the schema but nests deeper than MAX_JSON_DEPTH', () => {
      // GIVEN: a loose schema would let the deep extra field through to the user's functions
      const deep = `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`;
      const ok = `{"page":"/a","extra":${deep}}`; // depth = MAX_JSON_DEPTH + 1
      const atLimit = `{"page":"/a","extra":${deep.slice(1, -1)}}`; // depth = MAX_JSON_DEPTH

      // WHEN / THEN
      expect(decodeRecord(kinesisRecordFactory({ data: encode(ok) }), Loose)).toMatchObject({
        ok: false,
        reason: 'TOO_DEEP',
        detail: `JSON nests deeper than ${MAX_JSON_DEPTH} levels`,
      });
      expect(decodeRecord(kinesisRecordFactory({ data: encode(atLimit) }), Loose).ok).toBe(true);
    });

    it('does not count brackets inside strings (escaped quotes included) as nesting', () => {
      const text = JSON.stringify({ page: `"\\${'['.repeat(500)}` });
      expect(nestsDeeperThan(text, 10)).toBe(false);
      expect(decodeRecord(kinesisRecordFactory({ data: encode(text) }), Loose).ok).toBe(true);
    });

    it('refuses invalid UTF-8 instead of replacing it, even inside a valid-looking string', () => {
      // GIVEN: {"page":"<0xC3 0x28>"} — a broken two-byte sequence a lenient decoder turns into U+FFFD
      const bytes = Buffer.concat([
        Buffer.from('{"page":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}'),
      ]);
      const decoded = decodeRecord(kinesisRecordFactory({ data: bytes.toString('base64') }), Loose);
      expect(decoded).toMatchObject({ ok: false, reason: 'INVALID_UTF8' });
    });

    it('computes the decoded size of base64 without decoding', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
          expect(base64ByteLength(Buffer.from(bytes).toString('base64'))).toBe(bytes.length);
        }),
      );
    });
  });
});
