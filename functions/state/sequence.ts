import { SEQUENCE_WIDTH } from './constants';
import { InvalidSequenceNumberError } from './errors';

const DECIMAL = /^\d+$/;

/**
 * Validates a Kinesis sequence number and strips leading zeros.
 *
 * @example
 * normalizeSequence('000123'); // '123'
 */
export function normalizeSequence(sequenceNumber: string): string {
  if (!DECIMAL.test(sequenceNumber)) {
    throw new InvalidSequenceNumberError(sequenceNumber);
  }
  const stripped = sequenceNumber.replace(/^0+(?=\d)/, '');
  if (stripped.length > SEQUENCE_WIDTH) {
    throw new InvalidSequenceNumberError(sequenceNumber);
  }
  return stripped;
}

/** Zero-pads a sequence number to {@link SEQUENCE_WIDTH} digits, so string order is numeric order. */
export function padSequence(sequenceNumber: string): string {
  return normalizeSequence(sequenceNumber).padStart(SEQUENCE_WIDTH, '0');
}

/** Compares two sequence numbers numerically (BigInt): negative, zero or positive. */
export function compareSequences(a: string, b: string): number {
  const x = BigInt(normalizeSequence(a));
  const y = BigInt(normalizeSequence(b));
  return x < y ? -1 : x > y ? 1 : 0;
}
