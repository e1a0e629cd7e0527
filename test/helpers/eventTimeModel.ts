/**
 * A reference model of shardflow's event-time rules, written from docs/architecture.md ("Event
 * time") and nothing else: it never calls the code under test. Fed the events and the delivery
 * log (which invocation started when, with which records and clock, and whether it succeeded),
 * it bounds the committed watermark at every step of the log and judges, element by element,
 * whether counting or refusing it was allowed:
 *
 * - a shard's event clock is the max of min(event time, arrival) over its elements;
 * - the pipeline watermark is the min over active shards' clocks, minus the max out-of-orderness;
 *   a shard is idle when silent (no record with elements) for longer than the idle timeout and read
 *   to its last record that arrived more than 5 s ago; shards without a clock do not count, unless
 *   they are behind (then they hold it at the committed watermark); a parent whose child reported is
 *   never behind; when every shard with a clock is idle, each clock runs
 *   on with processing time and the furthest counts; an open shard that has not reported and
 *   holds records holds it at the committed watermark; never below the committed watermark;
 * - every handler and sweep commits the watermark it read, rounded down to the commit granularity
 *   (closers may commit more, never above the watermark they read);
 * - sliced windows: an element is LATE iff its slice (the first window holding it) ended at or
 *   before the committed watermark when its batch wrote it, EXPIRED iff that end plus the
 *   retention is at or before the committed watermark the batch read;
 * - sessions: an element is LATE iff its gap interval touches a closed session, or the session it
 *   would be part of ends at or before the committed watermark; EXPIRED iff its own gap end plus
 *   the retention is at or before the committed watermark read.
 *
 * Under crashes, retries and concurrency the exact moment of each decision is not knowable from
 * outside, so the model keeps, at every step, a lower and an upper bound of the committed
 * watermark: the lower from what surely happened (invocations that succeeded), the upper from
 * what may have happened (invocations that started). A decision is wrong when no watermark within
 * the bounds allows it. With sequential delivery and no crash the bounds meet.
 */

/** An element of a record, after the pipeline's filter and fan-out. */
export interface ModelElement {
  /** Event time, epoch ms. */
  readonly t: number;
  /** Aggregation key. */
  readonly key: string;
}

/** A record of a shard, in sequence order. */
export interface ModelRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Arrival in Kinesis, epoch ms. */
  readonly arrival: number;
  /** Elements that reach the window (none when filtered out). */
  readonly elements: readonly ModelElement[];
}

/** One shard of the input stream. */
export interface ModelShard {
  readonly shardId: string;
  readonly records: readonly ModelRecord[];
  /** Listed by `ListShards` as open (a parent closed by a reshard is not). */
  readonly open: boolean;
  /** The shards it was split or merged from (it is listed with them). */
  readonly parents: readonly string[];
}

/**
 * A silent shard whose first unread record arrived less than this long ago keeps up (the
 * documented 5 s).
 */
const PROBE_FRESHNESS_MS = 5_000;

/** The pipeline's event-time settings. */
export interface ModelPipeline {
  readonly window:
    | { readonly kind: 'sliced'; readonly slideMs: number; readonly sizeMs: number }
    | { readonly kind: 'session'; readonly gapMs: number };
  readonly maxOutOfOrderness: number;
  readonly idleTimeout: number;
  readonly retentionMs: number;
  /** What handlers and sweeps round the committed watermark down to. */
  readonly commitGranularityMs: number;
  /** The watermark waits for open shards that have not reported (TRIM_HORIZON, lister given). */
  readonly waitsForUnreported: boolean;
}

/** One entry of the delivery log, in the order things happened. */
export type LogEntry =
  | {
      readonly type: 'start';
      readonly invocation: number;
      readonly kind: 'batch' | 'sweep';
      /** Records of the batch (`shardId:sequenceNumber`); none for a sweep. */
      readonly records: readonly string[];
      /** The invocation's clock. */
      readonly clock: number;
    }
  | { readonly type: 'end'; readonly invocation: number; readonly ok: boolean };

/** The committed watermark's bounds just before / just after a log entry. */
interface Bounds {
  readonly lo: number;
  readonly hi: number;
}

