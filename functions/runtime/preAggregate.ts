import type { KinesisStreamRecord } from 'aws-lambda';
import { withoutLeadingZeros } from '#commons/compareSequenceNumbers';
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
  RecordSchema,
  Session,
  SessionPartial,
  SlicedWindowAssigner,
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
  readonly elementRecords: number[];
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

/**
 * The state of one {@link planWindowed} call, handed to each of its steps: what the definition
 * and options resolve to, the plan being built, the scratch space of the current record and the
 * cursors of the current lane and shard. One object per batch; the per-record steps only
 * overwrite its fields, so the loop allocates nothing the plan does not keep.
 */
class WindowedPlan {
  readonly definition: WindowedPipelineDefinition<unknown, unknown>;
  readonly laneOf: (meta: RecordMeta) => string;
  /** With lane = shard (the default), a record's shard changes exactly when its lane does. */
  readonly laneIsShard: boolean;
  readonly maxFutureSkewMs: number;
  readonly transform: WindowedPipelineDefinition['transform'];
  readonly keyBy: WindowedPipelineDefinition['keyBy'];
  readonly eventTime: WindowedPipelineDefinition['eventTime'];
  readonly aggregates: readonly AnyAggregate[];
  readonly nAgg: number;
  /** The slice assigner; `undefined` for session windows. */
  readonly sliced: SlicedWindowAssigner | undefined;
  readonly schema: RecordSchema;

  readonly failures: RecordFailure[] = [];
  readonly lastSequenceByLane = new Map<string, string>();
  readonly positions = new ShardPositions();
  readonly maxEventTimeByShard = new Map<string, number>();
  readonly elementCounts = new Map<number, number>();
  /** Index in the batch of the record being folded. */
  recordIndex = 0;
  clampedRecords = 0;
  readonly runningMax: Map<string, number>;
  // Slice groups by key, then by slice start (a key touches one or two slices per batch): no
  // `${key}${sliceStart}` string is built per element; `order` keeps first-touch order.
  readonly slicesByKey = new Map<string, SliceGroup[]>();
  readonly order: SliceGroup[] = [];
  readonly sessionGroups = new Map<string, SessionGroup>();

  // Scratch space reused across records: the elements of one record (the first `pendingCount`
  // of `pending`) and what was derived from them.
  readonly pending: unknown[] = [];
  pendingCount = 0;
  readonly keys: string[] = [];
  readonly times: number[] = [];
  readonly values: unknown[] = [];
  /** The current record's arrival time (epoch ms, 0 when absent). */
  arrival = 0;
  /** Whether an element of the current record had its clock held back to the arrival time. */
  clamped = false;
  /** The transform's sink: appends to `pending`. */
  readonly push = (element: unknown): void => {
    this.pending[this.pendingCount++] = element;
  };

  // The current lane's last sequence number and the current shard's maxima live in fields while
  // consecutive records share them (a Lambda batch holds one shard): each record would otherwise
  // cost map lookups by a string the record has just built. The maps are written when the lane or
  // shard changes and at the end. The lane's string object is reused for every record of it, so
  // later comparisons of lanes are pointer comparisons.
  lane: string | undefined = undefined;
  laneLast = '';
  shard: string | undefined = undefined;
  shardMax: number | undefined = undefined;
  running = Number.NEGATIVE_INFINITY;
  // The last shard id read from an `eventID`: a record whose `eventID` starts with it (and a
  // colon) reuses this very string object instead of slicing its own.
  lastShardId: string | undefined = undefined;

  constructor(
    definition: WindowedPipelineDefinition<unknown, unknown>,
    options: PreAggregateOptions,
  ) {
    this.definition = definition;
    this.laneOf = laneFunction(options.laneOf);
    this.laneIsShard = options.laneOf === undefined || options.laneOf === LANE_MODE.SHARD;
    this.maxFutureSkewMs = options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
    const { assigner, keyBy, eventTime, transform } = definition;
    this.transform = transform;
    this.keyBy = keyBy;
    this.eventTime = eventTime;
    this.aggregates = definition.aggregateNames.map(
      (name) => definition.aggregates[name] as AnyAggregate,
    );
    this.nAgg = this.aggregates.length;
    this.runningMax = new Map<string, number>(options.maxEventTimeByShard ?? []);
    this.sliced = assigner.kind === WINDOW_KIND.SESSION ? undefined : assigner;
    this.schema = compiledSchema(definition.schema);
  }
}

