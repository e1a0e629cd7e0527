import { AccumulatorMismatchError } from '../errors';

// Math functions bound once: hot-path calls skip the global lookup (slow under Jest's sandbox).
const { imul } = Math;

/** Bits of the rank in an entry (a register is 6 bits). */
const RANK_BITS = 6;
/** Bits per base64 character. */
const CHAR_BITS = 6;
/** Bits of the hashes fed in (`hash53`); the largest rank is `HASH_BITS - precision + 1`. */
const HASH_BITS = 53;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Char code → ASCII code of the base64 digit (encoding). */
const DIGIT_CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
/** ASCII code → value of the base64 digit, -1 if not one (decoding). */
const DIGIT_VALUES = new Int8Array(128).fill(-1);
for (let v = 0; v < ALPHABET.length; v++) DIGIT_VALUES[ALPHABET.charCodeAt(v)] = v;

/** A decoded sketch: its `2^precision` registers and how many of them are non-zero. */
export interface SparseRegisters {
  readonly registers: Uint8Array;
  readonly nonZero: number;
}

/** Bits of one sparse entry: the register index (`precision` bits), then its rank (6 bits). */
const entryBits = (precision: number): number => precision + RANK_BITS;

/** Base64 characters of `n` entries. */
const sparseLength = (precision: number, n: number): number =>
  Math.ceil((n * entryBits(precision)) / CHAR_BITS);

/**
 * Most non-zero registers a sparse form may hold: while its string is no longer than the dense
 * one (`HyperLogLog.toBase64`, `2^precision` characters). 1,365 at precision 12.
 */
export const sparseCapacity = (precision: number): number =>
  Math.floor(((1 << precision) * CHAR_BITS) / entryBits(precision));

/**
 * Non-zero registers, counted up to `cap + 1` only: the answer is exact when ≤ `cap`, and
 * otherwise just says "more than `cap`" (a dense sketch stops the scan early). Registers are at
 * most 63 (6 bits), so they are counted 4 at a time: adding 63 to a byte sets its bit 6 exactly
 * when it is non-zero, and never carries into the next byte.
 */
export const countNonZero = (registers: Uint8Array, cap: number): number => {
  let n = 0;
  if (registers.byteOffset % 4 !== 0 || registers.length % 4 !== 0) {
    for (let i = 0; i < registers.length; i++) {
      if (registers[i] !== 0 && ++n > cap) return n;
    }
    return n;
  }
  const words = new Uint32Array(registers.buffer, registers.byteOffset, registers.length / 4);
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as number;
    if (word === 0) continue;
    n += imul(((word + 0x3f3f3f3f) >>> 6) & 0x01010101, 0x01010101) >>> 24;
    if (n > cap) return n;
  }
  return n;
};

/**
 * Sparse form of HyperLogLog registers (`2^precision` of them): each non-zero register as its
 * index (`precision` bits) then its rank (6 bits), by increasing index, bit-packed most significant
 * bit first into base64 digits, the last one padded with zero bits. At precision 12 an entry is
 * exactly 3 characters.
 */
export const toSparseBase64 = (precision: number, registers: Uint8Array): string => {
  const width = entryBits(precision);
  const out = Buffer.allocUnsafe(
    sparseLength(precision, countNonZero(registers, registers.length)),
  );
  let j = 0;
  let bits = 0; // pending bits, fewer than 6 between entries
  let pending = 0;
  for (let i = 0; i < registers.length; i++) {
    const rank = registers[i] as number;
    if (rank === 0) continue;
    pending = (pending << width) | (i << RANK_BITS) | rank; // ≤ 5 + 22 bits
    bits += width;
    while (bits >= CHAR_BITS) {
      bits -= CHAR_BITS;
      out[j++] = DIGIT_CODES[pending >>> bits] as number;
      pending &= (1 << bits) - 1;
    }
  }
  if (bits > 0) out[j++] = DIGIT_CODES[pending << (CHAR_BITS - bits)] as number;
  return out.toString('latin1');
};

const mismatch = (precision: number, reason: string): AccumulatorMismatchError =>
  new AccumulatorMismatchError(
    'distinct',
    `sparse HyperLogLog entries of precision ${precision} ${reason}`,
  );

/**
 * Decodes {@link toSparseBase64}, strictly: the precision must be an integer in 4..16, the string
 * base64 digits (no padding) of whole entries with zero padding bits, the indexes in range and
 * strictly increasing, the ranks in 1..`54 - precision`. Anything else throws
 * `AccumulatorMismatchError`, as the dense decoder does.
 */
export const fromSparseBase64 = (precision: number, entries: string): SparseRegisters => {
  if (!Number.isInteger(precision) || precision < 4 || precision > 16) {
    throw mismatch(precision, 'need a precision in 4..16');
  }
  if (typeof entries !== 'string') throw mismatch(precision, 'must be a string');
  const width = entryBits(precision);
  const nonZero = Math.floor((entries.length * CHAR_BITS) / width);
  if (sparseLength(precision, nonZero) !== entries.length) {
    throw mismatch(precision, `cannot be ${entries.length} characters long`);
  }
  const m = 1 << precision;
  const maxRank = HASH_BITS - precision + 1;
  const registers = new Uint8Array(m);
  let c = 0;
  let bits = 0;
  let pending = 0;
  let previous = -1;
  const digit = (): number => {
    const code = entries.charCodeAt(c++);
    const v = code < 128 ? (DIGIT_VALUES[code] as number) : -1;
    if (v < 0) throw mismatch(precision, `hold a non-base64 character at ${c - 1}`);
    return v;
  };
  for (let e = 0; e < nonZero; e++) {
    while (bits < width) {
      pending = (pending << CHAR_BITS) | digit(); // ≤ 21 + 6 bits
      bits += CHAR_BITS;
    }
    bits -= width;
    const entry = pending >>> bits;
    pending &= (1 << bits) - 1;
    const index = entry >>> RANK_BITS;
    const rank = entry & ((1 << RANK_BITS) - 1);
    if (index <= previous) {
      throw mismatch(precision, `must have increasing indexes, got ${index} after ${previous}`);
    }
    if (rank === 0 || rank > maxRank) {
      throw mismatch(precision, `hold rank ${rank} at index ${index}, outside 1..${maxRank}`);
    }
    registers[index] = rank;
    previous = index;
  }
  // Every character is read (the length was checked); the last one's spare bits must be zero.
  if (pending !== 0) throw mismatch(precision, 'must end with zero padding bits');
  return { registers, nonZero };
};
