/** Pipelines the generator has a scenario for. */
export const GENERATOR_PIPELINES = ['page-views', 'sessions', 'error-rate', 'trending'] as const;

/** What a generated record is meant to be. */
export const RECORD_KIND = {
  VALID: 'valid',
  /** Event time far behind the clock, re-using an earlier event's key: reported LATE. */
  LATE: 'late',
  /** Not JSON or the wrong schema: reported NOT_JSON or SCHEMA. */
  INVALID: 'invalid',
} as const;

/**
 * Default lateness of late records per pipeline (ms): beyond the slide + allowed lateness of the
 * windowed pipelines (2 min), beyond gap + lateness for sessions (35 min).
 */
export const DEFAULT_LATE_BY_MS: Readonly<Record<string, number>> = {
  'page-views': 120_000,
  'error-rate': 120_000,
  trending: 120_000,
  sessions: 35 * 60_000,
};

/** Defaults of the generator. */
export const GENERATOR_DEFAULTS = {
  rate: 20,
  durationMs: 60_000,
  seed: 1,
  /** Rate multiplier during a burst. */
  burstFactor: 4,
  /** Mean time between bursts (ms of event time). */
  meanBurstGapMs: 120_000,
  /** Mean burst length (ms of event time). */
  meanBurstMs: 15_000,
  /** Past events kept as candidates for late re-sends. */
  historySize: 20_000,
  /** Share of events with an epoch-ms `ts` (the others are ISO-8601). */
  epochMsShare: 0.3,
} as const;
