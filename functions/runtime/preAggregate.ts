import type { KinesisStreamRecord } from 'aws-lambda';
import { watermarkTime } from '#watermark/index';
import { compiledSchema } from './compiledSchema';
import {
  DEFAULT_MAX_FUTURE_SKEW_MS,
  FAILURE_REASON,
  LANE_MODE,
  LANE_SEPARATOR,
  MAX_KEY_LENGTH,
  PARTIAL_KEY_SEPARATOR,
  PIPELINE_KIND,
  WINDOW_KIND,
} from './constants';
import { decodeData, decodeRecord, recordMeta, shardIdOf } from './decodeRecord';
import { AggregateValueError } from './errors';
import { toEventTime } from './toEventTime';
import type {
  Accumulators,
  AnyAggregate,
  BatchPlan,
  FailureReason,
  OutputRecord,
  PipelineDefinition,
  PreAggregateOptions,
  RecordFailure,
  RecordMeta,
  Session,
  SessionPartial,
  SlicePartial,
  StatelessPipelineDefinition,
  StreamPosition,
  WindowedPipelineDefinition,
} from './types';

/**
 * Whether Kinesis sequence number `a` is numerically above `b` (decimal strings without leading
 * zeros: the longer is larger, equal lengths compare as strings). `compareSequenceNumbers(a, b) > 0`
 * with one string comparison instead of two, for the per-record bookkeeping.
 */
const isAfter = (a: string, b: string): boolean =>
  a.length > b.length || (a.length === b.length && a > b);

/** `:`, between shard id and sequence number in a record's `eventID`. */
const COLON = 0x3a;

/** Longest Kinesis partition key. */
const MAX_PARTITION_KEY_LENGTH = 256;

/** The {@link BatchPlan} map key of a (key, slice). */
export const partialKey = (key: string, sliceStart: number): string =>
  `${key}${PARTIAL_KEY_SEPARATOR}${sliceStart}`;

/** Resolves the `laneOf` option into a function. */
export const laneFunction = (
  laneOf: PreAggregateOptions['laneOf'],
): ((meta: RecordMeta) => string) => {
  if (typeof laneOf === 'function') return laneOf;
  if (laneOf === LANE_MODE.SHARD_AND_PARTITION_KEY) {
    return (meta) => `${meta.shardId}${LANE_SEPARATOR}${meta.partitionKey}`;
  }
  return (meta) => meta.shardId;
};

interface Group {
  readonly key: string;
  count: number;
  readonly lanes: Map<string, string>;
  readonly firstSequenceByLane: Map<string, string>;
  readonly elements: unknown[];
  readonly elementLanes: string[];
  readonly elementSequences: string[];
  readonly elementTimes: number[];
  readonly elementOrdinals: number[];
  /**
   * The lane of the last element added and the highest sequence number seen for it, not yet
   * written to `lanes`: consecutive elements nearly always share a lane, so most elements cost
   * one string comparison instead of a map lookup. {@link flushLane} writes it back.
   */
  lane: string | undefined;
  laneLast: string;
  /** The lowest sequence number seen for `lane`, not yet written to `firstSequenceByLane`. */
  laneFirst: string;
}

interface SliceGroup extends Group {
  readonly sliceStart: number;
  readonly sliceEnd: number;
  readonly works: unknown[];
  late: number;
  readonly lateElements: number[];
}

interface SessionGroup extends Group {
  /** Extracted values, `aggregates.length` per element. */
  readonly values: unknown[];
}

/** Thrown inside the per-element checks to fail the whole record with a reason. */
class RecordRejection {
  constructor(
    public readonly reason: FailureReason,
    public readonly detail: string,
  ) {}
}

const describe = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

const failure = (
  record: KinesisStreamRecord,
  meta: RecordMeta,
  reason: FailureReason,
  detail: string,
): RecordFailure => ({
  ...meta,
  reason,
  detail,
  data: typeof record?.kinesis?.data === 'string' ? record.kinesis.data : '',
});

const noteLane = (lanes: Map<string, string>, lane: string, sequenceNumber: string): void => {
  const last = lanes.get(lane);
  if (last === undefined || isAfter(sequenceNumber, last)) lanes.set(lane, sequenceNumber);
};

