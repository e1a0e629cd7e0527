import {
  AGGREGATE_NAME_PATTERN,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_OUT_OF_ORDERNESS_MS,
  EMIT_MODE,
  NAME_PATTERN,
  PIPELINE_KIND,
  SIDE_OUTPUT_KIND,
  WINDOW_KIND,
} from './constants';
import { PipelineDefinitionError } from './errors';
import { parseDuration } from './parseDuration';
import type {
  AggregateMap,
  AggregateValues,
  Duration,
  EmitMode,
  RecordMeta,
  RecordSchema,
  ResultContext,
  ResultProjection,
  SchemaOutput,
  SideOutputDefinition,
  StatelessPipelineDefinition,
  Transform,
  TransformStage,
  WindowAssigner,
  WindowConfig,
  WindowedPipelineDefinition,
  WindowResult,
} from './types';

interface Stage {
  readonly kind: TransformStage;
  readonly fn: (element: unknown) => unknown;
}

interface StreamState {
  readonly name: string;
  readonly inputStream: string;
  readonly schema: RecordSchema;
  readonly stages: readonly Stage[];
}

/** Options of `.from()`. */
export interface FromOptions<S extends RecordSchema> {
  /**
   * zod schema (classic `zod` or `zod/mini`) of the input JSON; records that do not match go to
   * the failure sink as SCHEMA.
   */
  readonly schema: S;
}

/** Options of a stateless pipeline's `.to()`. */
export interface StatelessToOptions<T> {
  /**
   * Partition key of each output record.
   * @default the input record's partition key
   */
  readonly partitionKey?: (element: T, record: RecordMeta) => string;
}

/** Options of `.window()`. */
export interface WindowOptions<T> {
  /**
   * Event time of an element: an ISO-8601 date-time with zone, or epoch ms.
   * @default the record's approximateArrivalTimestamp
   */
  readonly eventTime?: (element: T) => string | number;
  /**
   * Max out-of-orderness (Flink's `forBoundedOutOfOrderness`, Beam's watermark estimate lag): how
   * far the watermark trails the shards' event clocks. A window closes once the watermark passes
   * its end; records for it that come later are LATE (shardflow keeps no state for late firings).
   * @default '0s'
   */
  readonly maxOutOfOrderness?: Duration;
  /**
   * The former name of {@link maxOutOfOrderness}: it never was Flink's `allowedLateness` (extra
   * time after the watermark passed a window's end), which shardflow does not have.
   * @deprecated use `maxOutOfOrderness`
   */
  readonly allowedLateness?: Duration;
  /**
   * A shard silent for longer stops holding the pipeline watermark back.
   * @default '60s'
   */
  readonly idleTimeout?: Duration;
}

const compile = (stages: readonly Stage[]): Transform => {
  let next: Transform = (value, sink) => sink(value);
  for (let i = stages.length - 1; i >= 0; i--) {
    const { kind, fn } = stages[i] as Stage;
    const after = next;
    if (kind === 'filter') {
      next = (value, sink) => {
        if (fn(value)) after(value, sink);
      };
    } else if (kind === 'map') {
      next = (value, sink) => after(fn(value), sink);
    } else {
      next = (value, sink) => {
        for (const element of fn(value) as Iterable<unknown>) after(element, sink);
      };
    }
  }
  return next;
};

const checkName = (pipelineName: string, what: string, value: string): void => {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    throw new PipelineDefinitionError(
      pipelineName,
      `${what} must be 1..64 characters of [a-z0-9-] starting with a letter or digit, got ${JSON.stringify(value)}`,
    );
  }
};

const durationMs = (pipelineName: string, what: string, value: Duration): number => {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new PipelineDefinitionError(pipelineName, `${what}: ${(error as Error).message}`, {
      cause: error,
    });
  }
};

const windowConfig = (assigner: WindowAssigner): WindowConfig =>
  assigner.kind === WINDOW_KIND.SESSION
    ? { kind: assigner.kind, gapMs: assigner.gapMs }
    : {
        kind: assigner.kind,
        sizeMs: assigner.sizeMs,
        slideMs: assigner.slideMs,
        sliceMs: assigner.sliceMs,
      };

/** Options of `.alert()`. */
export interface AlertOptions<V> {
  /** True for the final results that raise an alert. */
  readonly when: (result: WindowResult<V>) => boolean;
  /**
   * The alert record's own fields; the runtime adds `id` (stable per pipeline, stream, key and
   * window), `pipeline`, `output`, `key`, `window` and `emittedAt`, which `map` cannot override.
   * @default - `{ values: result.values }`
   */
  readonly map?: (result: WindowResult<V>) => Record<string, unknown>;
}

