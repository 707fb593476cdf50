import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTable, rankByPeak } from './format.ts';

describe('ksql output', () => {
  it('ranks a day of peaks, highest first, ties by stream', () => {
    const rows = [
      ['b', 5],
      ['a', 9],
      ['c', 9],
      ['d', 1],
    ];
    assert.deepEqual(rankByPeak(['STREAMID', 'PEAK_VIEWERS'], rows, 3), [
      [1, 'a', 9],
      [2, 'c', 9],
      [3, 'b', 5],
    ]);
    assert.throws(() => rankByPeak(['X'], rows, 3), /expected STREAMID and PEAK_VIEWERS/);
  });

  it('aligns a table', () => {
    assert.equal(formatTable(['a', 'long'], [['xyz', 1]]), 'a    long\n---  ----\nxyz  1');
  });
});
