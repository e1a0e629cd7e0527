import {
  decodeElementIds,
  type ElementId,
  elementKey,
  encodeElementIds,
  type RefusalCode,
} from './elementIds';
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
  /**
   * Lane → the elements the key's committed plans refused and may still have to report again
   * (encoded with `encodeElementIds`).
   * @default none
   */
  readonly refused?: ReadonlyMap<string, string>;
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
   * Fresh elements refused as LATE: their gap interval touches a sealed session, or the session
   * they would be part of ends at or before `lateBefore` (the committed watermark).
   */
  readonly refused: readonly number[];
  /** The refused elements refused for the session ending at or before `lateBefore` (a subset of `refused`). */
  readonly behindWatermark: readonly number[];
  /**
   * The refused elements whose own gap ended more than `retentionMs` before `lateBefore` (a subset
   * of `refused`): EXPIRED, whatever the stored sessions (which TTL may have deleted).
   */
  readonly expired: readonly number[];
  /**
   * The refused elements that would have grown their session beyond the item size limit (a
   * subset of `refused`, given by the caller): STATE_TOO_LARGE.
   */
  readonly tooLarge: readonly number[];
  /** The fresh elements accepted (merged into `puts`). */
  readonly accepted: readonly number[];
  /** The sealed sessions the refused elements touch. */
  readonly sealedTouched: readonly SessionRef[];
  /** Merged sessions to put. */
  readonly puts: readonly SessionPut[];
  /** Stored sessions absorbed into a put with a different start: deleted. */
  readonly deletes: readonly StoredSession[];
  /** New padded fences of the lanes that advance. */
  readonly fences: ReadonlyMap<string, string>;
  /**
   * For each lane that advances, the refusals its fence item remembers from now on (encoded;
   * `''` to forget them all): this plan's, and those remembered before that this delta replays
   * or may still replay (at or after the delta's first element of the lane).
   */
  readonly remember: ReadonlyMap<string, string>;
}

/** `[start, end]` of `a` and `b` overlap or touch: they belong to one session. */
const touches = (a: { start: number; end: number }, b: { start: number; end: number }): boolean =>
  a.start <= b.end && b.start <= a.end;

/**
 * The elements of `delta` that a committed plan refused, as the fence item remembers them, with
 * why: a delta that replays them (a retry after a crash between the commit and the failure
 * report) reports them again.
 *
 * @example
 * const again = rememberedRefusals(delta, fenceImage); // index into delta.elements → code
 */
export function rememberedRefusals(
  delta: SessionDelta,
  fenceImage: SessionFenceImage,
): Map<number, RefusalCode> {
  const found = new Map<number, RefusalCode>();
  const refused = fenceImage.refused;
  if (refused === undefined || refused.size === 0) return found;
  const byLane = new Map<string, Map<string, RefusalCode>>();
  delta.elements.forEach((element, i) => {
    const encoded = refused.get(element.lane);
    if (encoded === undefined) return;
    let ids = byLane.get(element.lane);
    if (ids === undefined) {
      ids = new Map(decodeElementIds(encoded).map((id) => [elementKey(id), id.code ?? 'L']));
      byLane.set(element.lane, ids);
    }
    const code = ids.get(elementKey(idOf(element)));
    if (code !== undefined) found.set(i, code);
  });
  return found;
}

const idOf = (element: SessionDelta['elements'][number]): ElementId => ({
  sequenceNumber: element.sequenceNumber,
  ordinal: element.ordinal ?? 0,
});

