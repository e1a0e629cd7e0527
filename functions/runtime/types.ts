import type * as zc from 'zod/v4/core';
import type {
  AGGREGATE_KIND,
  DURATION_UNITS_MS,
  EMIT_MODE,
  FAILURE_REASON,
  LANE_MODE,
  PIPELINE_KIND,
  SIDE_OUTPUT_KIND,
  WINDOW_KIND,
} from './constants';

/** `'final'` or `'update'`, see {@link EMIT_MODE}. */
export type EmitMode = (typeof EMIT_MODE)[keyof typeof EMIT_MODE];
/** `'tumbling'`, `'hopping'` or `'session'`, see {@link WINDOW_KIND}. */
export type WindowKind = (typeof WINDOW_KIND)[keyof typeof WINDOW_KIND];
/** `'stateless'` or `'windowed'`, see {@link PIPELINE_KIND}. */
export type PipelineKind = (typeof PIPELINE_KIND)[keyof typeof PIPELINE_KIND];
/** One of {@link AGGREGATE_KIND}. */
export type AggregateKind = (typeof AGGREGATE_KIND)[keyof typeof AGGREGATE_KIND];
/** One of {@link FAILURE_REASON}. */
export type FailureReason = (typeof FAILURE_REASON)[keyof typeof FAILURE_REASON];
/** One of {@link LANE_MODE}. */
export type LaneMode = (typeof LANE_MODE)[keyof typeof LANE_MODE];

/**
 * A zod schema of a pipeline's input JSON: classic `zod` or `zod/mini` (both are built on zod's
 * core, parse alike and report the same issues). The shipped pipelines use `zod/mini`, which
 * esbuild tree-shakes to the few kilobytes a schema uses; classic `zod` is ~450 KB in any bundle.
 */
export type RecordSchema<T = unknown> = zc.$ZodType<T> & {
  safeParse(data: unknown): zc.util.SafeParseResult<T>;
};

/** The output type of a {@link RecordSchema}. */
export type SchemaOutput<S> = zc.output<S>;

/** A unit of {@link Duration}. */
export type DurationUnit = keyof typeof DURATION_UNITS_MS;
/** A duration string: a non-negative integer and a unit, e.g. `'500ms'`, `'30s'`, `'10m'`, `'1h'`, `'1d'`. */
export type Duration = `${number}${DurationUnit}`;

/** A JSON value (what accumulators and configs are made of). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** Where a Kinesis record came from. */
export interface RecordMeta {
  /** `shardId-…` from the record's `eventID` (`shardId-…:<sequenceNumber>`). */
  readonly shardId: string;
  /** Decimal string of up to 128 digits; compare with `compareSequenceNumbers`. */
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** Epoch ms (Kinesis gives epoch seconds with a fraction). */
  readonly approximateArrivalTimestamp: number;
}

/** A successfully decoded record. */
export interface DecodeSuccess<T> {
  readonly ok: true;
  readonly value: T;
  readonly meta: RecordMeta;
}

/** A record that could not be decoded or validated. */
export interface DecodeFailure {
  readonly ok: false;
  readonly reason: FailureReason;
  /** Human-readable explanation (parser message, zod issues). */
  readonly detail: string;
  readonly meta: RecordMeta;
}

/** What {@link decodeRecord} returns: never throws. */
export type DecodeResult<T> = DecodeSuccess<T> | DecodeFailure;

/** A time window `[start, end)` in epoch ms. */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/** An assigner of tumbling or hopping windows, built from slices (panes) of `sliceMs`. */
export interface SlicedWindowAssigner {
  readonly kind: typeof WINDOW_KIND.TUMBLING | typeof WINDOW_KIND.HOPPING;
  readonly sizeMs: number;
  /** Equal to `sizeMs` for tumbling windows. */
  readonly slideMs: number;
  /** Width of a slice: `slideMs` (which divides `sizeMs`). */
  readonly sliceMs: number;
  /** Start of the one slice that holds event time `t`. */
  sliceOf(t: number): number;
  /** The windows a slice (given by its start) contributes to, oldest first. */
  windowsOfSlice(sliceStart: number): Window[];
  /** The starts of the `sizeMs / sliceMs` slices a window is made of, oldest first. */
  slicesOfWindow(window: Window): number[];
  /** The windows that contain event time `t`, oldest first. */
  windowsOf(t: number): Window[];
  /** End of the last window a slice contributes to: once the watermark reaches it, the slice is dead. */
  lastWindowEndOfSlice(sliceStart: number): number;
}

