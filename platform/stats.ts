/**
 * Percentiles for every report in the project, by one definition: nearest rank. The p-th
 * percentile (p in percent, 0 to 100) of n values is the value at rank ceil(p/100 · n), counted
 * from 1 in ascending order and at least 1: the smallest value with at least p% of the values at
 * or below it. p0 is the minimum, p100 the maximum; no rounding (a caller formats as it likes).
 *
 * Nearest rank and not linear interpolation, because:
 *   - a reported p99 is a time some request really took, never one between two that nobody saw;
 *   - it does not understate the tail of a small sample: of 20 samples, p99 is the slowest one,
 *     where interpolation would put it 81% of the way from the second slowest;
 *   - it reads the same from raw samples and from a histogram's counts (`percentileOfCounts`),
 *     where there is nothing to interpolate between.
 */

/** The 1-based rank of the p-th percentile among `n` values (0 when there are none). */
export function nearestRank(n: number, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is not between 0 and 100`);
  if (n <= 0) return 0;
  // p·n/100 in floating point can land a hair above a whole number (99.9 · 1000 / 100 is
  // 999.0000000000001); ranks are whole, so that hair is rounding error, not a rank more.
  return Math.min(n, Math.max(1, Math.ceil((p * n) / 100 - 1e-9)));
}

/** The p-th percentile of `values` (any order; not modified); NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const rank = nearestRank(values.length, p);
  if (rank === 0) return NaN;
  return [...values].sort((a, b) => a - b)[rank - 1]!;
}

/**
 * The p-th percentile of values given as (value, how many times) pairs, such as a histogram's
 * buckets, in any order. `total` is how many values there are, when more than were counted: the
 * uncounted ones rank above every counted value, and a rank among them gives Infinity (a
 * message never delivered is later than any that was). NaN when there are none.
 */
export function percentileOfCounts(
  counts: Iterable<readonly [value: number, count: number]>,
  p: number,
  total?: number,
): number {
  const sorted = [...counts].sort((a, b) => a[0] - b[0]);
  const n = total ?? sorted.reduce((sum, [, count]) => sum + count, 0);
  const rank = nearestRank(n, p);
  if (rank === 0) return NaN;
  let seen = 0;
  for (const [value, count] of sorted) {
    seen += count;
    if (seen >= rank) return value;
  }
  return Infinity;
}

/**
 * The median as statistics books define it: the middle value, or for an even count the mean of
 * the two middle ones. For the typical one of a few repeated rounds of a benchmark: of two
 * equally typical rounds, nearest rank's p50 would report the lower one; the mean favours neither.
 * NaN when there are none.
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
