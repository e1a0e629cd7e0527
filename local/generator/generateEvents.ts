import {
  DEFAULT_LATE_BY_MS,
  GENERATOR_DEFAULTS,
  GENERATOR_PIPELINES,
  RECORD_KIND,
} from './constants';
import { createRandom } from './createRandom';
import { createScenario } from './createScenario';
import type { GeneratedEvent, GeneratedRecord, GenerateEventsOptions } from './types';

interface PastEvent {
  readonly event: GeneratedEvent;
  readonly key: string;
  readonly time: number;
}

/**
 * Generates a pipeline's input records, deterministically from `seed`: realistic events (Zipf
 * pages, products and users, sessions of a few events, rate bursts, one service degrading
 * mid-run), in event-time order from `start`, with a share of late and of invalid records.
 *
 * A late record re-sends an earlier event's key and event time (with a new id) once that time is
 * at least `lateByMs` behind the clock — for session windows only from a user silent that long —
 * so its window has closed and the pipeline reports it as `LATE`; until such an event exists, a
 * valid record is generated instead. Invalid records are half truncated JSON (`NOT_JSON`), half
 * the wrong schema (`SCHEMA`).
 *
 * @throws RangeError for an unknown pipeline or an option out of range
 * @example
 * for (const record of generateEvents({ pipeline: 'page-views', start: Date.UTC(2026, 0, 5), seed: 7 })) {
 *   console.log(record.data);
 * }
 */
export function* generateEvents(options: GenerateEventsOptions): Generator<GeneratedRecord> {
  const { pipeline, start } = options;
  if (!(GENERATOR_PIPELINES as readonly string[]).includes(pipeline)) {
    throw new RangeError(
      `no generator for pipeline '${pipeline}'; known: ${GENERATOR_PIPELINES.join(', ')}`,
    );
  }
  const rate = options.rate ?? GENERATOR_DEFAULTS.rate;
  const durationMs = options.durationMs ?? GENERATOR_DEFAULTS.durationMs;
  const lateFraction = options.lateFraction ?? 0;
  const invalidFraction = options.invalidFraction ?? 0;
  const lateByMs = options.lateByMs ?? (DEFAULT_LATE_BY_MS[pipeline] as number);
  if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
  if (!(durationMs > 0)) throw new RangeError(`duration must be > 0, got ${durationMs}`);
  if (!Number.isFinite(start)) throw new RangeError(`start must be epoch ms, got ${start}`);
  for (const [name, value] of [
    ['late fraction', lateFraction],
    ['invalid fraction', invalidFraction],
  ] as const) {
    if (!(value >= 0 && value <= 1))
      throw new RangeError(`${name} must be in [0, 1], got ${value}`);
  }
  if (lateFraction + invalidFraction > 1) {
    throw new RangeError(`late fraction + invalid fraction must be ≤ 1`);
  }

  const random = createRandom(options.seed ?? GENERATOR_DEFAULTS.seed);
  const scenario = createScenario(pipeline, random);
  const cycleMs = Number.isFinite(durationMs) ? durationMs : 600_000;
  const { burstFactor, meanBurstGapMs, meanBurstMs } = GENERATOR_DEFAULTS;
  const burstShare = meanBurstMs / (meanBurstGapMs + meanBurstMs);
  // Off-burst interval chosen so that the average rate over bursts and calm is `rate`.
  const calmIntervalMs = ((1 - burstShare + burstShare * burstFactor) * 1000) / rate;
  let burstStart = random.exponential(meanBurstGapMs);
  let burstEnd = burstStart + random.exponential(meanBurstMs);
  const history: PastEvent[] = [];
  const lastSeen = new Map<string, number>();
  let lateCount = 0;

  const stamp = (event: Record<string, unknown>, time: number): Record<string, unknown> => ({
    ...event,
    ts: random.chance(GENERATOR_DEFAULTS.epochMsShare) ? time : new Date(time).toISOString(),
  });

  const lateCandidate = (now: number): PastEvent | undefined => {
    // history is in time order: binary search the last event at least lateByMs old.
    let lo = 0;
    let hi = history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((history[mid] as PastEvent).time <= now - lateByMs) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return undefined;
    for (let attempt = 0; attempt < 8; attempt++) {
      const candidate = history[random.int(lo)] as PastEvent;
      if (!scenario.lateNeedsIdleKey || (lastSeen.get(candidate.key) ?? 0) <= now - lateByMs)
        return candidate;
    }
    return undefined;
  };

  for (let offset = 0; offset < durationMs; ) {
    const now = start + offset;
    const progress = (offset % cycleMs) / cycleMs;
    const roll = random.next();
    if (roll < invalidFraction) {
      const event = stamp(scenario.next(progress), now);
      const notJson = random.chance(0.5);
      const text = JSON.stringify(notJson ? event : scenario.breakSchema(event));
      yield {
        data: notJson ? text.slice(0, Math.max(1, Math.floor(text.length / 2))) : text,
        partitionKey: scenario.partitionKeyOf(event),
        kind: RECORD_KIND.INVALID,
        ...(notJson ? {} : { event: JSON.parse(text) as GeneratedEvent }),
        eventTime: now,
        sentAt: now,
        expectedReason: notJson ? 'NOT_JSON' : 'SCHEMA',
      };
    } else {
      const candidate = roll < invalidFraction + lateFraction ? lateCandidate(now) : undefined;
      if (candidate !== undefined) {
        lateCount += 1;
        const event = stamp(
          scenario.renew(candidate.event, `late-${lateCount}-${random.int(1 << 30).toString(36)}`),
          candidate.time,
        );
        yield {
          data: JSON.stringify(event),
          partitionKey: scenario.partitionKeyOf(event),
          kind: RECORD_KIND.LATE,
          event,
          eventTime: candidate.time,
          sentAt: now,
          expectedReason: 'LATE',
        };
      } else {
        const event = stamp(scenario.next(progress), now);
        const key = scenario.keyOf(event);
        history.push({ event, key, time: now });
        if (history.length > GENERATOR_DEFAULTS.historySize) history.shift();
        lastSeen.set(key, now);
        yield {
          data: JSON.stringify(event),
          partitionKey: scenario.partitionKeyOf(event),
          kind: RECORD_KIND.VALID,
          event,
          eventTime: now,
          sentAt: now,
        };
      }
    }
    const inBurst = offset >= burstStart && offset < burstEnd;
    if (offset >= burstEnd) {
      burstStart = offset + random.exponential(meanBurstGapMs);
      burstEnd = burstStart + random.exponential(meanBurstMs);
    }
    offset += Math.max(
      1,
      Math.round(random.exponential(calmIntervalMs / (inBurst ? burstFactor : 1))),
    );
  }
}

/** The input stream of a pipeline the generator knows. */
export function inputStreamOf(pipeline: GenerateEventsOptions['pipeline']): string {
  return createScenario(pipeline, createRandom(0)).stream;
}
