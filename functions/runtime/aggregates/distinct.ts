import {
  AGGREGATE_KIND,
  DEFAULT_DISTINCT_EXACT_THRESHOLD,
  DEFAULT_HLL_PRECISION,
} from '../constants';
import { AggregateValueError, InvalidAggregateError } from '../errors';
import type { Aggregate } from '../types';
import { HyperLogLog } from './HyperLogLog';
import { hash53 } from './hash53';

/** Stored accumulator of {@link distinct}. */
export type DistinctAcc =
  /** Sorted, unique 53-bit hashes of the values (at most `exactThreshold`). */
  | { readonly kind: 'exact'; readonly hashes: readonly number[] }
  /** HyperLogLog registers, 6 bits each packed 4 per 3 bytes, base64. */
  | { readonly kind: 'hll'; readonly precision: number; readonly registers: string };

/** Working accumulator of {@link distinct}: a hash list until the threshold, then a dense sketch. */
export interface DistinctWork {
  hashes: number[];
  hll: HyperLogLog | null;
}

/** Options of {@link distinct}. */
export interface DistinctOptions {
  /**
   * Up to this many distinct values the count is exact (hashes are kept); above, HyperLogLog.
   * @default 64
   */
  readonly exactThreshold?: number;
  /**
   * HyperLogLog precision p (2^p registers, standard error 1.04/√(2^p)); 4..16.
   * @default 12 (1.63 % standard error, 4,096 base64 characters stored)
   */
  readonly precision?: number;
}

const toHll = (precision: number, hashes: readonly number[]): HyperLogLog => {
  const hll = new HyperLogLog(precision);
  for (const h of hashes) hll.insert(h);
  return hll;
};

type HllAcc = Extract<DistinctAcc, { kind: 'hll' }>;

/**
 * Registers of the HLL accumulators this instance built (by `seal` or `merge`), so that merging
 * or reading them again skips decoding the base64 (most merges in a warm Lambda take the stored
 * image it wrote last, or a delta it just sealed). Keyed by the accumulator object, never by its
 * content; the registers are never mutated once here, and an accumulator read from storage is
 * simply absent and decoded.
 */
const decoded = new WeakMap<HllAcc, Uint8Array>();

/**
 * The stored form of a sketch; `hll` must not be mutated afterwards. Its base64 `registers` are
 * encoded on first read (an own enumerable getter, so `JSON.stringify`, spreads and equality see
 * a plain string): a batch's partial merged into a slice, or a slice merged into a window, is
 * never encoded; only what the store writes, once.
 */
const hllAcc = (hll: HyperLogLog): HllAcc => {
  let base64: string | undefined;
  const acc: HllAcc = {
    kind: 'hll',
    precision: hll.precision,
    get registers(): string {
      base64 ??= hll.toBase64();
      return base64;
    },
  };
  decoded.set(acc, hll.registers);
  return acc;
};

/** The registers of a stored sketch, read-only (decoded once per accumulator object). */
const registersOf = (acc: HllAcc): Uint8Array => {
  let registers = decoded.get(acc);
  if (registers === undefined) {
    registers = HyperLogLog.fromBase64(acc.precision, acc.registers).registers;
    decoded.set(acc, registers);
  }
  return registers;
};

/** A sketch of a stored accumulator that may be mutated (a copy of cached registers). */
const loadHll = (precision: number, acc: DistinctAcc): HyperLogLog =>
  acc.kind === 'hll'
    ? new HyperLogLog(acc.precision, registersOf(acc).slice())
    : toHll(precision, acc.hashes);

/** Union of two sorted unique arrays. */
const union = (a: readonly number[], b: readonly number[]): number[] => {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? (a[i] as number) : Number.POSITIVE_INFINITY;
    const y = j < b.length ? (b[j] as number) : Number.POSITIVE_INFINITY;
    if (x <= y) {
      out.push(x);
      i++;
      if (x === y) j++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
};

/**
 * Number of distinct values of a field. Values are compared by their string form (`1` and `'1'`
 * are the same value).
 *
 * Error bound: exact up to `exactThreshold` distinct values (a 53-bit hash per value; a collision
 * needs ~10^8 values to become likely), then HyperLogLog with standard error 1.04/√(2^precision):
 * 1.63 % at the default precision 12 (measured in the tests: RMS error over many seeds ≤ 2 % at
 * 10k and 100k distinct values). Stored size: ≤ 64 hashes (~1.1 KB JSON) or a 3,072-byte sketch
 * as 4,096 base64 characters.
 *
 * @param fn - the value whose distinct count is wanted
 * @example
 * ```ts
 * .aggregate({ users: distinct((e) => e.userId) })
 * ```
 */
export const distinct = <TIn>(
  fn: (input: TIn) => string | number,
  options: DistinctOptions = {},
): Aggregate<TIn, DistinctAcc, number, number, DistinctWork> => {
  const exactThreshold = options.exactThreshold ?? DEFAULT_DISTINCT_EXACT_THRESHOLD;
  const precision = options.precision ?? DEFAULT_HLL_PRECISION;
  if (!Number.isInteger(precision) || precision < 4 || precision > 16) {
    throw new InvalidAggregateError(
      'distinct',
      `precision must be an integer in 4..16, got ${precision}`,
    );
  }
  if (!Number.isInteger(exactThreshold) || exactThreshold < 0) {
    throw new InvalidAggregateError(
      'distinct',
      `exactThreshold must be an integer ≥ 0, got ${exactThreshold}`,
    );
  }
  const seal = (work: DistinctWork): DistinctAcc =>
    work.hll === null
      ? { kind: 'exact', hashes: work.hashes.sort((a, b) => a - b) }
      : hllAcc(work.hll);
  return {
    kind: AGGREGATE_KIND.DISTINCT,
    additive: false,
    options: { exactThreshold, precision },
    value: (input) => {
      const v = fn(input);
      if (typeof v === 'string') return hash53(v);
      if (typeof v === 'number' && Number.isFinite(v)) return hash53(String(v));
      throw new AggregateValueError('distinct', v, 'a string or a finite number');
    },
    init: () => ({ hashes: [], hll: null }),
    add: (work, hash) => {
      if (work.hll !== null) {
        work.hll.insert(hash);
      } else if (!work.hashes.includes(hash)) {
        work.hashes.push(hash);
        if (work.hashes.length > exactThreshold) {
          work.hll = toHll(precision, work.hashes);
          work.hashes = [];
        }
      }
      return work;
    },
    seal,
    empty: () => ({ kind: 'exact', hashes: [] }),
    merge: (a, b) => {
      if (a.kind === 'exact' && b.kind === 'exact') {
        const hashes = union(a.hashes, b.hashes);
        return hashes.length <= exactThreshold
          ? { kind: 'exact', hashes }
          : hllAcc(toHll(precision, hashes));
      }
      const hll = loadHll(precision, a);
      if (b.kind === 'hll') hll.mergeFrom(new HyperLogLog(b.precision, registersOf(b)));
      else for (const h of b.hashes) hll.insert(h);
      return hllAcc(hll);
    },
    result: (acc) =>
      acc.kind === 'exact'
        ? acc.hashes.length
        : Math.round(new HyperLogLog(acc.precision, registersOf(acc)).estimate()),
  };
};