/** An assigner of session windows: per key, events less than or exactly `gapMs` apart merge. */
export interface SessionWindowAssigner {
  readonly kind: typeof WINDOW_KIND.SESSION;
  readonly gapMs: number;
}

/** Any window assigner. */
export type WindowAssigner = SlicedWindowAssigner | SessionWindowAssigner;

/** A session window with its accumulator: `end` = last event time + gap. */
export interface Session<TAcc> {
  readonly start: number;
  readonly end: number;
  readonly acc: TAcc;
}

/**
 * A mergeable aggregate.
 *
 * Two forms of accumulator exist: the *working* form (`TWork`), mutated in place by `add` while a
 * batch is folded in memory, and the *stored* form (`TAcc`), plain JSON that goes to DynamoDB and
 * is what `merge` and `result` take. `seal` turns the first into the second.
 *
 * Laws (tested): `merge` is associative and commutative (up to float rounding for sums) with
 * `empty()` as identity, and folding any split of the inputs then merging equals folding all
 * inputs at once (exactly, or within the documented error bound for sketches).
 */
export interface Aggregate<TIn, TAcc, TOut, TValue = unknown, TWork = unknown> {
  readonly kind: AggregateKind;
  /** True when the stored accumulator is a number and `merge` is `+`: DynamoDB `ADD` applies it. */
  readonly additive: boolean;
  /** The parameters that shape the accumulator (e.g. `{ precision: 12 }`), for infra and docs. */
  readonly options: Readonly<Record<string, JsonValue>>;
  /** Extracts the value to aggregate; throws `AggregateValueError` for a value it cannot absorb. */
  value(input: TIn): TValue;
  /** A fresh working accumulator. */
  init(): TWork;
  /** Folds one value in; may mutate `work` and returns the accumulator to keep using. */
  add(work: TWork, value: TValue): TWork;
  /** The stored (JSON) form of a working accumulator; `work` must not be used afterwards. */
  seal(work: TWork): TAcc;
  /** The stored accumulator of no input: the identity of `merge`. */
  empty(): TAcc;
  /** Merges two stored accumulators into a new one; never mutates its arguments. */
  merge(a: TAcc, b: TAcc): TAcc;
  /** The output value of a stored accumulator. */
  result(acc: TAcc): TOut;
}

/** Any aggregate, as held in a pipeline definition. */
// biome-ignore lint/suspicious/noExplicitAny: heterogeneous aggregates are stored together
export type AnyAggregate = Aggregate<any, any, any, any, any>;

/** Named aggregates of a pipeline, as given to `.aggregate({...})`. */
export type AggregateMap<TIn> = {
  // biome-ignore lint/suspicious/noExplicitAny: accumulator and output types vary per aggregate
  readonly [name: string]: Aggregate<TIn, any, any, any, any>;
};

/** The output `values` of a set of aggregates. */
export type AggregateValues<A> = {
  // biome-ignore lint/suspicious/noExplicitAny: only the output type is inferred
  -readonly [K in keyof A]: A[K] extends Aggregate<any, any, infer O, any, any> ? O : never;
};

/** Stored accumulators of a pipeline's aggregates, by aggregate name (plain JSON). */
export type Accumulators = Readonly<Record<string, unknown>>;

/** Compiled filter/map/flatMap chain: calls `sink` once per output element of `value`. */
export type Transform = (value: unknown, sink: (element: unknown) => void) => void;

/** A step of the transform chain, kept for inspection. */
export type TransformStage = 'filter' | 'map' | 'flatMap';