/**
 * Each shard's highest sequence number and stream over a batch (see
 * `BatchPlan.lastPositionByShard`). The current shard's position lives in fields while consecutive
 * records share it (a Lambda batch holds one shard), so a record costs one comparison.
 */
class ShardPositions {
  readonly positions = new Map<string, StreamPosition>();
  #shard: string | undefined;
  #sequenceNumber = '';
  #streamArn = '';

  /** Notes one record's position; records without shard, sequence number or stream are skipped. */
  note(shardId: string, sequenceNumber: string, streamArn: unknown): void {
    if (shardId === '' || sequenceNumber === '' || typeof streamArn !== 'string') return;
    if (shardId === this.#shard) {
      if (isAfter(sequenceNumber, this.#sequenceNumber)) {
        this.#sequenceNumber = sequenceNumber;
        this.#streamArn = streamArn;
      }
      return;
    }
    this.#flush();
    const seen = this.positions.get(shardId);
    this.#shard = shardId;
    if (seen === undefined || isAfter(sequenceNumber, seen.sequenceNumber)) {
      this.#sequenceNumber = sequenceNumber;
      this.#streamArn = streamArn;
    } else {
      this.#sequenceNumber = seen.sequenceNumber;
      this.#streamArn = seen.streamArn;
    }
  }

  /** Every shard's position. */
  done(): Map<string, StreamPosition> {
    this.#flush();
    this.#shard = undefined;
    return this.positions;
  }

  #flush(): void {
    if (this.#shard === undefined) return;
    const seen = this.positions.get(this.#shard);
    if (seen?.sequenceNumber !== this.#sequenceNumber || seen.streamArn !== this.#streamArn)
      this.positions.set(this.#shard, {
        streamArn: this.#streamArn,
        sequenceNumber: this.#sequenceNumber,
      });
  }
}

const planStateless = (
  definition: StatelessPipelineDefinition<unknown, unknown>,
  records: readonly KinesisStreamRecord[],
  options: PreAggregateOptions,
): BatchPlan => {
  const laneOf = laneFunction(options.laneOf);
  const failures: RecordFailure[] = [];
  const outputs: OutputRecord[] = [];
  const lastSequenceByLane = new Map<string, string>();
  const positions = new ShardPositions();
  const pending: unknown[] = [];
  const staged: OutputRecord[] = [];
  const push = (element: unknown): void => {
    pending.push(element);
  };
  const { partitionKey } = definition;
  const schema = compiledSchema(definition.schema);
  for (const record of records) {
    const decoded = decodeRecord(record, schema);
    const meta = decoded.meta;
    noteLane(lastSequenceByLane, laneOf(meta), meta.sequenceNumber);
    positions.note(meta.shardId, meta.sequenceNumber, record?.eventSourceARN);
    if (!decoded.ok) {
      failures.push(failure(record, meta, decoded.reason, decoded.detail));
      continue;
    }
    pending.length = 0;
    staged.length = 0;
    try {
      try {
        definition.transform(decoded.value, push);
      } catch (error) {
        throw new RecordRejection(FAILURE_REASON.TRANSFORM_ERROR, describe(error));
      }
      for (const element of pending) {
        let key: unknown;
        try {
          key = partitionKey === undefined ? meta.partitionKey : partitionKey(element, meta);
        } catch (error) {
          throw new RecordRejection(
            FAILURE_REASON.TRANSFORM_ERROR,
            `partitionKey: ${describe(error)}`,
          );
        }
        if (typeof key !== 'string' || key.length === 0 || key.length > MAX_PARTITION_KEY_LENGTH) {
          throw new RecordRejection(
            FAILURE_REASON.BAD_KEY,
            `partition key must be a string of 1..${MAX_PARTITION_KEY_LENGTH} characters, got ${String(key).slice(0, 300)}`,
          );
        }
        let data: string | undefined;
        try {
          data = JSON.stringify(element);
        } catch (error) {
          const reason =
            error instanceof RangeError ? FAILURE_REASON.TOO_DEEP : FAILURE_REASON.UNSERIALIZABLE;
          throw new RecordRejection(reason, describe(error));
        }
        if (data === undefined) {
          throw new RecordRejection(FAILURE_REASON.UNSERIALIZABLE, `${typeof element} is not JSON`);
        }
        staged.push({
          data,
          partitionKey: key,
          shardId: meta.shardId,
          sequenceNumber: meta.sequenceNumber,
        });
      }
    } catch (error) {
      if (!(error instanceof RecordRejection)) throw error;
      failures.push(failure(record, meta, error.reason, error.detail));
      continue;
    }
    for (const output of staged) outputs.push(output);
  }
  return {
    pipeline: definition.name,
    recordCount: records.length,
    failures,
    partials: new Map(),
    sessions: new Map(),
    outputs,
    maxEventTimeByShard: new Map(),
    clampedRecords: 0,
    elementCounts: new Map(),
    lastSequenceByLane,
    lastPositionByShard: positions.done(),
  };
};

const planWindowed = (
  definition: WindowedPipelineDefinition<unknown, unknown>,
  records: readonly KinesisStreamRecord[],
  options: PreAggregateOptions,
): BatchPlan => {
  const laneOf = laneFunction(options.laneOf);
  // With lane = shard (the default), a record's shard changes exactly when its lane does.
  const laneIsShard = options.laneOf === undefined || options.laneOf === LANE_MODE.SHARD;
  const maxFutureSkewMs = options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
  const { assigner, keyBy, eventTime, transform } = definition;
  const aggregates = definition.aggregateNames.map(
    (name) => definition.aggregates[name] as AnyAggregate,
  );
  const nAgg = aggregates.length;
  const isSession = assigner.kind === WINDOW_KIND.SESSION;

  const failures: RecordFailure[] = [];
  const lastSequenceByLane = new Map<string, string>();
  const positions = new ShardPositions();
  const maxEventTimeByShard = new Map<string, number>();
  const elementCounts = new Map<string, number>();
  let clampedRecords = 0;
  const runningMax = new Map<string, number>(options.maxEventTimeByShard ?? []);
  // Slice groups by key, then by slice start (a key touches one or two slices per batch): no
  // `${key}${sliceStart}` string is built per element; `order` keeps first-touch order.
  const slicesByKey = new Map<string, SliceGroup[]>();
  const order: SliceGroup[] = [];
  const sessionGroups = new Map<string, SessionGroup>();
  const sliced = assigner.kind === WINDOW_KIND.SESSION ? undefined : assigner;
  const schema = compiledSchema(definition.schema);

  // Scratch space reused across records: the elements of one record (the first `pendingCount`
  // of `pending`) and what was derived from them.
  const pending: unknown[] = [];
  let pendingCount = 0;
  const keys: string[] = [];
  const times: number[] = [];
  const values: unknown[] = [];
  const push = (element: unknown): void => {
    pending[pendingCount++] = element;
  };

  // The current lane's last sequence number and the current shard's maxima live in locals while
  // consecutive records share them (a Lambda batch holds one shard): each record would otherwise
  // cost map lookups by a string the record has just built. The maps are written when the lane or
  // shard changes and at the end. The lane's string object is reused for every record of it, so
  // later comparisons of lanes are pointer comparisons.
  let lane: string | undefined;
  let laneLast = '';
  let shard: string | undefined;
  let shardMax: number | undefined;
  let running = Number.NEGATIVE_INFINITY;
  const flushShard = (): void => {
    if (shard === undefined) return;
    if (shardMax !== undefined) maxEventTimeByShard.set(shard, shardMax);
    if (running !== Number.NEGATIVE_INFINITY) runningMax.set(shard, running);
  };

  // The last shard id read from an `eventID`: a record whose `eventID` starts with it (and a
  // colon) reuses this very string object instead of slicing its own.
  let lastShardId: string | undefined;
  for (const record of records) {
    const kinesis = record?.kinesis;
    const sequenceNumber =
      typeof kinesis?.sequenceNumber === 'string' ? kinesis.sequenceNumber : '';
    const eventId = record?.eventID;
    let shardId: string;
    if (
      lastShardId !== undefined &&
      typeof eventId === 'string' &&
      eventId.startsWith(lastShardId) &&
      (eventId.length === lastShardId.length || eventId.charCodeAt(lastShardId.length) === COLON)
    ) {
      shardId = lastShardId;
    } else {
      shardId = shardIdOf(eventId);
      lastShardId = shardId;
    }
    positions.note(shardId, sequenceNumber, record?.eventSourceARN);
    // Only a lane other than the shard needs the record's whole meta.
    const recordLane = laneIsShard ? shardId : laneOf(recordMeta(record));
    if (recordLane === lane) {
      if (isAfter(sequenceNumber, laneLast)) laneLast = sequenceNumber;
    } else {
      if (lane !== undefined) lastSequenceByLane.set(lane, laneLast);
      const last = lastSequenceByLane.get(recordLane);
      lane = recordLane;
      laneLast = last === undefined || isAfter(sequenceNumber, last) ? sequenceNumber : last;
    }
    const decoded = decodeData(kinesis?.data, schema);
    if (!decoded.ok) {
      failures.push(failure(record, recordMeta(record), decoded.reason, decoded.detail));
      continue;
    }
    const arrivalSeconds = kinesis.approximateArrivalTimestamp;
    const arrival = typeof arrivalSeconds === 'number' ? Math.round(arrivalSeconds * 1000) : 0;
    pendingCount = 0;
    // 1. Derive key, event time and aggregate values of every element; any problem fails the whole record.
    try {
      try {
        transform(decoded.value, push);
      } catch (error) {
        throw new RecordRejection(FAILURE_REASON.TRANSFORM_ERROR, describe(error));
      }
      for (let j = 0; j < pendingCount; j++) {
        const element = pending[j];
        let key: unknown;
        let rawTime: unknown;
        try {
          key = keyBy(element);
          rawTime = eventTime === undefined ? arrival : eventTime(element);
        } catch (error) {
          throw new RecordRejection(FAILURE_REASON.TRANSFORM_ERROR, describe(error));
        }
        if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
          throw new RecordRejection(
            FAILURE_REASON.BAD_KEY,
            `keyBy must return a string of 1..${MAX_KEY_LENGTH} characters, got ${String(key).slice(0, 300)}`,
          );
        }
        const t = toEventTime(rawTime);
        if (t === undefined) {
          throw new RecordRejection(
            FAILURE_REASON.BAD_EVENT_TIME,
            `event time must be an ISO-8601 date-time with zone or finite epoch ms, got ${JSON.stringify(rawTime) ?? String(rawTime)}`,
          );
        }
        // An event time far ahead of the record's arrival would drag the shard's watermark into
        // the future and close every window early. Compared with the arrival time (fixed per
        // record), never the clock, so a retried batch decides the same way.
        if (eventTime !== undefined && arrival > 0) {
          if (t > arrival + maxFutureSkewMs) {
            throw new RecordRejection(
              FAILURE_REASON.FUTURE_EVENT_TIME,
              `event time ${new Date(t).toISOString()} is more than ${maxFutureSkewMs} ms after arrival ${new Date(arrival).toISOString()}`,
            );
          }
        }
        keys[j] = key;
        times[j] = t;
        for (let a = 0; a < nAgg; a++) {
          try {
            values[j * nAgg + a] = (aggregates[a] as AnyAggregate).value(element);
          } catch (error) {
            if (error instanceof AggregateValueError) {
              throw new RecordRejection(
                FAILURE_REASON.BAD_VALUE,
                `${definition.aggregateNames[a]}: ${error.message}`,
              );
            }
            throw new RecordRejection(FAILURE_REASON.TRANSFORM_ERROR, describe(error));
          }
        }
      }
    } catch (error) {
      if (!(error instanceof RecordRejection)) throw error;
      failures.push(failure(record, recordMeta(record), error.reason, error.detail));
      continue;
    }
    // 2. Apply: every element lands in one slice (or the key's session group).
    let clamped = false;
    if (pendingCount !== 1) elementCounts.set(`${shardId}\u0000${sequenceNumber}`, pendingCount);
    // `shardId` is the reused string object of the batch's shard: usually the very object `shard`
    // holds, so the comparison is a pointer comparison.
    if (shardId !== shard) {
      flushShard();
      shard = shardId;
      shardMax = maxEventTimeByShard.get(shard);
      running = runningMax.get(shard) ?? Number.NEGATIVE_INFINITY;
    }
    for (let j = 0; j < pendingCount; j++) {
      const key = keys[j] as string;
      const t = times[j] as number;
      // The shard's event clock moves by the element's time, but never past its arrival.
      const clock = watermarkTime(t, arrival);
      if (clock < t) clamped = true;
      if (shardMax === undefined || clock > shardMax) shardMax = clock;
      const before = running;
      if (clock > running) running = clock;
      if (sliced === undefined) {
        let group = sessionGroups.get(key);
        if (group === undefined) {
          group = {
            key,
            count: 0,
            lanes: new Map(),
            firstSequenceByLane: new Map(),
            elements: [],
            elementLanes: [],
            elementSequences: [],
            elementTimes: [],
            elementOrdinals: [],
            lane: undefined,
            laneLast: '',
            laneFirst: '',
            values: [],
          };
          sessionGroups.set(key, group);
        }
        for (let a = 0; a < nAgg; a++) group.values.push(values[j * nAgg + a]);
        addElement(group, pending[j], lane as string, sequenceNumber, t, j);
      } else {
        const sliceStart = sliced.sliceOf(t);
        let ofKey = slicesByKey.get(key);
        if (ofKey === undefined) {
          ofKey = [];
          slicesByKey.set(key, ofKey);
        }
        let group: SliceGroup | undefined;
        for (let g = 0; g < ofKey.length; g++) {
          if ((ofKey[g] as SliceGroup).sliceStart === sliceStart) {
            group = ofKey[g];
            break;
          }
        }
        if (group === undefined) {
          group = {
            key,
            sliceStart,
            sliceEnd: sliceStart + sliced.sliceMs,
            works: aggregates.map((aggregate) => aggregate.init()),
            late: 0,
            lateElements: [],
            count: 0,
            lanes: new Map(),
            firstSequenceByLane: new Map(),
            elements: [],
            elementLanes: [],
            elementSequences: [],
            elementTimes: [],
            elementOrdinals: [],
            lane: undefined,
            laneLast: '',
            laneFirst: '',
          };
          ofKey.push(group);
          order.push(group);
        }
        const works = group.works;
        for (let a = 0; a < nAgg; a++) {
          works[a] = (aggregates[a] as AnyAggregate).add(works[a], values[j * nAgg + a]);
        }
        if (group.sliceEnd <= before) {
          group.late++;
          group.lateElements.push(group.elements.length);
        }
        addElement(group, pending[j], lane as string, sequenceNumber, t, j);
      }
    }
    if (clamped) clampedRecords++;
  }

  if (lane !== undefined) lastSequenceByLane.set(lane, laneLast);
  flushShard();

  const partials = new Map<string, SlicePartial>();
  for (const group of order) {
    flushLane(group);
    const accs: Record<string, unknown> = {};
    for (let a = 0; a < nAgg; a++) {
      accs[definition.aggregateNames[a] as string] = (aggregates[a] as AnyAggregate).seal(
        group.works[a],
      );
    }
    partials.set(partialKey(group.key, group.sliceStart), {
      key: group.key,
      sliceStart: group.sliceStart,
      sliceEnd: group.sliceEnd,
      late: group.late,
      lateElements: group.lateElements,
      count: group.count,
      lanes: group.lanes,
      firstSequenceByLane: group.firstSequenceByLane,
      elements: group.elements,
      elementLanes: group.elementLanes,
      elementSequences: group.elementSequences,
      elementTimes: group.elementTimes,
      elementOrdinals: group.elementOrdinals,
      accs,
    });
  }
  const sessions = new Map<string, SessionPartial>();
  if (isSession) {
    for (const [key, group] of sessionGroups) {
      flushLane(group);
      sessions.set(key, {
        key: group.key,
        count: group.count,
        lanes: group.lanes,
        firstSequenceByLane: group.firstSequenceByLane,
        elements: group.elements,
        elementLanes: group.elementLanes,
        elementSequences: group.elementSequences,
        elementTimes: group.elementTimes,
        elementOrdinals: group.elementOrdinals,
        sessions: foldSessions(
          aggregates,
          definition.aggregateNames,
          (assigner as { readonly gapMs: number }).gapMs,
          group.elementTimes,
          group.values,
        ),
      });
    }
  }
  return {
    pipeline: definition.name,
    recordCount: records.length,
    failures,
    partials,
    sessions,
    outputs: [],
    maxEventTimeByShard,
    clampedRecords,
    elementCounts,
    lastSequenceByLane,
    lastPositionByShard: positions.done(),
  };
};

function addElement(
  group: Group,
  element: unknown,
  lane: string,
  sequenceNumber: string,
  t: number,
  ordinal: number,
): void {
  group.count++;
  group.elements.push(element);
  group.elementLanes.push(lane);
  group.elementSequences.push(sequenceNumber);
  group.elementTimes.push(t);
  group.elementOrdinals.push(ordinal);
  if (lane === group.lane) {
    if (isAfter(sequenceNumber, group.laneLast)) group.laneLast = sequenceNumber;
    else if (isAfter(group.laneFirst, sequenceNumber)) group.laneFirst = sequenceNumber;
    return;
  }
  flushLane(group);
  const last = group.lanes.get(lane);
  const first = group.firstSequenceByLane.get(lane);
  group.lane = lane;
  group.laneLast = last === undefined || isAfter(sequenceNumber, last) ? sequenceNumber : last;
  group.laneFirst = first === undefined || isAfter(first, sequenceNumber) ? sequenceNumber : first;
}

/** Writes the group's cached lane minimum and maximum back to its maps. */
function flushLane(group: Group): void {
  if (group.lane === undefined) return;
  group.lanes.set(group.lane, group.laneLast);
  group.firstSequenceByLane.set(group.lane, group.laneFirst);
}

/**
 * Forms the sessions of one key from its elements' times and extracted values (`names.length`
 * per element): sorted by time, an element at most `gapMs` after the current session's last
 * event extends it.
 */
export function foldSessions(
  aggregates: readonly AnyAggregate[],
  names: readonly string[],
  gapMs: number,
  times: readonly number[],
  values: readonly unknown[],
): Session<Accumulators>[] {
  const nAgg = aggregates.length;
  const order = times.map((_, i) => i).sort((x, y) => (times[x] as number) - (times[y] as number));
  const sessions: Session<Accumulators>[] = [];
  let start = 0;
  let end = Number.NEGATIVE_INFINITY;
  let works: unknown[] | undefined;
  const close = (): void => {
    if (works === undefined) return;
    const accs: Record<string, unknown> = {};
    for (let a = 0; a < nAgg; a++)
      accs[names[a] as string] = (aggregates[a] as AnyAggregate).seal(works[a]);
    sessions.push({ start, end, acc: accs });
  };
  for (const i of order) {
    const t = times[i] as number;
    if (works === undefined || t > end) {
      close();
      start = t;
      end = t + gapMs;
      works = aggregates.map((aggregate) => aggregate.init());
    } else if (t + gapMs > end) {
      end = t + gapMs;
    }
    for (let a = 0; a < nAgg; a++) {
      works[a] = (aggregates[a] as AnyAggregate).add(works[a], values[i * nAgg + a]);
    }
  }
  close();
  return sessions;
}

/**
 * Plans one Kinesis batch without I/O: decodes and validates every record, runs the pipeline's
 * transform, and pre-aggregates per (key, slice) — one entry per touched (key, slice) however
 * many records — or per key's sessions, or lists a stateless pipeline's outputs in input order.
 * A record that fails (decode, schema, event time, key, value, user function, lateness) never
 * fails the batch: it is listed in `failures` for the failure sink; a record's elements are
 * applied all or none (except LATE elements, dropped one by one).
 *
 * @param definition - the pipeline
 * @param records - the batch (`KinesisStreamEvent['Records']`)
 * @param options - lanes, current watermark, previous per-shard max event time
 * @example
 * ```ts
 * const plan = preAggregate(pageViews, event.Records, { laneOf: 'shard', watermark });
 * for (const partial of plan.partials.values()) await store.apply(partial);
 * await failureSink.send(plan.failures);
 * ```
 */
export const preAggregate = (
  definition: PipelineDefinition,
  records: readonly KinesisStreamRecord[],
  options: PreAggregateOptions = {},
): BatchPlan =>
  definition.kind === PIPELINE_KIND.STATELESS
    ? planStateless(definition, records, options)
    : planWindowed(definition, records, options);
