/**
 * Compares two Kinesis sequence numbers numerically (they are decimal strings of up to 128 digits,
 * without leading zeros), without allocating a BigInt.
 *
 * @returns a negative number when `a < b`, 0 when equal, a positive number when `a > b`
 * @example
 * ```ts
 * compareSequenceNumbers('9', '10'); // < 0 (a string comparison would say > 0)
 * ```
 */
export const compareSequenceNumbers = (a: string, b: string): number => {
  if (a.length !== b.length) return a.length - b.length;
  if (a === b) return 0;
  return a < b ? -1 : 1;
};

/**
 * A sequence number without leading zeros, the form {@link compareSequenceNumbers} assumes.
 * Kinesis writes none; a hand-made record (a test, a replay tool) may, and `0009` must still be
 * the record `9` a fence or cursor stored.
 *
 * @example
 * ```ts
 * withoutLeadingZeros('0009'); // '9'
 * ```
 */
export const withoutLeadingZeros = (sequenceNumber: string): string =>
  sequenceNumber.length > 1 && sequenceNumber.charCodeAt(0) === 0x30
    ? sequenceNumber.replace(/^0+(?=\d)/, '')
    : sequenceNumber;