/** What was decided for an element, as read off the outputs and the failure stream. */
export type Decision = 'counted' | 'LATE' | 'EXPIRED';

/** A decision no watermark within the bounds allows. */
export interface Violation {
  readonly element: string;
  readonly decision: Decision;
  readonly why: string;
}

const NONE = Number.NEGATIVE_INFINITY;

interface Invocation {
  readonly index: number;
  readonly kind: 'batch' | 'sweep';
  readonly shardId: string | undefined;
  readonly records: readonly ModelRecord[];
  readonly clock: number;
  readonly start: number;
  end: number | undefined;
  ok: boolean;
}

type ShardState =
  | { readonly state: 'absent' }
  | { readonly state: 'pending' }
  | { readonly state: 'no-clock' }
  | { readonly state: 'idle'; readonly clock: number; readonly processedAt: number }
  | { readonly state: 'active'; readonly clock: number };

/** The model of one run: build it with the shards and the log, then ask it. */
export class EventTimeModel {
  readonly #pipeline: ModelPipeline;
  readonly #shards: readonly ModelShard[];
  readonly #records = new Map<string, ModelRecord>();
  readonly #invocations: Invocation[] = [];
  /** Committed watermark bounds after each log entry (index i: after entry i). */
  readonly #after: Bounds[] = [];

  constructor(pipeline: ModelPipeline, shards: readonly ModelShard[], log: readonly LogEntry[]) {
    this.#pipeline = pipeline;
    this.#shards = shards;
    for (const shard of shards) {
      for (const record of shard.records)
        this.#records.set(`${record.shardId}:${record.sequenceNumber}`, record);
    }
    const open = new Map<number, Invocation>();
    log.forEach((entry, i) => {
      if (entry.type === 'start') {
        const records = entry.records.map((id) => {
          const record = this.#records.get(id);
          if (record === undefined) throw new Error(`log names unknown record ${id}`);
          return record;
        });
        const invocation: Invocation = {
          index: entry.invocation,
          kind: entry.kind,
          shardId: records[0]?.shardId,
          records,
          clock: entry.clock,
          start: i,
          end: undefined,
          ok: false,
        };
        open.set(entry.invocation, invocation);
        this.#invocations.push(invocation);
      } else {
        const invocation = open.get(entry.invocation);
        if (invocation === undefined) throw new Error(`log ends ${entry.invocation} unstarted`);
        invocation.end = i;
        invocation.ok = entry.ok;
        open.delete(entry.invocation);
      }
    });
    for (const invocation of open.values()) invocation.end = log.length;
    this.#replay(log.length);
  }

  /** The committed watermark's bounds after log entry `i` (before everything: `i = -1`). */
  committedAfter(i: number): Bounds {
    return this.#after[i] ?? { lo: NONE, hi: NONE };
  }

