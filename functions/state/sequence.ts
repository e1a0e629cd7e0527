import { compareSequenceNumbers, withoutLeadingZeros } from '#commons/compareSequenceNumbers';
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
  const stripped = withoutLeadingZeros(sequenceNumber);
  if (stripped.length > SEQUENCE_WIDTH) {
    throw new InvalidSequenceNumberError(sequenceNumber);
  }
  return stripped;
}

/** Zero-pads a sequence number to {@link SEQUENCE_WIDTH} digits, so string order is numeric order. */
export function padSequence(sequenceNumber: string): string {
  return normalizeSequence(sequenceNumber).padStart(SEQUENCE_WIDTH, '0');
}

/**
 * Validates and normalizes two sequence numbers, then compares them numerically with
 * {@link compareSequenceNumbers}, the one comparison rule for sequence numbers.
 *
 * @returns a negative number when `a < b`, 0 when equal, a positive number when `a > b`
 * @throws {InvalidSequenceNumberError} either is not a decimal sequence number
 * @example
 * compareSequences('007', '10'); // < 0
 */
export function compareSequences(a: string, b: string): number {
  return compareSequenceNumbers(normalizeSequence(a), normalizeSequence(b));
}
