import { compareSequences, padSequence } from './sequence';
import type { MergeAccSets, SessionContents, SessionDelta, SessionRef } from './types';

/** A session item as read from the table. */
export interface StoredSession extends SessionContents {
  /** The item's `version` (every write bumps it). */
  readonly version: number;
  /** A closer sealed it: it takes no more records. */
  readonly sealed: boolean;
}

/** A key's fence item as read: per lane, the highest sequence number the key has processed. */
export interface SessionFenceImage {
  /** `undefined` when the item is absent (no batch has written the key yet). */
  readonly version: number | undefined;
  /** Lane → padded fence. */
  readonly fences: ReadonlyMap<string, string>;
}

/** One merged session to write, and the stored session at the same start it replaces, if any. */
export interface SessionPut {
  readonly session: SessionContents;
  readonly replaces: StoredSession | undefined;
}

/** What one key's transaction must do, planned from one read of the key's items. */
export interface SessionWritePlan {
  /** Indices of the delta's elements above their lane's fence (not processed yet). */
  readonly fresh: readonly number[];
  /**
   * Fresh elements refused as LATE: their gap interval touches a sealed session, or ends at or
   * before `lateBefore` (the committed watermark).
   */
  readonly refused: readonly number[];
  /** The refused elements refused for ending at or before `lateBefore` (a subset of `refused`). */
  readonly behindWatermark: readonly number[];
  /** The sealed sessions the refused elements touch. */
  readonly sealedTouched: readonly SessionRef[];
  /** Merged sessions to put. */
  readonly puts: readonly SessionPut[];
  /** Stored sessions absorbed into a put with a different start: deleted. */
  readonly deletes: readonly StoredSession[];
  /** New padded fences of the lanes that advance. */
  readonly fences: ReadonlyMap<string, string>;
}

/** `[start, end]` of `a` and `b` overlap or touch: they belong to one session. */
const touches = (a: { start: number; end: number }, b: { start: number; end: number }): boolean =>
  a.start <= b.end && b.start <= a.end;

/**
 * Plans one key's session write for a batch, without I/O:
 *
 * 1. only elements above their lane's fence are new (the key's processed records of a lane are
 *    always a prefix of the lane: every batch writes all of a key's sessions and its fences in
 *    one transaction);
 * 2. a new element whose interval `[t, t + gap]` touches a sealed session is refused (LATE): the
 *    sealed session's result may already be out, and sealed sessions never change, so the
 *    refusal is the same in every later plan. So is one whose interval ends at or before
 *    `lateBefore`, the committed watermark: alone it would open a session that is due at once
 *    (a record far behind the watermark), and as the watermark never goes back, every later
 *    plan refuses it too;
 * 3. the accepted elements form sessions (`delta.sessionsOf`), which merge with every unsealed
 *    stored session they touch; each merged session is one put, and stored sessions absorbed
 *    under another start are deleted.
 *
 * `stored` must hold every stored session of the key that touches `[min t, max t + gap]` of the
 * fresh elements (more is harmless).
 *
 * @returns `undefined` when every element was already processed (a replay: nothing to write)
 * @example
 * const plan = planSessionWrite(delta, stored, fenceImage, 30 * 60_000, merge, committed);
 */
export function planSessionWrite(
  delta: SessionDelta,
  stored: readonly StoredSession[],
  fenceImage: SessionFenceImage,
  gapMs: number,
  merge: MergeAccSets,
  lateBefore?: number,
): SessionWritePlan | undefined {
  const fresh: number[] = [];
  const fences = new Map<string, string>();
  delta.elements.forEach((element, i) => {
    const fence = fenceImage.fences.get(element.lane);
    if (fence !== undefined && compareSequences(element.sequenceNumber, fence) <= 0) return;
    fresh.push(i);
    const next = fences.get(element.lane);
    if (next === undefined || compareSequences(element.sequenceNumber, next) > 0)
      fences.set(element.lane, element.sequenceNumber);
  });
  if (fresh.length === 0) return undefined;
  for (const [lane, sequence] of fences) fences.set(lane, padSequence(sequence));

  const sealed = stored.filter((s) => s.sealed);
  const refused: number[] = [];
  const accepted: number[] = [];
  const sealedTouched = new Map<number, SessionRef>();
  const behindWatermark: number[] = [];
  for (const i of fresh) {
    const t = (delta.elements[i] as { time: number }).time;
    const hit = sealed.filter((s) => touches({ start: t, end: t + gapMs }, s));
    if (hit.length === 0) {
      if (lateBefore !== undefined && t + gapMs <= lateBefore) {
        refused.push(i);
        behindWatermark.push(i);
      } else accepted.push(i);
      continue;
    }
    refused.push(i);
    for (const s of hit) sealedTouched.set(s.start, { key: delta.key, start: s.start, end: s.end });
  }

  const incoming = accepted.length === 0 ? [] : delta.sessionsOf(accepted);
  type Part = { readonly s: SessionContents; readonly stored: StoredSession | undefined };
  const parts: Part[] = [
    ...incoming.map((s) => ({ s, stored: undefined })),
    ...stored.filter((s) => !s.sealed).map((s) => ({ s, stored: s })),
  ].sort((a, b) => a.s.start - b.s.start || a.s.end - b.s.end);
  const puts: SessionPut[] = [];
  const deletes: StoredSession[] = [];
  let group: Part[] = [];
  let groupEnd = Number.NEGATIVE_INFINITY;
  const flush = (): void => {
    if (group.some((p) => p.stored === undefined)) {
      let acc = (group[0] as Part).s.acc;
      for (const p of group.slice(1)) acc = merge(acc, p.s.acc);
      const start = (group[0] as Part).s.start;
      const end = Math.max(...group.map((p) => p.s.end));
      const replaces = group.find((p) => p.stored !== undefined && p.s.start === start)?.stored;
      puts.push({ session: { start, end, acc }, replaces });
      for (const p of group)
        if (p.stored !== undefined && p.stored !== replaces) deletes.push(p.stored);
    }
    group = [];
  };
  for (const part of parts) {
    if (group.length > 0 && part.s.start > groupEnd) flush();
    group.push(part);
    groupEnd = group.length === 1 ? part.s.end : Math.max(groupEnd, part.s.end);
  }
  flush();
  return {
    fresh,
    refused,
    behindWatermark,
    sealedTouched: [...sealedTouched.values()],
    puts,
    deletes,
    fences,
  };
}
