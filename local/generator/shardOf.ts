import { createHash } from 'node:crypto';

const HASH_SPACE = 2n ** 128n;

/**
 * The shard (0-based) a partition key lands on in a stream of `shardCount` shards with evenly
 * split hash key ranges (what CreateStream makes): MD5 of the key as a 128-bit number.
 */
export function shardOf(partitionKey: string, shardCount: number): number {
  const hash = BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
  return Number((hash * BigInt(shardCount)) / HASH_SPACE);
}

/**
 * One key per shard, `<prefix>-<i>` for the smallest i that lands on it: to reach every shard of
 * a stream (warm-up, flush).
 *
 * @example
 * keysCoveringShards('__flush', 2); // ['__flush-0', '__flush-3']
 */
export function keysCoveringShards(prefix: string, shardCount: number): string[] {
  const keys: Array<string | undefined> = new Array(shardCount).fill(undefined);
  let found = 0;
  for (let i = 0; found < shardCount; i++) {
    const key = `${prefix}-${i}`;
    const shard = shardOf(key, shardCount);
    if (keys[shard] === undefined) {
      keys[shard] = key;
      found += 1;
    }
  }
  return keys as string[];
}