/**
 * Lane tracking: the shard id of a record's `eventID`, reusing the string object of the previous
 * record's shard when the `eventID` starts with it.
 */
function shardOf(plan: WindowedPlan, eventId: unknown): string {
  const last = plan.lastShardId;
  if (
    last !== undefined &&
    typeof eventId === 'string' &&
    eventId.startsWith(last) &&
    (eventId.length === last.length || eventId.charCodeAt(last.length) === COLON)
  ) {
    return last;
  }
  const shardId = shardIdOf(eventId);
  plan.lastShardId = shardId;
  return shardId;
}

/** Lane tracking: notes a record's shard position and its lane's highest sequence number. */
function trackLane(
  plan: WindowedPlan,
  record: KinesisStreamRecord,
  shardId: string,
  sequenceNumber: string,
): void {
  plan.positions.note(shardId, sequenceNumber, record?.eventSourceARN);
  // Only a lane other than the shard needs the record's whole meta.
  const recordLane = plan.laneIsShard ? shardId : plan.laneOf(recordMeta(record));
  if (recordLane === plan.lane) {
    if (isAfter(sequenceNumber, plan.laneLast)) plan.laneLast = sequenceNumber;
    return;
  }
  if (plan.lane !== undefined) plan.lastSequenceByLane.set(plan.lane, plan.laneLast);
  const last = plan.lastSequenceByLane.get(recordLane);
  plan.lane = recordLane;
  plan.laneLast = last === undefined || isAfter(sequenceNumber, last) ? sequenceNumber : last;
}

/**
 * Element derivation: decodes a record and derives key, event time and aggregate values of every
 * element it transforms into (`pending`, `keys`, `times`, `values`). Any problem fails the whole
 * record: it is listed in `failures` and `false` returned.
 */
function deriveRecord(
  plan: WindowedPlan,
  record: KinesisStreamRecord,
  kinesis: KinesisStreamRecord['kinesis'],
): boolean {
  const decoded = decodeData(kinesis?.data, plan.schema);
  if (!decoded.ok) {
    plan.failures.push(failure(record, recordMeta(record), decoded.reason, decoded.detail));
    return false;
  }
  const arrivalSeconds = kinesis.approximateArrivalTimestamp;
  plan.arrival = typeof arrivalSeconds === 'number' ? Math.round(arrivalSeconds * 1000) : 0;
  plan.pendingCount = 0;
  try {
    deriveElements(plan, decoded.value);
  } catch (error) {
    if (!(error instanceof RecordRejection)) throw error;
    plan.failures.push(failure(record, recordMeta(record), error.reason, error.detail));
    return false;
  }
  return true;
}

/** Element derivation: runs the transform (filter/map/flatMap) and derives each element. */
function deriveElements(plan: WindowedPlan, value: unknown): void {
  const transform = plan.transform;
  try {
    transform(value, plan.push);
  } catch (error) {
    throw new RecordRejection(FAILURE_REASON.TRANSFORM_ERROR, describe(error));
  }
  for (let j = 0; j < plan.pendingCount; j++) deriveElement(plan, j);
}

/** Element validation: the key, event time and aggregate values of element `j`. */
function deriveElement(plan: WindowedPlan, j: number): void {
  const element = plan.pending[j];
  const { keyBy, eventTime } = plan;
  let key: unknown;
  let rawTime: unknown;
  try {
    key = keyBy(element);
    rawTime = eventTime === undefined ? plan.arrival : eventTime(element);
  } catch (error) {
    throw new RecordRejection(FAILURE_REASON.TRANSFORM_ERROR, describe(error));
  }
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new RecordRejection(
      FAILURE_REASON.BAD_KEY,
      `keyBy must return a string of 1..${MAX_KEY_LENGTH} characters, got ${String(key).slice(0, 300)}`,
    );
  }
  const t = checkedEventTime(plan, rawTime);
  plan.keys[j] = key;
  plan.times[j] = t;
  extractValues(plan, element, j);
}

/** Event time checks: parses an element's event time and refuses one far ahead of arrival. */
function checkedEventTime(plan: WindowedPlan, rawTime: unknown): number {
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
  const arrival = plan.arrival;
  if (plan.eventTime !== undefined && arrival > 0 && t > arrival + plan.maxFutureSkewMs) {
    throw new RecordRejection(
      FAILURE_REASON.FUTURE_EVENT_TIME,
      `event time ${new Date(t).toISOString()} is more than ${plan.maxFutureSkewMs} ms after arrival ${new Date(arrival).toISOString()}`,
    );
  }
  return t;
}

