import { type AttributeValue, QueryCommand } from '@aws-sdk/client-dynamodb';
import { str } from '../attributes';
import { backoff } from '../backoff';
import { TABLE_KEYS } from '../constants';
import { WindowStateConflictError } from '../errors';
import { ExpressionBuilder } from '../expressions';
import { packPartition } from '../keys';
import { countRead } from '../requestStats';
import type { AccSet, MergeAccSets, WindowStoreStats } from '../types';
import { PACK_ATTR, type PackTable } from './PackTable';
import { decodePack } from './packCodec';

/** What the reader needs to know of a slice's seal. */
export interface SealedParts {
  /** How many pack parts a slice this instance sealed holds; `undefined` when it did not seal it. */
  partsOf(sliceStart: number): number | undefined;
}

/**
 * Reads a slice's packs and merges them per key; keeps the last `cacheSize` sealed slices (their
 * packs never change), so a hopping window's slices are read once for all the windows they are in.
 */
export class PackReader {
  readonly #t: PackTable;
  readonly #merge: MergeAccSets;
  readonly #slices: SealedParts;
  readonly #cacheSize: number;
  /** Sealed slices' merged packs, key → accumulators; least recently used first. */
  readonly #contents = new Map<number, ReadonlyMap<string, AccSet>>();

  constructor(table: PackTable, merge: MergeAccSets, slices: SealedParts, cacheSize: number) {
    this.#t = table;
    this.#merge = merge;
    this.#slices = slices;
    this.#cacheSize = cacheSize;
  }

  /**
   * A slice's packs merged per key (strongly consistent Query, paged). For a slice this instance
   * sealed, it waits until every pack part the seal counted is visible: a transaction's items
   * commit one by one, and a Query is read-committed per item, so a pack of a transaction that
   * committed on the slice row just before the seal could otherwise be missed. Sealed slices are
   * cached.
   *
   * @throws {WindowStateConflictError} the counted parts did not all appear within `maxAttempts`
   *   reads (nothing is emitted; the closer's invocation is retried).
   */
  async read(sliceStart: number, counter: WindowStoreStats): Promise<ReadonlyMap<string, AccSet>> {
    const cached = this.#contents.get(sliceStart);
    if (cached !== undefined) {
      this.#contents.delete(sliceStart);
      this.#contents.set(sliceStart, cached);
      return cached;
    }
    const expected = this.#slices.partsOf(sliceStart);
    for (let attempt = 1; ; attempt++) {
      const { merged, parts } = await this.#queryPacks(sliceStart, counter);
      if (expected === undefined) return merged;
      if (parts >= expected) {
        if (this.#cacheSize > 0) {
          this.#contents.set(sliceStart, merged);
          if (this.#contents.size > this.#cacheSize) {
            const oldest = this.#contents.keys().next().value;
            if (oldest !== undefined) this.#contents.delete(oldest);
          }
        }
        return merged;
      }
      if (attempt >= this.#t.maxAttempts) {
        throw new WindowStateConflictError(
          { pipeline: this.#t.pipeline, key: '', sliceStart },
          attempt,
        );
      }
      await backoff(attempt);
    }
  }

  /** One read of a slice's packs: merged per key, and how many parts there were. */
  async #queryPacks(
    sliceStart: number,
    counter: WindowStoreStats,
  ): Promise<{ merged: Map<string, AccSet>; parts: number }> {
    const merged = new Map<string, AccSet>();
    let parts = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const b = new ExpressionBuilder();
      const page = await countRead(
        () =>
          this.#t.client.send(
            new QueryCommand({
              TableName: this.#t.tableName,
              KeyConditionExpression: `${b.name(TABLE_KEYS.partitionKey)} = ${b.value(str(packPartition(this.#t.pipeline, sliceStart)))}`,
              ...b.attributes(),
              ConsistentRead: true,
              ExclusiveStartKey: startKey,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        counter,
        this.#t.stats,
      );
      for (const item of page.Items ?? []) {
        const body = item[PACK_ATTR.body]?.B;
        if (body === undefined) continue;
        parts++;
        for (const [key, acc] of decodePack(body)) {
          const before = merged.get(key);
          merged.set(key, before === undefined ? acc : this.#merge(before, acc));
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return { merged, parts };
  }
}
