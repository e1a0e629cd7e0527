import type { FeedRecord } from './feedStream';

/** Devices the enrich events come from (a field of each event; the partition key is the event id). */
const DEVICES = 10;

/**
 * The demo's `enrich` events, `count` of them (`Infinity`: endless) from `start`, one every
 * `intervalMs`. Each is `{ id: "event-<i>", device, value: i, sentAt }`, stamped with the time it is
 * actually sent so put-to-output latency can be measured on `numbers-doubled`. One partition key
 * per event spreads them over every shard.
 */
export function* enrichRecords(
  start: number,
  intervalMs: number,
  count: number,
  clock: () => number = Date.now,
): Generator<FeedRecord> {
  for (let i = 0; i < count; i++) {
    const id = `event-${i}`;
    yield {
      sentAt: start + i * intervalMs,
      partitionKey: id,
      data: () =>
        JSON.stringify({ id, device: `device-${i % DEVICES}`, value: i, sentAt: clock() }),
    };
  }
}
