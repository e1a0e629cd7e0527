import * as z from 'zod/mini';
import { pipeline } from '#runtime/index';

/** An input event of the `enrich` pipeline: any JSON object with a string `id` and a numeric `value`. */
export const NumberEvent = z.looseObject({ id: z.string(), value: z.number() });

/**
 * `enrich` — the classic "process each record" job: reads `numbers`, writes each event to
 * `numbers-doubled` with `value` doubled and a `processedAt` timestamp, under the same partition key and in
 * the same order per partition key. A record that is not JSON or has no numeric `value` goes to the
 * failure sink and never fails the batch.
 */
export const enrich = pipeline('enrich')
  .from('numbers', { schema: NumberEvent })
  .map((event) => ({ ...event, value: event.value * 2, processedAt: new Date().toISOString() }))
  .to('numbers-doubled');
