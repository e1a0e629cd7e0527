import {
  GENERATOR_PIPELINES,
  type GeneratedRecord,
  generateEvents,
  inputStreamOf,
} from '#local/generator/index';
import type { SinkRecord } from '#sinks/index';
import { ENRICH_INPUT, SOAK_DEFAULTS } from './constants';

/** Makes the next record of one input stream, stamped with the time it is made. */
export type EventSource = (now: number) => SinkRecord;

/** Options of {@link eventSources}. */
export interface EventSourcesOptions {
  readonly seed: number;
  readonly invalidFraction: number;
  /** Epoch ms the generators start at. */
  readonly start: number;
}

/**
 * One endless source per input stream the soak knows: `numbers` gets enrich events
 * `{ id, device, value, sentAt }`, the others the seeded generator's events (Zipf keys, bursts,
 * a share of invalid records) with their event time `ts` re-stamped to the send time, so event
 * time follows the wall clock whatever rate the engines take.
 */
export function eventSources(
  inputs: readonly string[],
  options: EventSourcesOptions,
): Map<string, EventSource> {
  const sources = new Map<string, EventSource>();
  for (const input of inputs) {
    if (input === ENRICH_INPUT) {
      let i = 0;
      sources.set(input, (now) => {
        const id = `soak-${i}`;
        const event = {
          id,
          device: `device-${i % SOAK_DEFAULTS.enrichDevices}`,
          value: i,
          sentAt: now,
        };
        i += 1;
        return { data: JSON.stringify(event), partitionKey: id };
      });
      continue;
    }
    const scenario = GENERATOR_PIPELINES.find((pipeline) => inputStreamOf(pipeline) === input);
    if (scenario === undefined) continue;
    const generated = generateEvents({
      pipeline: scenario,
      start: options.start,
      durationMs: Number.POSITIVE_INFINITY,
      rate: SOAK_DEFAULTS.generatorRate,
      seed: options.seed,
      invalidFraction: options.invalidFraction,
    });
    sources.set(input, (now) => restamp(generated.next().value as GeneratedRecord, now));
  }
  return sources;
}

/** A valid record with its event time set to `now` (in the same form, epoch ms or ISO-8601). */
export function restamp(record: GeneratedRecord, now: number): SinkRecord {
  if (record.kind !== 'valid' || record.event === undefined) {
    return { data: record.data, partitionKey: record.partitionKey };
  }
  const ts = typeof record.event.ts === 'number' ? now : new Date(now).toISOString();
  return { data: JSON.stringify({ ...record.event, ts }), partitionKey: record.partitionKey };
}

/**
 * The prelude of a generated input stream: `rate` events per second of event time from
 * `preludeAgoMs` before `now` over `preludeSpanMs`, unchanged. Sent first, they put every kind of
 * window (sessions with their 30-minute gap included) far enough behind the live events that the
 * windows close as soon as live events arrive, so each pipeline emits within seconds.
 */
export function preludeRecords(
  input: string,
  now: number,
  seed: number,
  rate: number,
): SinkRecord[] {
  const scenario = GENERATOR_PIPELINES.find((pipeline) => inputStreamOf(pipeline) === input);
  if (scenario === undefined || rate <= 0) return [];
  return [
    ...generateEvents({
      pipeline: scenario,
      start: now - SOAK_DEFAULTS.preludeAgoMs,
      durationMs: SOAK_DEFAULTS.preludeSpanMs,
      rate,
      seed: seed + 1,
    }),
  ].map((record) => ({ data: record.data, partitionKey: record.partitionKey }));
}