/** Element validation: each aggregate's value of element `j`, into `values`. */
function extractValues(plan: WindowedPlan, element: unknown, j: number): void {
  const { aggregates, nAgg, values } = plan;
  for (let a = 0; a < nAgg; a++) {
    try {
      values[j * nAgg + a] = (aggregates[a] as AnyAggregate).value(element);
    } catch (error) {
      if (error instanceof AggregateValueError) {
        throw new RecordRejection(
          FAILURE_REASON.BAD_VALUE,
          `${plan.definition.aggregateNames[a]}: ${error.message}`,
        );
      }
      throw new RecordRejection(FAILURE_REASON.TRANSFORM_ERROR, describe(error));
    }
  }
}

/** Applies a derived record: every element lands in one slice (or the key's session group). */
function foldRecord(plan: WindowedPlan, shardId: string, sequenceNumber: string): void {
  const n = plan.pendingCount;
  plan.clamped = false;
  if (n !== 1) plan.elementCounts.set(plan.recordIndex, n);
  enterShard(plan, shardId);
  const sliced = plan.sliced;
  for (let j = 0; j < n; j++) {
    const t = plan.times[j] as number;
    const before = advanceClock(plan, t);
    if (sliced === undefined) foldSession(plan, j, t, sequenceNumber);
    else foldSlice(plan, sliced, j, t, before, sequenceNumber);
  }
  if (plan.clamped) plan.clampedRecords++;
}

/** Lane tracking: makes `shardId` the current shard, writing back the previous one's maxima. */
function enterShard(plan: WindowedPlan, shardId: string): void {
  // `shardId` is the reused string object of the batch's shard: usually the very object `shard`
  // holds, so the comparison is a pointer comparison.
  if (shardId === plan.shard) return;
  flushShard(plan);
  plan.shard = shardId;
  plan.shardMax = plan.maxEventTimeByShard.get(shardId);
  plan.running = plan.runningMax.get(shardId) ?? Number.NEGATIVE_INFINITY;
}

/**
 * Lane tracking: moves the current shard's event clock by an element's time, but never past its
 * record's arrival. Returns the shard's running maximum before the element.
 */
function advanceClock(plan: WindowedPlan, t: number): number {
  const clock = watermarkTime(t, plan.arrival);
  if (clock < t) plan.clamped = true;
  if (plan.shardMax === undefined || clock > plan.shardMax) plan.shardMax = clock;
  const before = plan.running;
  if (clock > before) plan.running = clock;
  return before;
}

/** Writes the current shard's cached maxima back to their maps. */
function flushShard(plan: WindowedPlan): void {
  if (plan.shard === undefined) return;
  if (plan.shardMax !== undefined) plan.maxEventTimeByShard.set(plan.shard, plan.shardMax);
  if (plan.running !== Number.NEGATIVE_INFINITY) plan.runningMax.set(plan.shard, plan.running);
}

/** Slice folding: adds element `j` to its (key, slice) group; late if the slice had ended. */
function foldSlice(
  plan: WindowedPlan,
  sliced: SlicedWindowAssigner,
  j: number,
  t: number,
  before: number,
  sequenceNumber: string,
): void {
  const key = plan.keys[j] as string;
  const sliceStart = sliced.sliceOf(t);
  const group = sliceGroupOf(plan, sliced, key, sliceStart);
  const { aggregates, nAgg, values } = plan;
  const works = group.works;
  for (let a = 0; a < nAgg; a++) {
    works[a] = (aggregates[a] as AnyAggregate).add(works[a], values[j * nAgg + a]);
  }
  if (group.sliceEnd <= before) {
    group.late++;
    group.lateElements.push(group.elements.length);
  }
  addElement(group, plan.pending[j], plan.lane as string, sequenceNumber, t, j, plan.recordIndex);
}

