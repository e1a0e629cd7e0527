/**
 * Compares two Kinesis sequence numbers (decimal strings of up to 128 digits) as numbers:
 * negative if `a` comes first, 0 if equal, positive if `a` comes later.
 */
export function compareSequenceNumbers(a: string, b: string): number {
  const left = BigInt(a);
  const right = BigInt(b);
  return left < right ? -1 : left > right ? 1 : 0;
}