/** Window part of {@link WindowedPipelineConfig}. */
export type WindowConfig =
  | {
      readonly kind: typeof WINDOW_KIND.TUMBLING | typeof WINDOW_KIND.HOPPING;
      readonly sizeMs: number;
      readonly slideMs: number;
      readonly sliceMs: number;
    }
  | { readonly kind: typeof WINDOW_KIND.SESSION; readonly gapMs: number };

/** What infra needs to know about a pipeline: plain JSON, no functions. */
export interface PipelineConfigBase {
  readonly name: string;
  readonly input: { readonly stream: string };
  /** Output stream names (one today). */
  readonly outputs: readonly string[];
  readonly stages: readonly TransformStage[];
}

/** Config of a stateless pipeline. */
export interface StatelessPipelineConfig extends PipelineConfigBase {
  readonly kind: typeof PIPELINE_KIND.STATELESS;
}

/** Config of a windowed pipeline. */
export interface WindowedPipelineConfig extends PipelineConfigBase {
  readonly kind: typeof PIPELINE_KIND.WINDOWED;
  readonly window: WindowConfig;
  /** Where event time comes from. */
  readonly eventTime: 'extractor' | 'approximateArrivalTimestamp';
  readonly maxOutOfOrdernessMs: number;
  readonly idleTimeoutMs: number;
  readonly emit: EmitMode;
  readonly aggregates: readonly {
    readonly name: string;
    readonly kind: AggregateKind;
    readonly additive: boolean;
    readonly options: Readonly<Record<string, JsonValue>>;
  }[];
  /** True when `.select()` projects the aggregate values into the result's `values`; absent otherwise. */
  readonly projected?: true;
  /**
   * Conditional outputs of final results (`.alert()`), in definition order; their streams are also
   * in `outputs` (after the main output). Absent when there are none.
   */
  readonly sideOutputs?: readonly { readonly stream: string; readonly kind: SideOutputKind }[];
}

/** Config of any pipeline. */
export type PipelineConfig = StatelessPipelineConfig | WindowedPipelineConfig;

/** A stateless pipeline, as built by `pipeline(name).from(…)…to(stream)`. */
export interface StatelessPipelineDefinition<TIn = unknown, TOut = unknown> {
  readonly kind: typeof PIPELINE_KIND.STATELESS;
  readonly name: string;
  readonly config: StatelessPipelineConfig;
  readonly schema: RecordSchema<TIn>;
  readonly transform: Transform;
  /** Output partition key; `undefined` keeps the input record's. */
  readonly partitionKey: ((element: TOut, record: RecordMeta) => string) | undefined;
}

/** The window of a result, as given to a `.select()` projection. */
export interface ResultContext {
  /** The aggregation key. */
  readonly key: string;
  /** Window start, epoch ms (inclusive). */
  readonly start: number;
  /** Window end, epoch ms (exclusive). */
  readonly end: number;
}

/** A `.select()` projection: turns a window's aggregate values into the result's `values`. */
export type ResultProjection<V = Record<string, unknown>, R = Record<string, unknown>> = (
  values: V,
  context: ResultContext,
) => R;

/** What a side output is, see {@link SIDE_OUTPUT_KIND}. */
export type SideOutputKind = (typeof SIDE_OUTPUT_KIND)[keyof typeof SIDE_OUTPUT_KIND];

/** A conditional output of final results, as declared by `.alert(stream, { when, map })`. */
export interface SideOutputDefinition<V = Record<string, unknown>> {
  readonly stream: string;
  readonly kind: SideOutputKind;
  /** True for the final results that produce a record on `stream`. */
  readonly when: (result: WindowResult<V>) => boolean;
  /** The record's own fields (the runtime adds `id`, `pipeline`, `output`, `key`, `window`, `emittedAt`). */
  readonly map: (result: WindowResult<V>) => Record<string, unknown>;
}

/**
 * A side-output record (e.g. an alert): the fields returned by `map`, plus
 * `id` = sha256(pipeline|output|key|windowStart|windowEnd) (32 hex, the same for every copy),
 * `pipeline`, `output` (the side stream), `key`, `window` and `emittedAt`.
 */