interface AggregatedState<T, A> {
  readonly keyFn: (element: T) => string;
  readonly assigner: WindowAssigner;
  readonly windowOptions: WindowOptions<T>;
  readonly aggregates: A;
  readonly emitMode: EmitMode;
  readonly select: ResultProjection | undefined;
  readonly sideOutputs: readonly SideOutputDefinition[];
}

/**
 * The last stage of a windowed pipeline: optionally project the values (`select`), add
 * conditional outputs (`alert`), choose the emit mode, then the output stream.
 */
export class AggregatedStream<TIn, T, A extends AggregateMap<T>, V = AggregateValues<A>> {
  constructor(
    private readonly state: StreamState,
    private readonly aggregated: AggregatedState<T, A>,
  ) {}

  private with<W = V>(changes: Partial<AggregatedState<T, A>>): AggregatedStream<TIn, T, A, W> {
    return new AggregatedStream<TIn, T, A, W>(this.state, { ...this.aggregated, ...changes });
  }

  /**
   * `'final'`: one result per (key, window) when it closes. `'update'`: also `final: false`
   * results after each batch.
   * @default 'final'
   */
  public emit(mode: EmitMode): AggregatedStream<TIn, T, A, V> {
    if (mode !== EMIT_MODE.FINAL && mode !== EMIT_MODE.UPDATE) {
      throw new PipelineDefinitionError(
        this.state.name,
        `emit mode must be 'final' or 'update', got ${JSON.stringify(mode)}`,
      );
    }
    return this.with({ emitMode: mode });
  }

  /**
   * Projects a window's aggregate values into the result's `values` (derived fields, renames):
   * applied to final and update results, after merging, so it may compute ratios of counts. It
   * must be pure and total (a throw fails the emission, which is retried). A second `select`
   * applies to the output of the first.
   *
   * @example
   * ```ts
   * .aggregate({ requests: count(), errors: count((e) => e.status >= 500) })
   * .select((v) => ({ ...v, errorRate: v.errors / v.requests }))
   * ```
   */
  public select<R extends Record<string, unknown>>(
    fn: (values: V, context: ResultContext) => R,
  ): AggregatedStream<TIn, T, A, R> {
    if (typeof fn !== 'function') {
      throw new PipelineDefinitionError(this.state.name, 'select() needs a function');
    }
    if (this.aggregated.sideOutputs.length > 0) {
      throw new PipelineDefinitionError(
        this.state.name,
        'select() must come before alert(): alerts see the projected values',
      );
    }
    const previous = this.aggregated.select;
    const projection: ResultProjection =
      previous === undefined
        ? (fn as ResultProjection)
        : (values, context) => fn(previous(values, context) as V, context);
    return this.with<R>({ select: projection });
  }

  /**
   * Adds a conditional output: for every **final** result for which `when` holds, one record on
   * `stream` (partition key = the result's key), written before the window is marked emitted —
   * at-least-once, with an id that is the same for every copy. Declare alerts after `select`
   * (they see the projected values).
   *
   * @example
   * ```ts
   * .alert('alerts', { when: (r) => r.values.errorRate >= 0.05, map: (r) => ({ errorRate: r.values.errorRate }) })
   * ```
   */
  public alert(stream: string, options: AlertOptions<V>): AggregatedStream<TIn, T, A, V> {
    const { name, inputStream } = this.state;
    checkName(name, 'alert stream name', stream);
    if (stream === inputStream) {
      throw new PipelineDefinitionError(
        name,
        `alert stream must differ from the input stream '${inputStream}'`,
      );
    }
    if (this.aggregated.sideOutputs.some((output) => output.stream === stream)) {
      throw new PipelineDefinitionError(name, `alert stream '${stream}' is declared twice`);
    }
    if (typeof options?.when !== 'function') {
      throw new PipelineDefinitionError(name, `alert('${stream}') needs { when } (a function)`);
    }
    const sideOutput: SideOutputDefinition<V> = Object.freeze({
      stream,
      kind: SIDE_OUTPUT_KIND.ALERT,
      when: options.when,
      map: options.map ?? ((result: WindowResult<V>) => ({ values: result.values })),
    });
    return this.with({
      sideOutputs: [...this.aggregated.sideOutputs, sideOutput as unknown as SideOutputDefinition],
    });
  }