/** Slice folding: the group of (key, slice), created on first touch. */
function sliceGroupOf(
  plan: WindowedPlan,
  sliced: SlicedWindowAssigner,
  key: string,
  sliceStart: number,
): SliceGroup {
  let ofKey = plan.slicesByKey.get(key);
  if (ofKey === undefined) {
    ofKey = [];
    plan.slicesByKey.set(key, ofKey);
  }
  for (let g = 0; g < ofKey.length; g++) {
    if ((ofKey[g] as SliceGroup).sliceStart === sliceStart) return ofKey[g] as SliceGroup;
  }
  const group: SliceGroup = {
    key,
    sliceStart,
    sliceEnd: sliceStart + sliced.sliceMs,
    works: plan.aggregates.map((aggregate) => aggregate.init()),
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
    elementRecords: [],
    lane: undefined,
    laneLast: '',
    laneFirst: '',
  };
  ofKey.push(group);
  plan.order.push(group);
  return group;
}

/** Session folding: adds element `j` and its values to its key's group, sessions formed later. */
function foldSession(plan: WindowedPlan, j: number, t: number, sequenceNumber: string): void {
  const key = plan.keys[j] as string;
  let group = plan.sessionGroups.get(key);
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
      elementRecords: [],
      lane: undefined,
      laneLast: '',
      laneFirst: '',
      values: [],
    };
    plan.sessionGroups.set(key, group);
  }
  const { nAgg, values } = plan;
  for (let a = 0; a < nAgg; a++) group.values.push(values[j * nAgg + a]);
  addElement(group, plan.pending[j], plan.lane as string, sequenceNumber, t, j, plan.recordIndex);
}

/** Slice folding: seals every (key, slice) group into its partial, in first-touch order. */
function sealSlices(plan: WindowedPlan): Map<string, SlicePartial> {
  const { aggregates, nAgg } = plan;
  const partials = new Map<string, SlicePartial>();
  for (const group of plan.order) {
    flushLane(group);
    const accs: Record<string, unknown> = {};
    for (let a = 0; a < nAgg; a++) {
      accs[plan.definition.aggregateNames[a] as string] = (aggregates[a] as AnyAggregate).seal(
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
      elementRecords: group.elementRecords,
      accs,
    });
  }
  return partials;
}

/** Session folding: forms every key's sessions from its group, in first-touch order of keys. */
function sealSessions(plan: WindowedPlan): Map<string, SessionPartial> {
  const definition = plan.definition;
  const sessions = new Map<string, SessionPartial>();
  if (plan.sliced !== undefined) return sessions;
  for (const [key, group] of plan.sessionGroups) {
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
      elementRecords: group.elementRecords,
      sessions: foldSessions(
        plan.aggregates,
        definition.aggregateNames,
        (definition.assigner as { readonly gapMs: number }).gapMs,
        group.elementTimes,
        group.values,
      ),
    });
  }
  return sessions;
}

const planWindowed = (
  definition: WindowedPipelineDefinition<unknown, unknown>,
  records: readonly KinesisStreamRecord[],
  options: PreAggregateOptions,
): BatchPlan => {
  const plan = new WindowedPlan(definition, options);
  for (let index = 0; index < records.length; index++) {
    const record = records[index] as KinesisStreamRecord;
    plan.recordIndex = index;
    const kinesis = record?.kinesis;
    // Without leading zeros, as the stores keep fences and cursors: every comparison assumes it.
    const sequenceNumber =
      typeof kinesis?.sequenceNumber === 'string'
        ? withoutLeadingZeros(kinesis.sequenceNumber)
        : '';
    const shardId = shardOf(plan, record?.eventID);
    trackLane(plan, record, shardId, sequenceNumber);
    if (deriveRecord(plan, record, kinesis)) foldRecord(plan, shardId, sequenceNumber);
  }
  if (plan.lane !== undefined) plan.lastSequenceByLane.set(plan.lane, plan.laneLast);
  flushShard(plan);
  return {
    pipeline: definition.name,
    recordCount: records.length,
    failures: plan.failures,
    partials: sealSlices(plan),
    sessions: sealSessions(plan),
    outputs: [],
    maxEventTimeByShard: plan.maxEventTimeByShard,
    clampedRecords: plan.clampedRecords,
    elementCounts: plan.elementCounts,
    lastSequenceByLane: plan.lastSequenceByLane,
    lastPositionByShard: plan.positions.done(),
  };
};

function addElement(
  group: Group,
  element: unknown,
  lane: string,
  sequenceNumber: string,
  t: number,
  ordinal: number,
  record: number,
): void {
  group.count++;
  group.elements.push(element);
  group.elementLanes.push(lane);
  group.elementSequences.push(sequenceNumber);
  group.elementTimes.push(t);
  group.elementOrdinals.push(ordinal);
  group.elementRecords.push(record);
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