export interface SideOutputRecord {
  readonly id: string;
  readonly pipeline: string;
  readonly output: string;
  readonly key: string;
  readonly window: { readonly start: string; readonly end: string };
  readonly emittedAt: string;
  readonly [field: string]: unknown;
}

/** A windowed pipeline, as built by `pipeline(name)…keyBy().window().aggregate()…to(stream)`. */
export interface WindowedPipelineDefinition<
  TIn = unknown,
  TEvent = unknown,
  A extends AggregateMap<TEvent> = AggregateMap<TEvent>,
  V = AggregateValues<A>,
> {
  readonly kind: typeof PIPELINE_KIND.WINDOWED;
  readonly name: string;
  readonly config: WindowedPipelineConfig;
  readonly schema: RecordSchema<TIn>;
  readonly transform: Transform;
  readonly keyBy: (element: TEvent) => string;
  readonly assigner: WindowAssigner;
  /** Event-time extractor; `undefined` uses the record's approximateArrivalTimestamp. */
  readonly eventTime: ((element: TEvent) => string | number) | undefined;
  readonly maxOutOfOrdernessMs: number;
  readonly idleTimeoutMs: number;
  readonly emit: EmitMode;
  readonly aggregates: A;
  /** Aggregate names in definition order. */
  readonly aggregateNames: readonly string[];
  /** `.select()` projection of the values; `undefined` emits the aggregate values as they are. */
  readonly select: ResultProjection<AggregateValues<A>, V> | undefined;
  /** `.alert()` outputs: records derived from final results only. */
  readonly sideOutputs: readonly SideOutputDefinition<V>[];
}

/** A stateless pipeline definition of any element types. */
// biome-ignore lint/suspicious/noExplicitAny: definitions of any element types
export type AnyStatelessPipelineDefinition = StatelessPipelineDefinition<any, any>;

/** A windowed pipeline definition of any element and aggregate types. */
// biome-ignore lint/suspicious/noExplicitAny: definitions of any element types
export type AnyWindowedPipelineDefinition = WindowedPipelineDefinition<any, any, any, any>;

/** Any pipeline definition. */
export type PipelineDefinition = AnyStatelessPipelineDefinition | AnyWindowedPipelineDefinition;

/** A record that goes to the failure sink: terminal, never retried. */
export interface RecordFailure extends RecordMeta {
  readonly reason: FailureReason;
  readonly detail: string;
  /** The record's `data` exactly as received (base64). */
  readonly data: string;
  /**
   * Refusals of some of a record's elements (LATE, EXPIRED, STATE_TOO_LARGE): the indices, in the
   * order the pipeline's transform produced them, of exactly the elements that were not counted;
   * the others were. Absent for refusals of the whole record (invalid input).
   */
  readonly elements?: readonly number[];
  /** With `elements`: how many elements the record produced. */
  readonly elementCount?: number;
}

/** Per-key state common to slice and session partials of a batch. */
export interface KeyedPartialBase {
  readonly key: string;
  /** Number of elements folded in. */
  readonly count: number;
  /** Last sequence number per lane among the records that contributed (the item's new fences). */
  readonly lanes: ReadonlyMap<string, string>;
  /** First (lowest) sequence number per lane among the records that contributed; same lanes as `lanes`. */
  readonly firstSequenceByLane: ReadonlyMap<string, string>;
  /** The contributing elements (after transform), for `rebuildPartial` on a fence conflict. */
  readonly elements: readonly unknown[];
  /** Lane of each element. */
  readonly elementLanes: readonly string[];
  /** Sequence number of each element's record. */
  readonly elementSequences: readonly string[];
  /** Event time of each element. */
  readonly elementTimes: readonly number[];
  /** Index of each element among its record's elements (the transform's output order). */
  readonly elementOrdinals: readonly number[];
  /**
   * Each element's record: its index in the batch (`event.Records`). Refusals go back to their
   * records through it, without re-joining shard and sequence number strings.
   */
  readonly elementRecords: readonly number[];
}

