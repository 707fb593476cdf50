import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, nearestRank, percentile, percentileOfCounts } from './stats.ts';

describe('percentiles (nearest rank)', () => {
  it('take the value at rank ceil(p/100 · n): always one that was observed', () => {
    const tens = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    assert.equal(percentile(tens, 50), 50, 'rank 5 of 10: the lower middle, not 55');
    assert.equal(percentile(tens, 51), 60);
    assert.equal(percentile(tens, 95), 100);
    assert.equal(percentile(tens, 90), 90);
    assert.equal(percentile(tens, 0), 10, 'p0 is the minimum');
    assert.equal(percentile(tens, 100), 100, 'p100 is the maximum');
  });

  it('keep the tail of a small sample: p99 of 20 is the slowest', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
    assert.equal(percentile(twenty, 99), 20);
    assert.equal(percentile(twenty, 95), 19);
  });

  it('read values in any order, leave them as they are, and do not round', () => {
    const values = [3.25, 1.5, 2.75];
    assert.equal(percentile(values, 50), 2.75);
    assert.deepEqual(values, [3.25, 1.5, 2.75]);
    assert.equal(percentile([-5, 5], 50), -5, 'numeric order, not string order');
  });

  it('are NaN for no values, and refuse a p outside 0 to 100', () => {
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.throws(() => percentile([1], 101), RangeError);
    assert.throws(() => percentile([1], -1), RangeError);
    assert.throws(() => percentile([1], NaN), RangeError);
  });

  it('ranks: whole, at least 1, a fractional p without floating-point drift', () => {
    assert.deepEqual(
      [nearestRank(100, 95), nearestRank(100, 7), nearestRank(1000, 99.9), nearestRank(3, 1), nearestRank(0, 50)],
      [95, 7, 999, 1, 0],
    );
  });

  it('read a histogram the same way as the samples it counts', () => {
    const samples = [1, 1, 1, 2, 2, 5, 5, 5, 5, 9];
    const counts = new Map<number, number>();
    for (const v of samples) counts.set(v, (counts.get(v) ?? 0) + 1);
    for (const p of [0, 10, 30, 40, 50, 60, 90, 99, 100]) {
      assert.equal(percentileOfCounts(counts, p), percentile(samples, p), `p${p}`);
    }
  });

  it('rank values a histogram did not count above all it did (Infinity), when told the total', () => {
    const seen: Array<[number, number]> = [
      [20, 5],
      [10, 3],
    ];
    assert.equal(percentileOfCounts(seen, 50, 10), 20, 'rank 5 of 10: counted');
    assert.equal(percentileOfCounts(seen, 90, 10), Infinity, 'rank 9 of 10: one of the two never counted');
    assert.ok(Number.isNaN(percentileOfCounts([], 50)));
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones for an even count', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });
});
