import {
  GetItemCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { compareSequenceNumbers } from '#commons/compareSequenceNumbers';
import { num, readString, str } from '../attributes';
import { backoff } from '../backoff';
import { ATTR, MAX_TRANSACTION_BYTES, MAX_TRANSACTION_ITEMS, TABLE_KEYS } from '../constants';
import { InvalidWindowStoreInputError, WindowStateConflictError } from '../errors';
import { ExpressionBuilder } from '../expressions';
import { dueSlicesPartition, packPartition, packSortKey, padTime } from '../keys';
import { countConflict, countRead, countWrite, emptyStats } from '../requestStats';
import { normalizeSequence } from '../sequence';
import type {
  ApplyDeltasOptions,
  ApplyDeltasResult,
  RejectedDelta,
  RejectionCause,
  SliceDelta,
  WindowStoreStats,
} from '../types';
import { PACK_ATTR, PACK_KIND, type PackTable } from './PackTable';
import { type PackPlan, planPacks } from './planPacks';

/** Transaction items that are not packs: the lane row. */
const LANE_ITEMS = 1;
/** Request bytes of a transaction's keys, names and conditions per item, above its values. */
const ITEM_OVERHEAD_BYTES = 512;

/** A lane transaction's outcome. */
type Commit =
  | { readonly outcome: 'committed' }
  | { readonly outcome: 'cursor-moved'; readonly cursor: string | undefined }
  | { readonly outcome: 'sealed'; readonly slices: readonly number[] }
  | { readonly outcome: 'conflict' };

/** What the writer needs to know of the slices' seals. */
export interface SealKnowledge {
  isSealed(sliceStart: number): boolean;
  markSealed(sliceStart: number): void;
}

/**
 * Writes batches as lane packs (docs/architecture.md, "Lane packs: one batch"): per lane, the
 * records above the lane's cursor go into one pack per slice, committed with the cursor's move
 * and a "not sealed" check of each slice row in one transaction.
 */
export class LaneWriter {
  readonly #t: PackTable;
  readonly #slices: SealKnowledge;
  readonly #maxPartBytes: number;
  /** Lane → cursor this instance last wrote or read (a stale one fails the condition, and is read). */
  readonly #cursors = new Map<string, string | undefined>();

  constructor(table: PackTable, slices: SealKnowledge, maxPartBytes: number) {
    this.#t = table;
    this.#slices = slices;
    this.#maxPartBytes = maxPartBytes;
  }

  /**
   * Absorbs one batch: per lane, the records above the lane's cursor go into one pack per slice,
   * committed with the cursor's move in one transaction (several when the packs exceed a
   * transaction's 100 items or its bytes: each covers a contiguous run of the lane's records).
   * Records of a sealed slice (closed, or behind the committed watermark) are refused: reported to
   * `onRejected` before the cursor moves past them, and returned.
   *
   * @throws {WindowStateConflictError} a lane's transaction kept meeting other transactions.
   */
  async applyDeltas(
    deltas: readonly SliceDelta[],
    options: ApplyDeltasOptions = {},
  ): Promise<ApplyDeltasResult> {
    const counter = emptyStats();
    const byLane = new Map<string, SliceDelta[]>();
    for (const delta of deltas) {
      if (delta.sliceEnd <= delta.sliceStart) {
        throw new InvalidWindowStoreInputError(
          `slice end ${delta.sliceEnd} must be after its start ${delta.sliceStart}`,
          { pipeline: this.#t.pipeline, key: delta.key, sliceStart: delta.sliceStart },
        );
      }
      const list = byLane.get(delta.lane) ?? [];
      list.push(delta);
      byLane.set(delta.lane, list);
    }
    const tally = { applied: 0, rejected: [] as RejectedDelta[] };
    for (const [lane, list] of byLane) await this.#applyLane(lane, list, counter, tally, options);
    const refused = new Set(tally.rejected.map((r) => `${r.key}\u0000${r.sliceStart}`));
    return {
      ...counter,
      items: new Set(deltas.map((d) => `${d.key}\u0000${d.sliceStart}`)).size,
      applied: tally.applied,
      skipped: Math.max(0, deltas.length - tally.applied - tally.rejected.length),
      sealed: refused.size,
      rejected: tally.rejected,
    };
  }

  async #applyLane(
    lane: string,
    laneDeltas: readonly SliceDelta[],
    counter: WindowStoreStats,
    tally: { applied: number; rejected: RejectedDelta[] },
    options: ApplyDeltasOptions,
  ): Promise<void> {
    let deltas = laneDeltas.map(normalized);
    const end = deltas.reduce(
      (max, d) => (compareSequenceNumbers(d.lastSeq, max) > 0 ? d.lastSeq : max),
      (deltas[0] as SliceDelta).lastSeq,
    );
    const read = await this.#cursor(lane, counter);
    let stored = read.cursor;
    let after = stored;
    // Whether `stored` was read from the table in this call (or a commit of this call set it): a
    // cached cursor may be stale, and refusing on it could report records another instance
    // already committed.
    let confirmed = !read.cached;
    let conflicts = 0;
    /** Reports refused deltas (their records in (`from`, `upto`]) before any commit passes them. */
    const refuse = async (
      refused: readonly SliceDelta[],
      from: string | undefined,
      upto: string | undefined,
      cause: RejectionCause,
    ): Promise<void> => {
      const rejected = refused.map((d) => ({
        key: d.key,
        sliceStart: d.sliceStart,
        sliceEnd: d.sliceEnd,
        lane,
        afterSeq: from,
        ...(upto === undefined ? {} : { uptoSeq: upto }),
        cause,
      }));
      // A retry skips what is ≤ the cursor: what it would not count is reported first.
      await options.onRejected?.(rejected);
      tally.rejected.push(...rejected);
    };
    while (deltas.length > 0 && (after === undefined || compareSequenceNumbers(after, end) < 0)) {
      let upto: string | undefined;
      /** Deltas whose records in this range alone are refused (one record too large). */
      const skip = new Set<SliceDelta>();
      let plan: PackPlan;
      for (;;) {
        const live = skip.size === 0 ? deltas : deltas.filter((d) => !skip.has(d));
        plan = planPacks(live, { after, upto }, this.#maxPartBytes);
        const sealed = plan.slices.filter((s) => this.#slices.isSealed(s.sliceStart));
        const fitting = plan.tooLarge.length === 0 && fits(plan);
        if ((sealed.length > 0 || !fitting) && !confirmed) {
          // Refusing, or cutting ranges, only on a cursor read from the table (after any seal
          // known here: what was committed to a slice before its seal is visible now).
          this.#cursors.delete(lane);
          stored = (await this.#cursor(lane, counter)).cursor;
          confirmed = true;
          if (
            stored !== undefined &&
            (after === undefined || compareSequenceNumbers(stored, after) > 0)
          )
            after = stored;
          if (after !== undefined && compareSequenceNumbers(after, end) >= 0) return;
          continue;
        }
        if (sealed.length > 0) {
          // A seal is permanent: every record of these deltas above the cursor is refused, now
          // and on any retry.
          const gone = new Set(sealed.flatMap((s) => s.deltas));
          await refuse([...gone], after, undefined, 'sealed');
          deltas = deltas.filter((d) => !gone.has(d));
          continue;
        }
        if (fitting) break;
        const cut = cutPoint(live, after, upto ?? end);
        if (cut !== undefined) {
          upto = cut;
          continue;
        }
        // One record is left in the range, and its own elements are too large for one item or
        // one transaction, in whatever batch it comes: refuse those elements, keep the rest.
        const single = upto ?? end;
        const refused =
          plan.tooLarge.length > 0 ? plan.tooLarge : plan.slices.flatMap((s) => s.deltas);
        await refuse(refused, after, single, 'full');
        for (const d of refused) skip.add(d);
        upto = single;
      }
      const next = upto ?? end;
      if (plan.slices.length === 0) {
        after = next;
        continue;
      }
      const commit = await this.#commit(lane, stored, next, plan, counter);
      if (commit.outcome === 'committed') {
        confirmed = true;
        stored = next;
        after = next;
        this.#cursors.set(lane, next);
        tally.applied += plan.slices.reduce((n, s) => n + s.deltas.length, 0);
      } else if (commit.outcome === 'cursor-moved') {
        // A duplicate or earlier invocation of this lane committed records up to its cursor.
        stored = commit.cursor;
        confirmed = true;
        this.#cursors.set(lane, stored);
        if (
          stored !== undefined &&
          (after === undefined || compareSequenceNumbers(stored, after) > 0)
        )
          after = stored;
      } else if (commit.outcome === 'sealed') {
        // The cursor condition held (the table confirmed it), and these slices are sealed.
        confirmed = true;
        for (const sliceStart of commit.slices) this.#slices.markSealed(sliceStart);
      } else {
        conflicts++;
        if (conflicts >= this.#t.maxAttempts) {
          throw new WindowStateConflictError(
            { pipeline: this.#t.pipeline, key: lane, sliceStart: plan.slices[0]?.sliceStart ?? 0 },
            conflicts,
          );
        }
        await backoff(conflicts);
      }
    }
  }

  /** The lane's cursor: cached (`cached`), or one strongly consistent read of its row. */
  async #cursor(
    lane: string,
    counter: WindowStoreStats,
  ): Promise<{ readonly cursor: string | undefined; readonly cached: boolean }> {
    if (this.#cursors.has(lane)) return { cursor: this.#cursors.get(lane), cached: true };
    const out = await countRead(
      () =>
        this.#t.client.send(
          new GetItemCommand({
            TableName: this.#t.tableName,
            Key: this.#t.laneKey(lane),
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      counter,
      this.#t.stats,
    );
    const cursor = out.Item === undefined ? undefined : readString(out.Item, PACK_ATTR.cursor);
    this.#cursors.set(lane, cursor);
    return { cursor, cached: false };
  }

  /** One transaction: the lane row's cursor from `stored` to `next`, each slice's row, the packs. */
  async #commit(
    lane: string,
    stored: string | undefined,
    next: string,
    plan: PackPlan,
    counter: WindowStoreStats,
  ): Promise<Commit> {
    const now = this.#t.clock();
    const items: TransactWriteItem[] = [];
    const l = new ExpressionBuilder();
    l.set(ATTR.kind, str(PACK_KIND.LANE)).set(PACK_ATTR.cursor, str(next));
    items.push({
      Update: {
        TableName: this.#t.tableName,
        Key: this.#t.laneKey(lane),
        UpdateExpression: l.updateExpression(),
        ConditionExpression:
          stored === undefined
            ? `attribute_not_exists(${l.name(PACK_ATTR.cursor)})`
            : `${l.name(PACK_ATTR.cursor)} = ${l.value(str(stored))}`,
        ...l.attributes(),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    for (const slice of plan.slices) {
      const b = new ExpressionBuilder();
      const index = TABLE_KEYS.dueIndex;
      b.set(ATTR.kind, str(PACK_KIND.SLICE))
        .set(ATTR.sliceStart, num(slice.sliceStart))
        .set(ATTR.sliceEnd, num(slice.sliceEnd))
        .setIfAbsent(PACK_ATTR.opened, num(now))
        .add(PACK_ATTR.parts, slice.parts.length)
        .setIfAbsent(index.partitionKey, str(dueSlicesPartition(this.#t.pipeline)))
        .setIfAbsent(index.sortKey, str(padTime(slice.sliceEnd)))
        .setIfAbsent(TABLE_KEYS.timeToLiveAttribute, num(this.#t.expiresAt(slice.sliceEnd, now)));
      items.push({
        Update: {
          TableName: this.#t.tableName,
          Key: this.#t.sliceKey(slice.sliceStart),
          UpdateExpression: b.updateExpression(),
          ConditionExpression: `attribute_not_exists(${b.name(ATTR.sealedAt)})`,
          ...b.attributes(),
        },
      });
    }
    for (const slice of plan.slices) {
      for (const [part, body] of slice.parts.entries()) {
        items.push({
          Put: {
            TableName: this.#t.tableName,
            Item: {
              [TABLE_KEYS.partitionKey]: str(packPartition(this.#t.pipeline, slice.sliceStart)),
              [TABLE_KEYS.sortKey]: str(packSortKey(lane, next, part)),
              [PACK_ATTR.body]: { B: body },
              [TABLE_KEYS.timeToLiveAttribute]: num(this.#t.expiresAt(slice.sliceEnd, now)),
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
          },
        });
      }
    }
    try {
      await countWrite(
        () =>
          this.#t.client.send(
            new TransactWriteItemsCommand({
              TransactItems: items,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        counter,
        this.#t.stats,
      );
      return { outcome: 'committed' };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      countConflict(counter, this.#t.stats);
      const reasons = error.CancellationReasons ?? [];
      const lost = reasons[0];
      if (lost?.Code === 'ConditionalCheckFailed') {
        const cursor =
          lost.Item === undefined ? undefined : readString(lost.Item, PACK_ATTR.cursor);
        return { outcome: 'cursor-moved', cursor };
      }
      const sealed = plan.slices
        .filter((_, i) => reasons[LANE_ITEMS + i]?.Code === 'ConditionalCheckFailed')
        .map((s) => s.sliceStart);
      // Sealed slices count only when the cursor condition held (its reason is `None`): else the
      // table did not confirm the cursor the refusals would be reported on.
      if (sealed.length > 0 && (lost?.Code === undefined || lost.Code === 'None'))
        return { outcome: 'sealed', slices: sealed };
      if (reasons.some((r) => r.Code === 'TransactionConflict')) return { outcome: 'conflict' };
      throw error;
    }
  }
}

/** True when a plan's transaction stays within DynamoDB's item and byte limits. */
function fits(plan: PackPlan): boolean {
  const items = LANE_ITEMS + plan.slices.reduce((n, s) => n + 1 + s.parts.length, 0);
  return (
    items <= MAX_TRANSACTION_ITEMS &&
    plan.bytes + items * ITEM_OVERHEAD_BYTES <= MAX_TRANSACTION_BYTES
  );
}

/**
 * A sequence number strictly inside (`after`, `end`) at which a lane's records can be cut in two
 * ranges: the median of the deltas' records there (their bounds, when a delta does not list its
 * records); `undefined` when there is none (one record's elements alone fill the range).
 */
function cutPoint(
  deltas: readonly SliceDelta[],
  after: string | undefined,
  end: string,
): string | undefined {
  const inside = new Set<string>();
  for (const d of deltas) {
    for (const s of d.sequences?.() ?? [d.firstSeq, d.lastSeq]) {
      if (
        (after === undefined || compareSequenceNumbers(s, after) > 0) &&
        compareSequenceNumbers(s, end) < 0
      )
        inside.add(normalizeSequence(s));
    }
  }
  const sorted = [...inside].sort(compareSequenceNumbers);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** The delta with its sequence numbers normalized (no leading zeros), so they compare as numbers. */
function normalized(delta: SliceDelta): SliceDelta {
  const sequences = delta.sequences;
  return {
    key: delta.key,
    sliceStart: delta.sliceStart,
    sliceEnd: delta.sliceEnd,
    lane: delta.lane,
    firstSeq: normalizeSequence(delta.firstSeq),
    lastSeq: normalizeSequence(delta.lastSeq),
    acc: delta.acc,
    recompute: (afterSeq, uptoSeq) => delta.recompute(afterSeq, uptoSeq),
    ...(sequences === undefined
      ? {}
      : { sequences: () => sequences.call(delta).map(normalizeSequence) }),
  };
}