  /** Names the output stream and returns the frozen pipeline definition. */
  public to(stream: string): WindowedPipelineDefinition<TIn, T, A, V> {
    const { name, inputStream, schema, stages } = this.state;
    const { keyFn, assigner, windowOptions, emitMode, select, sideOutputs } = this.aggregated;
    checkName(name, 'output stream name', stream);
    if (stream === inputStream) {
      throw new PipelineDefinitionError(
        name,
        `output stream must differ from the input stream '${inputStream}'`,
      );
    }
    if (sideOutputs.some((output) => output.stream === stream)) {
      throw new PipelineDefinitionError(
        name,
        `output stream '${stream}' is also an alert stream; use another stream`,
      );
    }
    if (
      windowOptions.maxOutOfOrderness !== undefined &&
      windowOptions.allowedLateness !== undefined
    ) {
      throw new PipelineDefinitionError(
        name,
        'give maxOutOfOrderness only: allowedLateness is its deprecated name',
      );
    }
    const maxOutOfOrdernessMs =
      windowOptions.maxOutOfOrderness !== undefined
        ? durationMs(name, 'maxOutOfOrderness', windowOptions.maxOutOfOrderness)
        : windowOptions.allowedLateness !== undefined
          ? durationMs(name, 'allowedLateness', windowOptions.allowedLateness)
          : DEFAULT_MAX_OUT_OF_ORDERNESS_MS;
    const idleTimeoutMs =
      windowOptions.idleTimeout === undefined
        ? DEFAULT_IDLE_TIMEOUT_MS
        : durationMs(name, 'idleTimeout', windowOptions.idleTimeout);
    if (idleTimeoutMs <= 0) {
      throw new PipelineDefinitionError(
        name,
        `idleTimeout must be > 0, got '${windowOptions.idleTimeout}'`,
      );
    }
    const aggregateNames = Object.keys(this.aggregated.aggregates);
    const aggregates = aggregateNames.map((aggregateName) => {
      const aggregate = this.aggregated.aggregates[aggregateName];
      if (aggregate === undefined)
        throw new PipelineDefinitionError(name, `aggregate '${aggregateName}' is undefined`);
      return Object.freeze({
        name: aggregateName,
        kind: aggregate.kind,
        additive: aggregate.additive,
        options: aggregate.options,
      });
    });
    return Object.freeze({
      kind: PIPELINE_KIND.WINDOWED,
      name,
      config: Object.freeze({
        kind: PIPELINE_KIND.WINDOWED,
        name,
        input: Object.freeze({ stream: inputStream }),
        outputs: Object.freeze([stream, ...sideOutputs.map((output) => output.stream)]),
        stages: Object.freeze(stages.map((stage) => stage.kind)),
        window: Object.freeze(windowConfig(assigner)),
        eventTime:
          windowOptions.eventTime === undefined ? 'approximateArrivalTimestamp' : 'extractor',
        maxOutOfOrdernessMs,
        idleTimeoutMs,
        emit: emitMode,
        aggregates: Object.freeze(aggregates),
        ...(select === undefined ? {} : { projected: true as const }),
        ...(sideOutputs.length === 0
          ? {}
          : {
              sideOutputs: Object.freeze(
                sideOutputs.map((output) =>
                  Object.freeze({ stream: output.stream, kind: output.kind }),
                ),
              ),
            }),
      }),
      schema: schema as RecordSchema<TIn>,
      transform: compile(stages),
      keyBy: keyFn,
      assigner,
      eventTime: windowOptions.eventTime,
      maxOutOfOrdernessMs,
      idleTimeoutMs,
      emit: emitMode,
      aggregates: Object.freeze({ ...this.aggregated.aggregates }),
      aggregateNames: Object.freeze(aggregateNames),
      select: select as ResultProjection<AggregateValues<A>, V> | undefined,
      sideOutputs: Object.freeze([...sideOutputs]) as unknown as readonly SideOutputDefinition<V>[],
    });
  }
}

/** A windowed stream: choose its aggregates. */
export class WindowedStream<TIn, T> {
  constructor(
    private readonly state: StreamState,
    private readonly keyFn: (element: T) => string,
    private readonly assigner: WindowAssigner,
    private readonly windowOptions: WindowOptions<T>,
  ) {}

  /**
   * Named mergeable aggregates computed per (key, window); names become the result's `values`
   * fields and must match `[A-Za-z][A-Za-z0-9_]*`.
   */
  public aggregate<A extends AggregateMap<T>>(aggregates: A): AggregatedStream<TIn, T, A> {
    const names = Object.keys(aggregates);
    if (names.length === 0) {
      throw new PipelineDefinitionError(
        this.state.name,
        'aggregate() needs at least one aggregate',
      );
    }
    for (const name of names) {
      if (!AGGREGATE_NAME_PATTERN.test(name)) {
        throw new PipelineDefinitionError(
          this.state.name,
          `aggregate name must match ${AGGREGATE_NAME_PATTERN}, got ${JSON.stringify(name)}`,
        );
      }
    }
    return new AggregatedStream(this.state, {
      keyFn: this.keyFn,
      assigner: this.assigner,
      windowOptions: this.windowOptions,
      aggregates,
      emitMode: EMIT_MODE.FINAL,
      select: undefined,
      sideOutputs: [],
    });
  }
}

/** A keyed stream: choose its windows. */
export class KeyedStream<TIn, T> {
  constructor(
    private readonly state: StreamState,
    private readonly keyFn: (element: T) => string,
  ) {}

