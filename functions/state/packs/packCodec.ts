import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { AccSet } from '../types';

/** One key's accumulators in a pack. */
export type PackEntry = readonly [key: string, acc: AccSet];

/**
 * Encodes a pack body: the entries as JSON, raw-deflated. DynamoDB bills items by size, and a
 * batch's accumulators repeat their aggregate names, keys' shapes and hash prefixes on every
 * entry: deflate takes a reference workload's pack from ~9 KB of JSON to ~3 KB (docs/benchmarks.md).
 * `node:zlib` ships with the runtime, so the bundle does not grow.
 *
 * @example
 * const body = encodePack([['/home', { views: 3 }]]);
 */
export function encodePack(entries: readonly PackEntry[]): Uint8Array {
  return deflateRawSync(JSON.stringify(entries));
}

/**
 * Decodes a pack body written by {@link encodePack}.
 *
 * @throws {TypeError} the body is not a pack (corrupt or foreign item)
 */
export function decodePack(body: Uint8Array): PackEntry[] {
  const entries: unknown = JSON.parse(inflateRawSync(body).toString('utf8'));
  if (
    !Array.isArray(entries) ||
    !entries.every(
      (e) =>
        Array.isArray(e) &&
        e.length === 2 &&
        typeof e[0] === 'string' &&
        typeof e[1] === 'object' &&
        e[1] !== null,
    )
  ) {
    throw new TypeError('not a pack body: expected [key, accumulators] pairs');
  }
  return entries as PackEntry[];
}
