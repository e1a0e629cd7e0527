import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import type { WindowStoreStats } from './types';

/** What a DynamoDB command output reports about the capacity it consumed. */
type WithConsumedCapacity = {
  ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] | undefined;
};

/** A zeroed request counter. */
export function emptyStats(): WindowStoreStats {
  return { writeRequests: 0, readRequests: 0, conflicts: 0, consumedCapacityUnits: 0 };
}

/** Adds the capacity units a request consumed to every counter. */
export function countConsumed(
  capacity: ConsumedCapacity | ConsumedCapacity[] | undefined,
  ...counters: WindowStoreStats[]
): void {
  const units = (
    Array.isArray(capacity) ? capacity : capacity === undefined ? [] : [capacity]
  ).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
  for (const counter of counters) counter.consumedCapacityUnits += units;
}

/** Sends a read request, counting it (and, once answered, its consumed capacity) on every counter. */
export async function countRead<T extends WithConsumedCapacity>(
  send: () => Promise<T>,
  ...counters: WindowStoreStats[]
): Promise<T> {
  for (const counter of counters) counter.readRequests++;
  const out = await send();
  countConsumed(out.ConsumedCapacity, ...counters);
  return out;
}

/** Sends a write request, counting it (and, once applied, its consumed capacity) on every counter. */
export async function countWrite<T extends WithConsumedCapacity>(
  send: () => Promise<T>,
  ...counters: WindowStoreStats[]
): Promise<T> {
  for (const counter of counters) counter.writeRequests++;
  const out = await send();
  countConsumed(out.ConsumedCapacity, ...counters);
  return out;
}

/** Counts a failed write condition (someone else wrote first) on every counter. */
export function countConflict(...counters: WindowStoreStats[]): void {
  for (const counter of counters) counter.conflicts++;
}
