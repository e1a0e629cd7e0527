/*
 * Over 500 lines: the session store is request plumbing around one pure planner
 * (`planSessionWrite.ts`, mutation-tested) — a read, a transaction per key, the close and repair
 * protocol. Splitting its lifecycle into a store shared with sliced windows (issue 14) is open:
 * lane packs close windows for every key at once, sessions one key at a time.
 */
import {
  type AttributeValue,
  GetItemCommand,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { assertItemSize } from './assertItemSize';
import {
  accAttr,
  encodeAcc,
  estimateItemSize,
  fenceAttr,
  num,
  type RawItem,
  readAccSet,
  readFences,
  readNumber,
  readRefused,
  readString,
  refusedAttr,
  str,
} from './attributes';
import { backoff } from './backoff';
import { conditionalUpdate } from './conditionalUpdate';
import {
  ATTR,
  ITEM_KIND,
  MAX_TRANSACTION_ITEMS,
  SESSION_FENCES_SORT_KEY,
  TABLE_KEYS,
  WINDOW_STATUS,
  WINDOW_STORE_DEFAULTS,
} from './constants';
import { dueIndexPages } from './dueIndexPages';
import type { RefusalCode } from './elementIds';
import {
  InvalidWindowStoreInputError,
  ItemTooLargeError,
  WindowNotClosedError,
  WindowStateConflictError,
  WindowStoreError,
} from './errors';
import {
  allOf,
  ExpressionBuilder,
  sessionNotSealed,
  sessionVersionIs,
  windowIsClosed,
} from './expressions';
import {
  assertPipelineName,
  bucketOf,
  closedPartition,
  duePartition,
  expiresAt,
  keyPartition,
  padTime,
  sessionSortKey,
} from './keys';
import { mapBounded } from './mapBounded';
import {
  planSessionWrite,
  rememberedRefusals,
  type SessionFenceImage,
  type SessionWritePlan,
  type StoredSession,
} from './planSessionWrite';
import { countConflict, countRead, countWrite, emptyStats } from './requestStats';
import { retryTransactionConflicts } from './retryTransactionConflicts';
import { isConflictCancellation } from './transactUpdates';
import type {
  AccSet,
  ApplySessionsOptions,
  ApplySessionsResult,
  CloseSessionOutcome,
  DynamoDBSender,
  EmitOutcome,
  MergeAccSets,
  RefusedSessionElements,
  SessionContents,
  SessionDelta,
  SessionRef,
  SessionStoreOptions,
  WindowStoreStats,
} from './types';

const NO_FENCES: SessionFenceImage = { version: undefined, fences: new Map() };

/** What one Query of a key's partition found. */
interface KeyImage {
  readonly fences: SessionFenceImage;
  /** TTL of the fence item (epoch s), 0 when absent. */
  readonly fencesExpireAt: number;
  readonly sessions: StoredSession[];
}

type KeyOutcome =
  | { readonly outcome: 'skipped'; readonly refused?: RefusedSessionElements }
  | {
      readonly outcome: 'applied';
      readonly plan: SessionWritePlan;
      readonly refused: RefusedSessionElements | undefined;
    };

/**
 * DynamoDB store of one pipeline's session windows, in the same table as its `WindowStore`
 * (which keeps the watermarks). Per key: one item per session (`X#<start>`: accumulators,
 * `windowStart`, `windowEnd` = last event + gap, `version`, in the due index by end) and one
 * fence item (`X#~fences`: per lane, the highest sequence number of the key the batches have
 * processed). See docs/architecture.md, "Sessions".
 *
 * A batch writes each key with one read (one Query returns the fences and the sessions its
 * elements can touch) and one `TransactWriteItems`: the merged sessions, the deletes of the
 * sessions they absorbed, and the advanced fences — all conditioned on the versions read. So a
 * key's processed records are, per lane, always a prefix up to its fence, and retries, bisects,
 * partial replays and duplicate invocations change nothing twice.
 *
 * @example
 * const sessions = new SessionStore({
 *   client: new DynamoDBClient({}),
 *   tableName: process.env.STATE_TABLE!,
 *   pipeline: 'sessions',
 *   gapMs: 30 * 60_000,
 *   merge: mergeAccs,
 * });
 * await sessions.applySessions(deltas, { onRefused: sendLate });
 */
export class SessionStore {
  /** Pipeline this store holds sessions for. */
  readonly pipeline: string;
  /** Inactivity gap, ms. */
  readonly gapMs: number;
  /** Requests made since construction (all methods). */
  readonly stats: WindowStoreStats = emptyStats();

  readonly #client: DynamoDBSender;
  readonly #tableName: string;
  readonly #merge: MergeAccSets;
  readonly #maxOutOfOrdernessMs: number;
  readonly #retentionMs: number;
  readonly #clock: () => number;
  readonly #maxItemBytes: number;
  readonly #concurrency: number;
  readonly #maxAttempts: number;
  readonly #dueBuckets: number;

  constructor(options: SessionStoreOptions) {
    assertPipelineName(options.pipeline);
    this.pipeline = options.pipeline;
    this.gapMs = options.gapMs;
    this.#tableName = options.tableName;
    this.#merge = options.merge;
    this.#maxOutOfOrdernessMs = options.maxOutOfOrdernessMs ?? 0;
    this.#retentionMs = options.retentionMs ?? WINDOW_STORE_DEFAULTS.retentionMs;
    this.#clock = options.clock ?? Date.now;
    this.#maxItemBytes = options.maxItemBytes ?? WINDOW_STORE_DEFAULTS.maxItemBytes;
    this.#concurrency = options.concurrency ?? WINDOW_STORE_DEFAULTS.concurrency;
    this.#maxAttempts = options.maxAttempts ?? WINDOW_STORE_DEFAULTS.maxAttempts;
    this.#client = retryTransactionConflicts(options.client, this.#maxAttempts, this.stats);
    this.#dueBuckets = options.dueBuckets ?? WINDOW_STORE_DEFAULTS.dueBuckets;
    for (const [name, value, min] of [
      ['gapMs', this.gapMs, 1],
      ['concurrency', this.#concurrency, 1],
      ['maxAttempts', this.#maxAttempts, 1],
      ['dueBuckets', this.#dueBuckets, 1],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < min) {
        throw new InvalidWindowStoreInputError(
          `${name} must be an integer >= ${min}, got ${value}`,
          { pipeline: this.pipeline },
        );
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Session state
  // ---------------------------------------------------------------------------------------------

  /**
   * Absorbs one batch's sessions: per key, one Query and one `TransactWriteItems` (at most
   * `concurrency` keys in flight). Only elements above their lane's fence are new; new elements
   * whose gap interval touches a sealed (closed) session, or ends at or before
   * `committedWatermark`, are refused — handed to `onRefused`
   * before the commit, LATE for the caller; the rest merge with every open session they touch.
   * A conflict (another batch, or a closer, wrote the key since the read) re-reads and re-plans.
   *
   * @throws {ItemTooLargeError} a merged session would exceed `maxItemBytes` (nothing written).
   * @throws {WindowStateConflictError} a key kept changing for `maxAttempts` cycles.
   * @example
   * const result = await sessions.applySessions(deltas, { onRefused: async (r) => sendLate(r) });
   */
  async applySessions(
    deltas: readonly SessionDelta[],
    options: ApplySessionsOptions = {},
  ): Promise<ApplySessionsResult> {
    const counter = emptyStats();
    const outcomes = await mapBounded(deltas, this.#concurrency, (delta) =>
      this.#applyKey(delta, options, counter),
    );
    const refused: RefusedSessionElements[] = [];
    const written: Array<SessionRef & { acc: AccSet }> = [];
    let applied = 0;
    outcomes.forEach((o, i) => {
      if (o.outcome !== 'applied') {
        if (o.refused !== undefined) refused.push(o.refused);
        return;
      }
      applied++;
      if (o.refused !== undefined) refused.push(o.refused);
      const key = (deltas[i] as SessionDelta).key;
      for (const put of o.plan.puts) written.push({ key, ...put.session });
    });
    return {
      ...counter,
      keys: deltas.length,
      applied,
      skipped: deltas.length - applied,
      refused,
      written,
    };
  }

  async #applyKey(
    delta: SessionDelta,
    options: ApplySessionsOptions,
    counter: WindowStoreStats,
  ): Promise<KeyOutcome> {
    if (delta.elements.length === 0) return { outcome: 'skipped' };
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (const e of delta.elements) {
      from = Math.min(from, e.time);
      to = Math.max(to, e.time + this.gapMs);
    }
    // Elements whose session would outgrow the item size limit: refused (STATE_TOO_LARGE).
    const tooLarge = new Set<number>();
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const image = await this.#readKey(delta.key, from, to, counter);
      let plan: SessionWritePlan | undefined;
      for (;;) {
        plan = planSessionWrite(
          delta,
          image.sessions,
          image.fences,
          this.gapMs,
          this.#merge,
          options.committedWatermark,
          this.#retentionMs,
          tooLarge,
        );
        const over = plan === undefined ? undefined : this.#oversized(delta.key, plan);
        if (over === undefined) break;
        // Refuse the new elements of the session that would not fit, and plan again without them.
        for (const i of (plan as SessionWritePlan).accepted) {
          const t = (delta.elements[i] as { time: number }).time;
          if (t >= over.start && t < over.end) tooLarge.add(i);
        }
      }
      // Elements a committed plan refused that this delta replays: reported again (the attempt
      // that committed them may have crashed before its report).
      const remembered = rememberedRefusals(delta, image.fences);
      const refused = this.#refusal(delta, plan, remembered, options.committedWatermark);
      // Nothing new (a replay): no commit, only the remembered refusals reported again. Every
      // new refusal — EXPIRED too — is committed with the fences first: a duplicate invocation
      // that read an older committed watermark then re-plans instead of counting it.
      if (plan === undefined) {
        if (refused !== undefined) await options.onRefused?.(refused);
        return { outcome: 'skipped', refused };
      }
      if (await this.#commit(delta.key, image, plan, to, counter)) {
        // Reported once committed (and remembered with the fences): exactly what was not counted.
        if (refused !== undefined) await options.onRefused?.(refused);
        return { outcome: 'applied', plan, refused };
      }
    }
    throw new WindowStateConflictError(
      { pipeline: this.pipeline, key: delta.key },
      this.#maxAttempts,
    );
  }

  /** The first session a plan would put that exceeds `maxItemBytes`, if any. */
  #oversized(key: string, plan: SessionWritePlan): SessionContents | undefined {
    for (const { session, replaces } of plan.puts) {
      const item = this.#sessionItem(key, session, (replaces?.version ?? 0) + 1);
      if (estimateItemSize(item) > this.#maxItemBytes) return session;
    }
    return undefined;
  }

  /** What a key's plan (and its replayed, remembered refusals) refuses, for `onRefused`. */
  #refusal(
    delta: SessionDelta,
    plan: SessionWritePlan | undefined,
    remembered: ReadonlyMap<number, RefusalCode>,
    watermark: number | undefined,
  ): RefusedSessionElements | undefined {
    const indices = [...new Set([...(plan?.refused ?? []), ...remembered.keys()])].sort(
      (x, y) => x - y,
    );
    if (indices.length === 0) return undefined;
    const coded = (code: RefusalCode) =>
      [...remembered].filter(([, c]) => c === code).map(([i]) => i);
    const expired = [...(plan?.expired ?? []), ...coded('X')];
    const tooLarge = [...(plan?.tooLarge ?? []), ...coded('F')];
    const behind = plan?.behindWatermark ?? [];
    return {
      key: delta.key,
      indices,
      sealed: plan?.sealedTouched ?? [],
      ...(behind.length > 0 ? { behindWatermark: behind, watermark } : {}),
      ...(expired.length > 0 ? { expired } : {}),
      ...(tooLarge.length > 0 ? { tooLarge } : {}),
      ...(remembered.size > 0 ? { remembered: [...remembered.keys()] } : {}),
    };
  }

  /** Reads a key's fence item and every session that can touch `[from, to]`: one Query (paged). */
  async #readKey(
    key: string,
    from: number,
    to: number,
    counter: WindowStoreStats,
  ): Promise<KeyImage> {
    let fences = NO_FENCES;
    let fencesExpireAt = 0;
    const sessions: StoredSession[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    let done = false;
    do {
      const b = new ExpressionBuilder();
      const page = await countRead(
        () =>
          this.#client.send(
            new QueryCommand({
              TableName: this.#tableName,
              // Newest first: the fence item (sorts last), then sessions by start descending;
              // stored sessions never overlap, so ends descend too and paging stops early.
              KeyConditionExpression: `${b.name(TABLE_KEYS.partitionKey)} = ${b.value(str(keyPartition(this.pipeline, key)))} AND ${b.name(TABLE_KEYS.sortKey)} BETWEEN ${b.value(str(sessionSortKey(0)))} AND ${b.value(str(SESSION_FENCES_SORT_KEY))}`,
              ...b.attributes(),
              ScanIndexForward: false,
              ConsistentRead: true,
              ExclusiveStartKey: startKey,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        counter,
        this.stats,
      );
      startKey = page.LastEvaluatedKey;
      for (const item of page.Items ?? []) {
        if (readString(item, TABLE_KEYS.sortKey) === SESSION_FENCES_SORT_KEY) {
          fences = {
            version: readNumber(item, ATTR.version),
            fences: readFences(item),
            refused: readRefused(item),
          };
          fencesExpireAt = readNumber(item, TABLE_KEYS.timeToLiveAttribute) ?? 0;
          continue;
        }
        const session = this.#decodeSession(item);
        if (session === undefined || session.start > to) continue;
        if (session.end < from) {
          done = true;
          break;
        }
        sessions.push(session);
      }
    } while (startKey !== undefined && !done);
    return { fences, fencesExpireAt, sessions };
  }

  /** Commits a plan in one transaction; false when a condition failed (re-plan). */
  async #commit(
    key: string,
    image: KeyImage,
    plan: SessionWritePlan,
    latestEnd: number,
    counter: WindowStoreStats,
  ): Promise<boolean> {
    const items: TransactWriteItem[] = [];
    let relevantUntil = 0;
    for (const { session, replaces } of plan.puts) {
      relevantUntil = Math.max(relevantUntil, session.end + this.#maxOutOfOrdernessMs);
      const item = this.#sessionItem(key, session, (replaces?.version ?? 0) + 1);
      // Planned below the limit (`#oversized`); a guard, should the estimate and the plan differ.
      assertItemSize(item, this.#maxItemBytes, {
        pipeline: this.pipeline,
        key,
        sliceStart: session.start,
        windowStart: session.start,
        windowEnd: session.end,
      });
      const b = new ExpressionBuilder();
      items.push({
        Put: {
          TableName: this.#tableName,
          Item: item,
          ConditionExpression:
            replaces === undefined
              ? sessionVersionIs(b, undefined)
              : allOf(sessionVersionIs(b, replaces.version), sessionNotSealed(b)),
          ...b.attributes(),
        },
      });
    }
    for (const absorbed of plan.deletes) {
      const b = new ExpressionBuilder();
      items.push({
        Delete: {
          TableName: this.#tableName,
          Key: this.#sessionKey(key, absorbed.start),
          ConditionExpression: allOf(sessionVersionIs(b, absorbed.version), sessionNotSealed(b)),
          ...b.attributes(),
        },
      });
    }
    // The fences matter as long as any session they guard can still be replayed into.
    relevantUntil = Math.max(relevantUntil, latestEnd + this.#maxOutOfOrdernessMs);
    items.push({ Update: this.#fenceUpdate(key, image, plan, relevantUntil) });
    if (items.length > MAX_TRANSACTION_ITEMS) {
      throw new WindowStoreError(
        `key "${key}" of pipeline "${this.pipeline}": one batch merges ${items.length - 1} session items, above the ${MAX_TRANSACTION_ITEMS - 1} a transaction can hold; use smaller batches`,
        { pipeline: this.pipeline, key },
      );
    }
    try {
      await countWrite(
        () =>
          this.#client.send(
            new TransactWriteItemsCommand({
              TransactItems: items,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        counter,
        this.stats,
      );
      return true;
    } catch (error) {
      if (isConflictCancellation(error)) {
        countConflict(counter, this.stats);
        return false;
      }
      throw error;
    }
  }

  #fenceUpdate(
    key: string,
    image: KeyImage,
    plan: SessionWritePlan,
    relevantUntil: number,
  ): NonNullable<TransactWriteItem['Update']> {
    const b = new ExpressionBuilder();
    const ttl = Math.max(image.fencesExpireAt, this.#expiresAt(relevantUntil));
    b.set(ATTR.kind, str(ITEM_KIND.SESSION_FENCES))
      .set(ATTR.key, str(key))
      .set(ATTR.version, num((image.fences.version ?? 0) + 1))
      .set(TABLE_KEYS.timeToLiveAttribute, num(ttl));
    for (const [lane, fence] of plan.fences) b.set(fenceAttr(lane), str(fence));
    for (const [lane, ids] of plan.remember) {
      if (ids === '') b.remove(refusedAttr(lane));
      else b.set(refusedAttr(lane), str(ids));
    }
    // Every batch that writes the key passes through this condition, so batches of a key are
    // serialized: the fences read are still the fences, "above the fence" is still what is new.
    const condition = sessionVersionIs(b, image.fences.version);
    const estimated =
      estimateItemSize({ [TABLE_KEYS.partitionKey]: str(keyPartition(this.pipeline, key)) }) +
      [...new Set([...image.fences.fences.keys(), ...plan.fences.keys()])].reduce(
        (sum, lane) =>
          sum +
          fenceAttr(lane).length +
          128 +
          refusedAttr(lane).length +
          (plan.remember.get(lane) ?? image.fences.refused?.get(lane) ?? '').length,
        64,
      );
    if (estimated > this.#maxItemBytes) {
      throw new ItemTooLargeError(
        { pipeline: this.pipeline, key, sliceStart: 0 },
        estimated,
        this.#maxItemBytes,
      );
    }
    return {
      TableName: this.#tableName,
      Key: {
        [TABLE_KEYS.partitionKey]: str(keyPartition(this.pipeline, key)),
        [TABLE_KEYS.sortKey]: str(SESSION_FENCES_SORT_KEY),
      },
      UpdateExpression: b.updateExpression(),
      ConditionExpression: condition,
      ...b.attributes(),
    };
  }

  #sessionItem(
    key: string,
    session: { start: number; end: number; acc: AccSet },
    version: number,
  ): RawItem {
    const item: RawItem = {
      ...this.#sessionKey(key, session.start),
      [ATTR.kind]: str(ITEM_KIND.SESSION),
      [ATTR.key]: str(key),
      [ATTR.windowStart]: num(session.start),
      [ATTR.windowEnd]: num(session.end),
      [ATTR.version]: num(version),
      [TABLE_KEYS.dueIndex.partitionKey]: str(
        duePartition(this.pipeline, bucketOf(key, this.#dueBuckets)),
      ),
      [TABLE_KEYS.dueIndex.sortKey]: str(padTime(session.end)),
      [TABLE_KEYS.timeToLiveAttribute]: num(
        this.#expiresAt(session.end + this.#maxOutOfOrdernessMs),
      ),
    };
    for (const [name, value] of Object.entries(session.acc)) {
      if (value !== undefined) item[accAttr(name)] = encodeAcc(name, value, new Set());
    }
    return item;
  }

  #decodeSession(item: RawItem): StoredSession | undefined {
    const start = readNumber(item, ATTR.windowStart);
    const end = readNumber(item, ATTR.windowEnd);
    const version = readNumber(item, ATTR.version);
    if (start === undefined || end === undefined || version === undefined) return undefined;
    return {
      start,
      end,
      version,
      acc: readAccSet(item) ?? {},
      sealed: item[ATTR.sealed] !== undefined,
    };
  }

  /** TTL (epoch s) of an item that matters until `relevantUntil` (epoch ms), written now. */
  #expiresAt(relevantUntil: number): number {
    return expiresAt(relevantUntil, this.#retentionMs, this.#clock());
  }

  #sessionKey(key: string, start: number): RawItem {
    return {
      [TABLE_KEYS.partitionKey]: str(keyPartition(this.pipeline, key)),
      [TABLE_KEYS.sortKey]: str(sessionSortKey(start)),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Closing and emission
  // ---------------------------------------------------------------------------------------------

  /**
   * Open sessions with `end <= watermark`, from the due index (no Scan), oldest end first. A
   * session merged away or extended meanwhile is sorted out by `closeSession`.
   */
  async findDueSessions(watermark: number, limit = 100): Promise<SessionRef[]> {
    return this.#queryIndex(duePartition, watermark, limit, ATTR.windowEnd);
  }

  /**
   * Sessions CLOSED at or before `closedBefore` but not EMITTED (a closer crashed between close
   * and emit), for the sweeper to re-emit.
   */
  async findClosedSessions(closedBefore: number, limit = 100): Promise<SessionRef[]> {
    return this.#queryIndex(closedPartition, closedBefore, limit, undefined);
  }

  async #queryIndex(
    partition: (pipeline: string, bucket: number) => string,
    upTo: number,
    limit: number,
    sortBy: string | undefined,
  ): Promise<SessionRef[]> {
    const found: SessionRef[] = [];
    for await (const items of dueIndexPages({
      client: this.#client,
      tableName: this.#tableName,
      pipeline: this.pipeline,
      dueBuckets: this.#dueBuckets,
      partition,
      upTo,
      pageLimit: () => limit - found.length,
      wantsMore: () => found.length < limit,
      counters: [this.stats],
    })) {
      for (const item of items) {
        const key = readString(item, ATTR.key);
        const start = readNumber(item, ATTR.windowStart);
        const end = readNumber(item, ATTR.windowEnd);
        if (key !== undefined && start !== undefined && end !== undefined)
          found.push({ key, start, end });
      }
    }
    return sortBy === undefined ? found : found.sort((a, b) => a.end - b.end);
  }

  /**
   * Closes a due session: reads it and, if it is still unsealed and `end <= watermark`, seals it
   * (OPEN → CLOSED) on condition that it is still the version read. Exactly one closer wins and
   * gets the session's contents — fixed from then on, so every emission carries the same values.
   *
   * @returns `closed` (emit `session`, then `markSessionEmitted`), `already-closed`, `not-due`
   *   (extended past the watermark meanwhile), or `gone` (merged into a session with another start).
   */
  async closeSession(
    ref: SessionRef,
    watermark: number,
    closedAt: number,
  ): Promise<CloseSessionOutcome> {
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const session = await this.#getSession(ref);
      if (session === undefined) return { outcome: 'gone' };
      if (session.sealed) return { outcome: 'already-closed' };
      if (session.end > watermark) return { outcome: 'not-due' };
      const b = new ExpressionBuilder();
      b.set(ATTR.sealed, { BOOL: true })
        .set(ATTR.sealedAt, num(closedAt))
        .set(ATTR.status, str(WINDOW_STATUS.CLOSED))
        .set(ATTR.closedAt, num(closedAt))
        .set(ATTR.version, num(session.version + 1))
        .set(
          TABLE_KEYS.dueIndex.partitionKey,
          str(closedPartition(this.pipeline, bucketOf(ref.key, this.#dueBuckets))),
        )
        .set(TABLE_KEYS.dueIndex.sortKey, str(padTime(closedAt)));
      const won = await this.#conditionalWrite({
        Key: this.#sessionKey(ref.key, ref.start),
        UpdateExpression: b.updateExpression(),
        // Sealed exactly the contents read: no merge landed in between, and no other closer won.
        ConditionExpression: allOf(sessionVersionIs(b, session.version), sessionNotSealed(b)),
        ...b.attributes(),
      });
      if (won) {
        return {
          outcome: 'closed',
          session: { key: ref.key, start: session.start, end: session.end, acc: session.acc },
        };
      }
    }
    throw new WindowStateConflictError(
      { pipeline: this.pipeline, key: ref.key, windowStart: ref.start },
      this.#maxAttempts,
    );
  }

  /** The contents of a sealed (CLOSED or EMITTED) session, for re-emission; `undefined` otherwise. */
  async readClosedSession(ref: SessionRef): Promise<(SessionRef & { acc: AccSet }) | undefined> {
    const session = await this.#getSession(ref);
    if (session === undefined || !session.sealed) return undefined;
    return { key: ref.key, start: session.start, end: session.end, acc: session.acc };
  }

  /**
   * Records that a closed session's result was emitted: CLOSED → EMITTED, and it leaves the
   * repair index. A second call reports `already-emitted`.
   *
   * @throws {WindowNotClosedError} the session is not closed.
   */
  async markSessionEmitted(ref: SessionRef, emittedAt: number): Promise<EmitOutcome> {
    const b = new ExpressionBuilder();
    b.set(ATTR.status, str(WINDOW_STATUS.EMITTED))
      .set(ATTR.emittedAt, num(emittedAt))
      .remove(TABLE_KEYS.dueIndex.partitionKey)
      .remove(TABLE_KEYS.dueIndex.sortKey);
    const done = await this.#conditionalWrite({
      Key: this.#sessionKey(ref.key, ref.start),
      UpdateExpression: b.updateExpression(),
      ConditionExpression: windowIsClosed(b),
      ...b.attributes(),
    });
    if (done) return 'emitted';
    const item = await this.#getItem(ref);
    const status = item === undefined ? undefined : readString(item, ATTR.status);
    if (status === WINDOW_STATUS.EMITTED) return 'already-emitted';
    throw new WindowNotClosedError(
      { pipeline: this.pipeline, key: ref.key, windowStart: ref.start, windowEnd: ref.end },
      status,
    );
  }

  async #getSession(ref: SessionRef): Promise<StoredSession | undefined> {
    const item = await this.#getItem(ref);
    return item === undefined ? undefined : this.#decodeSession(item);
  }

  async #getItem(ref: SessionRef): Promise<RawItem | undefined> {
    const out = await countRead(
      () =>
        this.#client.send(
          new GetItemCommand({
            TableName: this.#tableName,
            Key: this.#sessionKey(ref.key, ref.start),
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      this.stats,
    );
    return out.Item;
  }

  // ---------------------------------------------------------------------------------------------
  // Requests
  // ---------------------------------------------------------------------------------------------

  /** A conditional write whose failed condition is an expected outcome: true if it was applied. */
  async #conditionalWrite(input: Omit<UpdateItemCommandInput, 'TableName'>): Promise<boolean> {
    return conditionalUpdate(this.#client, this.#tableName, input, this.stats);
  }
}
