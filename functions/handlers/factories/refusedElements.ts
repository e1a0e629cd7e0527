import type { KinesisStreamRecord } from 'aws-lambda';
import {
  type BatchPlan,
  FAILURE_REASON,
  type FailureReason,
  type RecordFailure,
  recordMeta,
} from '#runtime/index';

/** Why a store may refuse a record's elements, in the order a record's failures are listed. */
export const REFUSAL_REASONS = [
  FAILURE_REASON.LATE,
  FAILURE_REASON.EXPIRED,
  FAILURE_REASON.STATE_TOO_LARGE,
] as const;

/**
 * The elements a batch's state step refused, by record (its index in the batch) and reason, over
 * every refusal of the batch: a record whose elements are refused for several keys, or in two
 * steps, still gets one failure per reason naming all of them.
 */
export class RefusedElements {
  readonly #byRecord = new Map<
    number,
    Map<FailureReason, { readonly detail: string; readonly ordinals: Set<number> }>
  >();

  /** Notes element `ordinal` of record `index` as refused (the first detail given is kept). */
  add(index: number, reason: FailureReason, ordinal: number, detail: string): void {
    let byReason = this.#byRecord.get(index);
    if (byReason === undefined) {
      byReason = new Map();
      this.#byRecord.set(index, byReason);
    }
    let entry = byReason.get(reason);
    if (entry === undefined) {
      entry = { detail, ordinals: new Set() };
      byReason.set(reason, entry);
    }
    entry.ordinals.add(ordinal);
  }

  /**
   * One failure per record and reason, in batch order, each naming every element refused so far;
   * with `only`, just those records' failures.
   */
  failures(
    records: readonly KinesisStreamRecord[],
    plan: Pick<BatchPlan, 'elementCounts'>,
    only?: ReadonlySet<number>,
  ): RecordFailure[] {
    const failures: RecordFailure[] = [];
    for (const [index, byReason] of [...this.#byRecord].sort(([a], [b]) => a - b)) {
      if (only !== undefined && !only.has(index)) continue;
      const record = records[index] as KinesisStreamRecord;
      const meta = recordMeta(record);
      for (const reason of REFUSAL_REASONS) {
        const entry = byReason.get(reason);
        if (entry === undefined) continue;
        failures.push({
          ...meta,
          reason,
          detail: entry.detail,
          data: record.kinesis.data,
          elements: [...entry.ordinals].sort((x, y) => x - y),
          elementCount: plan.elementCounts.get(index) ?? 1,
        });
      }
    }
    return failures;
  }
}
