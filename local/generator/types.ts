import type { GENERATOR_PIPELINES, RECORD_KIND } from './constants';

/** A pipeline the generator has a scenario for. */
export type GeneratorPipeline = (typeof GENERATOR_PIPELINES)[number];

/** What a generated record is meant to be, see {@link RECORD_KIND}. */
export type RecordKind = (typeof RECORD_KIND)[keyof typeof RECORD_KIND];

/** A JSON event of a scenario. */
export type GeneratedEvent = Readonly<Record<string, unknown>>;

/** One record of the generated stream, in send order. */
export interface GeneratedRecord {
  /** The record's data, sent byte for byte (JSON text, or broken text for NOT_JSON). */
  readonly data: string;
  readonly partitionKey: string;
  readonly kind: RecordKind;
  /** The event (valid and late records; wrong-schema records carry their broken event). */
  readonly event?: GeneratedEvent;
  /** The event time of valid and late records; the generator clock for invalid ones (ms). */
  readonly eventTime: number;
  /** The generator clock when the record was produced (ms): when to send it in real time. */
  readonly sentAt: number;
  /** The failure reason the pipeline reports: `NOT_JSON`, `SCHEMA` or `LATE`; none for valid records. */
  readonly expectedReason?: 'NOT_JSON' | 'SCHEMA' | 'LATE';
}

/** Options of {@link generateEvents}. */
export interface GenerateEventsOptions {
  readonly pipeline: GeneratorPipeline;
  /** Event time of the first event, epoch ms (the simulated clock starts here). */
  readonly start: number;
  /**
   * Base events per second of event time (bursts go 4× faster; the average over a run is ≈ rate).
   * @default 20
   */
  readonly rate?: number;
  /**
   * Event-time span of the run (ms); `Infinity` generates forever.
   * @default 60000
   */
  readonly durationMs?: number;
  /** @default 1 */
  readonly seed?: number;
  /**
   * Share of records that are late: an earlier event re-sent with its old key and time.
   * @default 0
   */
  readonly lateFraction?: number;
  /**
   * Share of records that are invalid: half not JSON, half the wrong schema.
   * @default 0
   */
  readonly invalidFraction?: number;
  /**
   * How far behind the clock a late record's event time is at least (ms); it must exceed the
   * window's slide plus the allowed lateness (sessions: the gap too) for the record to be LATE.
   * @default - per pipeline, see {@link DEFAULT_LATE_BY_MS}
   */
  readonly lateByMs?: number;
}

/** A scenario: how one input stream's events look. */
export interface Scenario {
  readonly stream: string;
  /** The pipeline's aggregation key of an event. */
  keyOf(event: GeneratedEvent): string;
  /** The partition key the event is sent with. */
  partitionKeyOf(event: GeneratedEvent): string;
  /**
   * True when a late record must also come from a key that has been silent for `lateByMs`
   * (session windows: otherwise it just extends an open session).
   */
  readonly lateNeedsIdleKey: boolean;
  /** The next event (without `ts`) at `progress` ∈ [0, 1) of the run. */
  next(progress: number): Record<string, unknown>;
  /** A copy of an event that violates the pipeline's schema. */
  breakSchema(event: GeneratedEvent): Record<string, unknown>;
  /** A copy of an event with a new unique id (for late re-sends). */
  renew(event: GeneratedEvent, id: string): Record<string, unknown>;
}
