import fc from 'fast-check';
import { z } from 'zod';
import { Request } from '#pipelines/error-rate';
import { PageView } from '#pipelines/page-views';
import { ProductView } from '#pipelines/trending';
import { compiledSchema } from '#runtime/compiledSchema';
import type { RecordSchema } from '#runtime/types';

/** Values near the shipped schemas' shapes: right and wrong types, missing and extra fields. */
const field = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('page_view', 'click', '', '2026-11-26T10:00:00Z', '2026-11-26T10:00:00+01:00'),
  fc.constantFrom('2026-11-26 10:00', '2026-13-26T10:00:00Z'),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double(),
  fc.constant(null),
  fc.boolean(),
);
const eventArb = fc.oneof(
  fc.record(
    {
      type: field,
      page: field,
      userId: field,
      ts: field,
      service: field,
      status: field,
      latencyMs: field,
      productId: field,
      category: field,
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);

const parsed = (schema: RecordSchema, value: unknown) => {
  const result = schema.safeParse(value);
  return result.success
    ? { success: true, data: result.data }
    : { success: false, issues: result.error.issues };
};

describe('compiledSchema', () => {
  it.each<[string, RecordSchema]>([
    ['page-views', PageView],
    ['error-rate', Request],
    ['trending', ProductView],
  ])('accepts, parses and rejects exactly as the plain %s schema', (_name, schema) => {
    // GIVEN
    const fast = compiledSchema(schema);
    fc.assert(
      fc.property(eventArb, (value) => {
        // THEN same outcome, same data, same issues
        expect(parsed(fast, value)).toEqual(parsed(schema, value));
      }),
      { numRuns: 500 },
    );
  });

  it('compiles a schema once and accepts classic zod schemas', () => {
    // GIVEN
    const classic = z.object({ n: z.number().int() });

    // WHEN
    const fast = compiledSchema(classic);

    // THEN
    expect(compiledSchema(classic)).toBe(fast);
    expect(fast.safeParse({ n: 2 })).toEqual({ success: true, data: { n: 2 } });
    expect(parsed(fast, { n: 2.5 })).toEqual(parsed(classic, { n: 2.5 }));
  });
});
