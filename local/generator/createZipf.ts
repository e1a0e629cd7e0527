import type { Random } from './createRandom';

/**
 * A Zipf sampler over ranks 0..n−1: P(rank k) ∝ 1/(k+1)^s. Precomputes the CDF once (O(n)),
 * samples by binary search (O(log n)).
 *
 * @param n - number of ranks (≥ 1)
 * @param s - skew (> 0; ~1 for web pages and products)
 * @example
 * const page = createZipf(50, 1.1);
 * PAGES[page(random)];
 */
export function createZipf(n: number, s: number): (random: Random) => number {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`zipf n must be an integer ≥ 1, got ${n}`);
  if (!(s > 0)) throw new RangeError(`zipf s must be > 0, got ${s}`);
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / (k + 1) ** s;
    cdf[k] = total;
  }
  return (random) => {
    const u = random.next() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}