  /**
   * Judges every element: `decisions` maps `shardId:sequenceNumber:ordinal` to what the run
   * decided (elements of valid records only). Returns the decisions no bounded watermark allows.
   *
   * @param closedSessions - sessions pipelines: the final sessions emitted, per key
   */
  judge(
    decisions: ReadonlyMap<string, Decision>,
    closedSessions: ReadonlyMap<string, ReadonlyArray<{ start: number; end: number }>> = new Map(),
  ): Violation[] {
    const violations: Violation[] = [];
    const { window, retentionMs } = this.#pipeline;
    const counted = new Map<string, number[]>();
    // Counted elements with the end of their last attempt: surely stored after it.
    const storedAt = new Map<string, Array<{ t: number; at: number }>>();
    for (const [id, decision] of decisions) {
      if (decision !== 'counted') continue;
      const element = this.#element(id);
      const list = counted.get(element.key) ?? [];
      list.push(element.t);
      counted.set(element.key, list);
      const at = Math.max(...this.#attemptsOf(id).map((a) => a.end ?? a.start));
      const stored = storedAt.get(element.key) ?? [];
      stored.push({ t: element.t, at });
      storedAt.set(element.key, stored);
    }
    for (const [id, decision] of decisions) {
      const element = this.#element(id);
      const attempts = this.#attemptsOf(id);
      if (attempts.length === 0) {
        violations.push({ element: id, decision, why: 'never delivered' });
        continue;
      }
      // Decided no earlier than the first attempt started, no later than the last one ended — and
      // within an attempt, before that attempt wrote its own shard row (slice and session writes
      // come first): its own records never moved the watermark it was judged against.
      const firstStart = Math.min(...attempts.map((a) => a.start));
      const early = this.committedAfter(firstStart - 1).lo;
      const late = Math.max(...attempts.map((a) => this.#highestWithout(a)));
      // The end the rules compare with the committed watermark, and what the element's own
      // expiry is judged by.
      let end: number;
      let own: number;
      if (window.kind === 'sliced') {
        end = Math.floor(element.t / window.slideMs) * window.slideMs + window.slideMs;
        own = end;
      } else {
        own = element.t + window.gapMs;
        // The session it would be part of, with every counted element of its key: an upper bound
        // of the session it joined (sessions only grow), a lower bound of nothing useful.
        end = sessionEndWith(counted.get(element.key) ?? [], element.t, window.gapMs);
      }
      if (own + retentionMs <= early && decision !== 'EXPIRED') {
        violations.push({
          element: id,
          decision,
          why: `its window ended ${own} + retention ≤ committed watermark ${early} before it arrived: must be EXPIRED`,
        });
        continue;
      }
      if (decision === 'EXPIRED') {
        if (!(own + retentionMs <= late))
          violations.push({
            element: id,
            decision,
            why: `EXPIRED, but ${own} + retention > the highest committed watermark possible (${late})`,
          });
        continue;
      }
      if (decision === 'LATE') {
        const touchesClosed = (closedSessions.get(element.key) ?? []).some(
          (s) =>
            window.kind === 'session' &&
            s.start <= element.t + window.gapMs &&
            element.t <= s.end &&
            s.end <= late,
        );
        // Sessions: the session it would have joined holds at least the counted elements of its
        // key stored before its first attempt (sessions only grow): it must end by `late`.
        const joined = sessionEndWith(
          (storedAt.get(element.key) ?? []).filter((x) => x.at < firstStart).map((x) => x.t),
          element.t,
          window.kind === 'session' ? window.gapMs : 0,
        );
        const behind = window.kind === 'sliced' ? end <= late : joined <= late;
        if (!behind && !touchesClosed)
          violations.push({
            element: id,
            decision,
            why: `LATE, but its ${window.kind === 'sliced' ? 'window' : 'session'} ends at ${window.kind === 'sliced' ? end : joined}, after the highest committed watermark possible (${late}), and it touches no closed session`,
          });
        continue;
      }
      // counted
      if (end <= early)
        violations.push({
          element: id,
          decision,
          why: `counted, but its ${window.kind === 'sliced' ? 'window' : 'session'} ends at ${end}, at or before the committed watermark ${early} it surely met`,
        });
    }
    return violations;
  }

  /** The invocations whose batch held the element's record. */
  #attemptsOf(id: string): Invocation[] {
    const recordId = id.slice(0, id.lastIndexOf(':'));
    return this.#invocations.filter((inv) =>
      inv.records.some((r) => `${r.shardId}:${r.sequenceNumber}` === recordId),
    );
  }

  readonly #without = new Map<Invocation, number>();

  /**
   * The highest committed watermark possible by the end of `attempt`, had `attempt` itself written
   * no shard row (it writes its row only after its state writes, so its own records cannot make
   * its own elements late).
   */
  #highestWithout(attempt: Invocation): number {
    const cached = this.#without.get(attempt);
    if (cached !== undefined) return cached;
    const until = attempt.end ?? attempt.start;
    let hi = NONE;
    for (let i = 0; i <= until && i < this.#after.length; i++) {
      const running = this.#invocations.filter((inv) => inv.start <= i);
      if (running.length === 0) continue;
      const now = Math.max(...running.map((inv) => inv.clock));
      hi = Math.max(hi, this.#watermark('hi', i, now, hi, undefined, attempt));
    }
    const result = Math.max(hi, this.committedAfter(until - 1).lo);
    this.#without.set(attempt, result);
    return result;
  }

  #element(id: string): ModelElement {
    const cut = id.lastIndexOf(':');
    const record = this.#records.get(id.slice(0, cut));
    const element = record?.elements[Number(id.slice(cut + 1))];
    if (element === undefined) throw new Error(`unknown element ${id}`);
    return element;
  }