/** The pre-aggregated contribution of a batch to one (key, slice). */
export interface SlicePartial extends KeyedPartialBase {
  readonly sliceStart: number;
  readonly sliceEnd: number;
  /** Stored (sealed) accumulators by aggregate name. */
  readonly accs: Accumulators;
  /** Elements whose slice end had already passed their shard's max event time (arrived late but within allowed lateness). */
  readonly late: number;
  /** Indices (into `elements`) of the elements counted in `late`. */
  readonly lateElements: readonly number[];
}

/** The sessions a batch formed for one key. */
export interface SessionPartial extends KeyedPartialBase {
  /** Sorted by start, non-overlapping. */
  readonly sessions: readonly Session<Accumulators>[];
}

/** A stateless pipeline's output record. */
export interface OutputRecord {
  /** JSON text of the element. */
  readonly data: string;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** Everything a handler needs to apply one Kinesis batch, computed without I/O. */
export interface BatchPlan {
  readonly pipeline: string;
  /** Number of Kinesis records in the batch. */
  readonly recordCount: number;
  readonly failures: readonly RecordFailure[];
  /** Windowed (tumbling/hopping) pipelines: one entry per touched (key, slice), keyed `${key}\u0000${sliceStart}`. */
  readonly partials: ReadonlyMap<string, SlicePartial>;
  /** Session pipelines: one entry per touched key. */
  readonly sessions: ReadonlyMap<string, SessionPartial>;
  /** Stateless pipelines: output records in input order. */
  readonly outputs: readonly OutputRecord[];
  /**
   * Event clock per shard over the batch's valid elements (ms): the highest event time, each
   * bounded by its record's arrival (`watermarkTime`), so no producer clock runs ahead of Kinesis.
   */
  readonly maxEventTimeByShard: ReadonlyMap<string, number>;
  /** Records whose elements were counted as if dated at their arrival (event time after arrival). */
  readonly clampedRecords: number;
  /**
   * Element count of every record that produced other than exactly one element, keyed by the
   * record's index in the batch (records absent here produced one).
   */
  readonly elementCounts: ReadonlyMap<number, number>;
  /** Last sequence number per lane over all records of the batch. */
  readonly lastSequenceByLane: ReadonlyMap<string, string>;
  /**
   * Where each shard of the batch stands once the batch is processed: its stream and its highest
   * sequence number, over every record (valid or not) that has a shard id, a sequence number and
   * an `eventSourceARN`.
   */
  readonly lastPositionByShard: ReadonlyMap<string, StreamPosition>;
}

/** A shard's position in its stream: the stream (`eventSourceARN`) and a sequence number. */
export interface StreamPosition {
  readonly streamArn: string;
  readonly sequenceNumber: string;
}

/** Options of {@link preAggregate}. */
export interface PreAggregateOptions {
  /**
   * How to derive a record's fencing lane.
   * @default 'shard'
   */
  readonly laneOf?: LaneMode | ((meta: RecordMeta) => string);
  /**
   * Max event time per shard before this batch, to count elements that arrive late but within
   * allowed lateness.
   * @default empty
   */
  readonly maxEventTimeByShard?: ReadonlyMap<string, number>;
  /**
   * An element whose event time is more than this (ms) after its record's arrival in Kinesis is
   * refused as FUTURE_EVENT_TIME: it would otherwise drag its shard's watermark into the future.
   * @default DEFAULT_MAX_FUTURE_SKEW_MS (15 minutes)
   */
  readonly maxFutureSkewMs?: number;
}

/** The output record of a windowed pipeline (the DESIGN.md contract). */
export interface WindowResult<V = Record<string, unknown>> {
  /** sha256 hex (first 32 chars) of `pipeline|key|windowStartMs|windowEndMs|final`. */
  readonly id: string;
  readonly pipeline: string;
  readonly key: string;
  readonly window: { readonly start: string; readonly end: string };
  readonly values: V;
  readonly final: boolean;
  readonly late: number;
  readonly emittedAt: string;
}