/**
 * Plans one key's session write for a batch, without I/O:
 *
 * 1. only elements above their lane's fence are new (the key's processed records of a lane are
 *    always a prefix of the lane: every batch writes all of a key's sessions and its fences in
 *    one transaction);
 * 2. a new element whose own gap ended more than `retentionMs` before `lateBefore` is refused
 *    (EXPIRED): the sessions it could touch may be deleted by TTL. One the caller found would grow
 *    its session beyond the item size limit (`tooLarge`) is refused (STATE_TOO_LARGE). One whose interval `[t, t + gap]`
 *    touches a sealed session is refused (LATE): the sealed session's result may already be out,
 *    and sealed sessions never change;
 * 3. the other new elements and the unsealed stored sessions they touch form groups (chains of
 *    touching intervals); a group that ends at or before `lateBefore`, the committed watermark,
 *    is behind it — its new elements are refused (LATE): they would grow or open a session that is
 *    due at once (Flink's rule: the merged window is late). Its stored sessions stay as they are;
 * 4. the accepted elements form sessions (`delta.sessionsOf`), which merge with every unsealed
 *    stored session they touch; each merged session is one put, and stored sessions absorbed
 *    under another start are deleted.
 *
 * The refusals are committed with the fences (and remembered on the fence item) before they are
 * reported, so a record is reported LATE exactly when it was not counted.
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
  retentionMs: number = Number.POSITIVE_INFINITY,
  tooLarge: ReadonlySet<number> = new Set(),
): SessionWritePlan | undefined {
  const fresh: number[] = [];
  const fences = new Map<string, string>();
  const firstByLane = new Map<string, string>();
  delta.elements.forEach((element, i) => {
    const first = firstByLane.get(element.lane);
    if (first === undefined || compareSequences(element.sequenceNumber, first) < 0)
      firstByLane.set(element.lane, element.sequenceNumber);
    const fence = fenceImage.fences.get(element.lane);
    if (fence !== undefined && compareSequences(element.sequenceNumber, fence) <= 0) return;
    fresh.push(i);
    const next = fences.get(element.lane);
    if (next === undefined || compareSequences(element.sequenceNumber, next) > 0)
      fences.set(element.lane, element.sequenceNumber);
  });
  if (fresh.length === 0) return undefined;
  for (const [lane, sequence] of fences) fences.set(lane, padSequence(sequence));
  const timeOf = (i: number): number => (delta.elements[i] as { time: number }).time;

  // 2. Expired (their sessions' state may be gone), then touching a sealed session.
  const sealed = stored.filter((s) => s.sealed);
  const refused: number[] = [];
  const expired: number[] = [];
  const full: number[] = [];
  const candidates: number[] = [];
  const sealedTouched = new Map<number, SessionRef>();
  for (const i of fresh) {
    const t = timeOf(i);
    if (lateBefore !== undefined && t + gapMs + retentionMs <= lateBefore) {
      expired.push(i);
      refused.push(i);
      continue;
    }
    if (tooLarge.has(i)) {
      full.push(i);
      refused.push(i);
      continue;
    }
    const hit = sealed.filter((s) => touches({ start: t, end: t + gapMs }, s));
    if (hit.length === 0) {
      candidates.push(i);
      continue;
    }
    refused.push(i);
    for (const s of hit) sealedTouched.set(s.start, { key: delta.key, start: s.start, end: s.end });
  }

  // 3. Groups behind the committed watermark.
  const open = stored.filter((s) => !s.sealed);
  const behindWatermark: number[] = [];
  let accepted = candidates;
  if (lateBefore !== undefined && candidates.length > 0) {
    const spans = [
      ...candidates.map((i) => ({ start: timeOf(i), end: timeOf(i) + gapMs, element: i })),
      ...open.map((s) => ({ start: s.start, end: s.end, element: undefined })),
    ].sort((a, b) => a.start - b.start || a.end - b.end);
    accepted = [];
    let members: number[] = [];
    let groupEnd = Number.NEGATIVE_INFINITY;
    const settle = (): void => {
      if (groupEnd <= lateBefore) behindWatermark.push(...members);
      else accepted.push(...members);
      members = [];
    };
    for (const span of spans) {
      if (span.start > groupEnd) settle();
      if (span.element !== undefined) members.push(span.element);
      groupEnd = Math.max(groupEnd, span.end);
    }
    settle();
    accepted.sort((x, y) => x - y);
    behindWatermark.sort((x, y) => x - y);
    refused.push(...behindWatermark);
    refused.sort((x, y) => x - y);
  }

  // 4. Merge what is accepted.
  const incoming = accepted.length === 0 ? [] : delta.sessionsOf(accepted);
  type Part = { readonly s: SessionContents; readonly stored: StoredSession | undefined };
  const parts: Part[] = [
    ...incoming.map((s) => ({ s, stored: undefined })),
    ...open.map((s) => ({ s, stored: s })),
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

  // What each advancing lane's fence item remembers: this plan's refusals, and the earlier ones
  // this delta (or a later replay of it) can still replay.
  const remember = new Map<string, string>();
  for (const lane of fences.keys()) {
    const first = firstByLane.get(lane) as string;
    const before = fenceImage.refused?.get(lane);
    const kept = (before === undefined ? [] : decodeElementIds(before)).filter(
      (id) => compareSequences(id.sequenceNumber, first) >= 0,
    );
    const codeOf = (i: number): RefusalCode =>
      expired.includes(i) ? 'X' : full.includes(i) ? 'F' : 'L';
    const added = refused
      .filter((i) => (delta.elements[i] as { lane: string }).lane === lane)
      .map((i) => ({
        ...idOf(delta.elements[i] as SessionDelta['elements'][number]),
        code: codeOf(i),
      }));
    remember.set(lane, encodeElementIds([...kept, ...added]));
  }
  return {
    fresh,
    refused,
    behindWatermark,
    expired,
    tooLarge: full,
    accepted,
    sealedTouched: [...sealedTouched.values()],
    puts,
    deletes,
    fences,
    remember,
  };
}