  /** Computes the committed watermark bounds after each of the first `n` log entries. */
  #replay(n: number): void {
    let lo = NONE;
    let hi = NONE;
    for (let i = 0; i < n; i++) {
      // Upper bound: any invocation running may read, then commit, the highest watermark the
      // world as it may be allows, at the latest clock seen so far.
      const running = this.#invocations.filter((inv) => inv.start <= i);
      if (running.length > 0) {
        const now = Math.max(...running.map((inv) => inv.clock));
        hi = Math.max(hi, this.#watermark('hi', i, now, hi, undefined));
      }
      // Lower bound: an invocation that succeeded surely committed (at least) the watermark it
      // read, rounded down; what it read is at least the lowest the world allowed then.
      const ended = this.#invocations.find((inv) => inv.end === i && inv.ok);
      if (ended !== undefined) {
        const read = this.#watermark('lo', i, ended.clock, lo, ended);
        if (Number.isFinite(read)) lo = Math.max(lo, this.#floor(read));
      }
      this.#after[i] = { lo, hi: Math.max(hi, lo) };
    }
  }

  #floor(w: number): number {
    const g = this.#pipeline.commitGranularityMs;
    return w - (((w % g) + g) % g);
  }

  /**
   * The highest (`hi`) or lowest (`lo`) watermark a read could return at log entry `i` with clock
   * `now`, given the committed bound `committed`. For `lo`, `reader` is the invocation that read:
   * what surely happened is what ended before it started, and its own batch.
   */
  #watermark(
    bound: 'hi' | 'lo',
    i: number,
    now: number,
    committed: number,
    reader: Invocation | undefined,
    exclude?: Invocation,
  ): number {
    const { maxOutOfOrderness, idleTimeout } = this.#pipeline;
    const choices = this.#shards.map((shard) =>
      this.#states(shard, bound, i, now, reader, exclude),
    );
    let best = bound === 'hi' ? NONE : Number.POSITIVE_INFINITY;
    const visit = (k: number, picked: ShardState[]): void => {
      if (k === choices.length) {
        let w: number;
        const clocks = picked.filter((s) => s.state === 'idle' || s.state === 'active');
        const active = picked.filter((s) => s.state === 'active') as Array<{ clock: number }>;
        if (picked.some((s) => s.state === 'pending')) w = committed;
        else if (active.length > 0) w = Math.min(...active.map((s) => s.clock)) - maxOutOfOrderness;
        else if (clocks.length > 0)
          w =
            Math.max(
              ...(clocks as Array<{ clock: number; processedAt: number }>).map(
                (s) => s.clock + (now - s.processedAt),
              ),
            ) - maxOutOfOrderness;
        else w = committed;
        w = Math.max(w, committed);
        best = bound === 'hi' ? Math.max(best, w) : Math.min(best, w);
        return;
      }
      for (const state of choices[k] as ShardState[]) visit(k + 1, [...picked, state]);
    };
    void idleTimeout;
    visit(0, []);
    return best;
  }

  /** The states a shard's row may be in at entry `i`, with the values that bound the watermark. */
  #states(
    shard: ModelShard,
    bound: 'hi' | 'lo',
    i: number,
    now: number,
    reader: Invocation | undefined,
    exclude?: Invocation,
  ): ShardState[] {
    const horizon = reader === undefined ? i : (reader.end ?? i);
    const startedOf = (shardId: string) =>
      this.#invocations.filter(
        (inv) =>
          inv !== exclude &&
          inv.kind === 'batch' &&
          inv.shardId === shardId &&
          inv.start <= horizon,
      );
    const doneOf = (shardId: string) =>
      this.#invocations.filter(
        (inv) =>
          inv !== exclude &&
          inv.kind === 'batch' &&
          inv.shardId === shardId &&
          ((inv.ok && inv.end !== undefined && reader !== undefined && inv.end < reader.start) ||
            (inv.ok && inv.end !== undefined && reader === undefined && inv.end <= i) ||
            inv === reader),
      );
    // Started by now (may have written), and surely done (wrote everything).
    const started = startedOf(shard.shardId);
    const done = doneOf(shard.shardId);
    // A parent is read to its end before its children start: once one of them has reported, it is
    // caught up (never behind, whatever its probe answers).
    const children = this.#shards.filter((c) => c.parents.includes(shard.shardId));
    const finished = children.some((c) => startedOf(c.shardId).length > 0);
    const clockOf = (records: readonly ModelRecord[]): number | undefined => {
      let max: number | undefined;
      for (const r of records)
        for (const e of r.elements) {
          const c = Math.min(e.t, r.arrival);
          if (max === undefined || c > max) max = c;
        }
      return max;
    };
    const maxOf = (values: Array<number | undefined>): number | undefined => {
      const defined = values.filter((v): v is number => v !== undefined);
      return defined.length === 0 ? undefined : Math.max(...defined);
    };
    const minOf = (values: Array<number | undefined>): number | undefined => {
      const defined = values.filter((v): v is number => v !== undefined);
      return defined.length === 0 ? undefined : Math.min(...defined);
    };
    const clockHi = maxOf(started.map((inv) => clockOf(inv.records)));
    const clockDone = maxOf(done.map((inv) => clockOf(inv.records)));
    const clockLo = clockDone ?? minOf(started.map((inv) => clockOf(inv.records)));
    const rowSurely = done.length > 0;
    const rowPossibly = started.length > 0;
    // processedAt: the last batch with elements (an element-less batch only sets it when the row
    // has none): at least the latest surely-done element batch, at most the latest clock at all.
    const elementBatches = done.filter((inv) => clockOf(inv.records) !== undefined);
    const processedLo =
      elementBatches.length > 0
        ? Math.max(...elementBatches.map((inv) => inv.clock))
        : started.length > 0
          ? Math.min(...started.map((inv) => inv.clock))
          : NONE;
    const processedHi = started.length > 0 ? Math.max(...started.map((inv) => inv.clock)) : NONE;
    // Caught up: every record that arrived more than PROBE_FRESHNESS_MS ago was read (the first
    // unread one, if any, is fresh); Kinesis shows no record that has not arrived yet.
    const stale = shard.records.filter((r) => r.arrival < now - PROBE_FRESHNESS_MS);
    const last = stale.at(-1);
    const reads = (inv: Invocation) =>
      last !== undefined &&
      inv.records.some((r) => BigInt(r.sequenceNumber) >= BigInt(last.sequenceNumber));
    const caughtUpSurely = finished || last === undefined || done.some(reads);
    const caughtUpPossibly = finished || last === undefined || started.some(reads);
    const { idleTimeout } = this.#pipeline;
    const silentPossibly = now - processedLo > idleTimeout;
    const idlePossible = silentPossibly && caughtUpPossibly;
    const activePossible = now - processedHi <= idleTimeout || !caughtUpSurely;

    const states: ShardState[] = [];
    if (!rowSurely) {
      const arrived = shard.records.some((r) => r.arrival <= now);
      const pending = this.#pipeline.waitsForUnreported && shard.open && arrived;
      states.push(pending ? { state: 'pending' } : { state: 'absent' });
    }
    if (rowPossibly && clockDone === undefined) {
      states.push({ state: 'no-clock' });
      // A shard without a clock that is behind holds the watermark at the committed one.
      if (silentPossibly && !caughtUpSurely) states.push({ state: 'pending' });
    }
    const clock = bound === 'hi' ? clockHi : clockLo;
    if (clock !== undefined) {
      if (idlePossible)
        states.push({
          state: 'idle',
          clock,
          processedAt: bound === 'hi' ? processedLo : processedHi,
        });
      if (activePossible) states.push({ state: 'active', clock });
    }
    return states;
  }
}

/**
 * The end of the session that holds `t` when the sessions of `times ∪ {t}` are formed (sorted,
 * split where the next time is more than `gapMs` after the previous).
 */
function sessionEndWith(times: readonly number[], t: number, gapMs: number): number {
  const sorted = [...times, t].sort((a, b) => a - b);
  let end = Number.NEGATIVE_INFINITY;
  let holds = false;
  for (const x of sorted) {
    if (x > end) {
      if (holds) return end;
      end = x + gapMs;
    } else end = Math.max(end, x + gapMs);
    if (x === t) holds = true;
  }
  return end;
}