  /** Assigns elements to event-time windows (`tumbling`, `hopping`, `session`). */
  public window(assigner: WindowAssigner, options: WindowOptions<T> = {}): WindowedStream<TIn, T> {
    return new WindowedStream(this.state, this.keyFn, assigner, options);
  }
}

/** A stream of elements of type `T`: transform it, key it, or send it to an output stream. */
export class PipelineStream<TIn, T> {
  constructor(private readonly state: StreamState) {}

  private with<U>(kind: TransformStage, fn: (element: T) => unknown): PipelineStream<TIn, U> {
    return new PipelineStream<TIn, U>({
      ...this.state,
      stages: [...this.state.stages, { kind, fn: fn as (element: unknown) => unknown }],
    });
  }

  /** Keeps the elements for which `fn` returns true. */
  public filter<U extends T>(fn: (element: T) => element is U): PipelineStream<TIn, U>;
  public filter(fn: (element: T) => boolean): PipelineStream<TIn, T>;
  public filter(fn: (element: T) => boolean): PipelineStream<TIn, T> {
    return this.with('filter', fn);
  }

  /** Replaces each element by `fn(element)`. */
  public map<U>(fn: (element: T) => U): PipelineStream<TIn, U> {
    return this.with('map', fn);
  }

  /** Replaces each element by the zero or more elements `fn(element)` yields. */
  public flatMap<U>(fn: (element: T) => Iterable<U>): PipelineStream<TIn, U> {
    return this.with('flatMap', fn);
  }

  /** Groups elements by key (a non-empty string); elements with another key fail as BAD_KEY. */
  public keyBy(fn: (element: T) => string): KeyedStream<TIn, T> {
    return new KeyedStream(this.state, fn);
  }

  /** Ends a stateless pipeline: each element becomes one JSON record of `stream`. */
  public to(
    stream: string,
    options: StatelessToOptions<T> = {},
  ): StatelessPipelineDefinition<TIn, T> {
    const { name, inputStream, schema, stages } = this.state;
    checkName(name, 'output stream name', stream);
    if (stream === inputStream) {
      throw new PipelineDefinitionError(
        name,
        `output stream must differ from the input stream '${inputStream}'`,
      );
    }
    return Object.freeze({
      kind: PIPELINE_KIND.STATELESS,
      name,
      config: Object.freeze({
        kind: PIPELINE_KIND.STATELESS,
        name,
        input: Object.freeze({ stream: inputStream }),
        outputs: Object.freeze([stream]),
        stages: Object.freeze(stages.map((stage) => stage.kind)),
      }),
      schema: schema as RecordSchema<TIn>,
      transform: compile(stages),
      partitionKey: options.partitionKey,
    });
  }
}

/** A named pipeline without input yet. */
export class PipelineSource {
  constructor(private readonly name: string) {}

  /** Reads JSON records of `stream` validated by `schema`. */
  public from<S extends RecordSchema>(
    stream: string,
    options: FromOptions<S>,
  ): PipelineStream<SchemaOutput<S>, SchemaOutput<S>> {
    checkName(this.name, 'input stream name', stream);
    if (options?.schema === undefined) {
      throw new PipelineDefinitionError(
        this.name,
        `from('${stream}') needs { schema } (a zod schema)`,
      );
    }
    return new PipelineStream({
      name: this.name,
      inputStream: stream,
      schema: options.schema,
      stages: [],
    });
  }
}

/**
 * Starts a pipeline definition. The result of `.to()` is a frozen definition: `config` is plain
 * JSON for infra (streams, window sizes in ms, lateness, idle timeout, emit mode, aggregates), the
 * rest are the functions the handler runs.
 *
 * @param name - 1..64 characters of `[a-z0-9-]`
 * @throws PipelineDefinitionError for a bad name
 * @example
 * ```ts
 * export const pageViews = pipeline('page-views')
 *   .from('clicks', { schema: PageView })
 *   .filter((e) => e.type === 'page_view')
 *   .keyBy((e) => e.page)
 *   .window(tumbling('1m'), { eventTime: (e) => e.ts, maxOutOfOrderness: '30s' })
 *   .aggregate({ views: count(), users: distinct((e) => e.userId) })
 *   .emit('final')
 *   .to('page-view-counts');
 *
 * export const enrich = pipeline('enrich')
 *   .from('numbers', { schema: z.object({ n: z.number() }) })
 *   .map((e) => ({ n: e.n * 2 }))
 *   .to('numbers-doubled');
 * ```
 */
export const pipeline = (name: string): PipelineSource => {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new PipelineDefinitionError(
      String(name),
      `pipeline name must be 1..64 characters of [a-z0-9-] starting with a letter or digit, got ${JSON.stringify(name)}`,
    );
  }
  return new PipelineSource(name);
};
