// Math functions bound once: hot-path calls skip the global lookup (slow under Jest's sandbox).
const { log, ceil } = Math;

/** Dense bucket counts of one sign: `counts[i]` is bucket `offset + i`. */
export interface SketchBuckets {
  readonly offset: number;
  readonly counts: readonly number[];
}

/** Stored form of a {@link DDSketch} (plain JSON). */
export interface SketchAcc {
  /** Values folded in. */
  readonly n: number;
  /** Values with magnitude below the minimum indexable one. */
  readonly zero: number;
  /** Exact min and max (0 when `n` is 0). */
  readonly min: number;
  readonly max: number;
  /** Positive values by log-bucket index. */
  readonly pos: SketchBuckets;
  /** Negative values by log-bucket index of their magnitude. */
  readonly neg: SketchBuckets;
}

const EMPTY_BUCKETS: SketchBuckets = { offset: 0, counts: [] };

const toDense = (buckets: Map<number, number>, maxBuckets: number): SketchBuckets => {
  if (buckets.size === 0) return EMPTY_BUCKETS;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const i of buckets.keys()) {
    if (i < lo) lo = i;
    if (i > hi) hi = i;
  }
  // Collapse the lowest buckets (smallest magnitudes) into the lowest kept one.
  const offset = Math.max(lo, hi - maxBuckets + 1);
  const counts = new Array<number>(hi - offset + 1).fill(0);
  for (const [i, c] of buckets) {
    const at = i < offset ? 0 : i - offset;
    counts[at] = (counts[at] as number) + c;
  }
  return { offset, counts };
};

const addDense = (target: Map<number, number>, dense: SketchBuckets): void => {
  for (let i = 0; i < dense.counts.length; i++) {
    const c = dense.counts[i] as number;
    if (c > 0) target.set(dense.offset + i, (target.get(dense.offset + i) ?? 0) + c);
  }
};

/**
 * A DDSketch (Masson, Rim, Lee, "DDSketch: A fast and fully-mergeable quantile sketch with
 * relative-error guarantees", VLDB 2019): values go to logarithmic buckets
 * `(γ^(i−1), γ^i]`, γ = (1+α)/(1−α), so every quantile is returned within relative error α of the
 * exact one, as long as fewer than `maxBuckets` buckets per sign are needed (values spanning
 * γ^maxBuckets: ~10^17 at α = 1 % and 2,048 buckets); past that the smallest magnitudes collapse.
 * Merging adds bucket counts: exact, associative and commutative.
 */
export class DDSketch {
  public readonly relativeAccuracy: number;
  public readonly maxBuckets: number;
  public readonly minMagnitude: number;
  public n = 0;
  public zero = 0;
  public min = Number.POSITIVE_INFINITY;
  public max = Number.NEGATIVE_INFINITY;
  public readonly pos = new Map<number, number>();
  public readonly neg = new Map<number, number>();
  private readonly lnGamma: number;
  private readonly gamma: number;

  constructor(relativeAccuracy: number, maxBuckets: number, minMagnitude: number) {
    this.relativeAccuracy = relativeAccuracy;
    this.maxBuckets = maxBuckets;
    this.minMagnitude = minMagnitude;
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.lnGamma = log(this.gamma);
  }

  /** Adds a finite value. */
  public add(value: number): void {
    this.n += 1;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value > this.minMagnitude) {
      const i = ceil(log(value) / this.lnGamma);
      this.pos.set(i, (this.pos.get(i) ?? 0) + 1);
    } else if (value < -this.minMagnitude) {
      const i = ceil(log(-value) / this.lnGamma);
      this.neg.set(i, (this.neg.get(i) ?? 0) + 1);
    } else {
      this.zero += 1;
    }
  }

  /** Adds the content of a stored sketch. */
  public addAcc(acc: SketchAcc): void {
    if (acc.n === 0) return;
    this.n += acc.n;
    this.zero += acc.zero;
    if (acc.min < this.min) this.min = acc.min;
    if (acc.max > this.max) this.max = acc.max;
    addDense(this.pos, acc.pos);
    addDense(this.neg, acc.neg);
  }

  /** The stored form (dense buckets, collapsed to `maxBuckets` per sign). */
  public toAcc(): SketchAcc {
    return {
      n: this.n,
      zero: this.zero,
      min: this.n === 0 ? 0 : this.min,
      max: this.n === 0 ? 0 : this.max,
      pos: toDense(this.pos, this.maxBuckets),
      neg: toDense(this.neg, this.maxBuckets),
    };
  }

  /** The representative value of bucket `i`: within α of every value in `(γ^(i−1), γ^i]`. */
  public bucketValue(i: number): number {
    return (2 * Math.exp(i * this.lnGamma)) / (this.gamma + 1);
  }

  /**
   * The q-quantile of a stored sketch: within relative error α of the element of rank
   * ⌊q·(n−1)⌋ (0-based) of the sorted input; `null` when empty.
   */
  public quantile(acc: SketchAcc, q: number): number | null {
    if (acc.n === 0) return null;
    const rank = q * (acc.n - 1);
    let seen = 0;
    let estimate: number | undefined;
    for (let i = acc.neg.counts.length - 1; i >= 0 && estimate === undefined; i--) {
      seen += acc.neg.counts[i] as number;
      if (seen > rank) estimate = -this.bucketValue(acc.neg.offset + i);
    }
    if (estimate === undefined) {
      seen += acc.zero;
      if (seen > rank) estimate = 0;
    }
    for (let i = 0; i < acc.pos.counts.length && estimate === undefined; i++) {
      seen += acc.pos.counts[i] as number;
      if (seen > rank) estimate = this.bucketValue(acc.pos.offset + i);
    }
    const value = estimate ?? acc.max;
    return Math.min(acc.max, Math.max(acc.min, value));
  }
}
