import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { row, settled, type Metric } from './results.ts';

const metric = (target: string, meetsTarget: boolean | null): Metric => ({
  metric: 'm',
  value: 1,
  unit: 'x',
  peer: null,
  ratio: null,
  target,
  meetsTarget,
});

describe('benchmark rows', () => {
  it('a report-only row shows no "met" value, whatever the benchmark set', () => {
    assert.match(row(settled(metric('report only', true))), /\| report only \| — \|$/);
    assert.match(row(settled(metric('report only (issue #21 sets no figure)', false))), /\| — \|$/);
  });

  it('a row with a target says yes or no', () => {
    assert.match(row(metric('≥ 0.7× direct _bulk (issue #23)', true)), /\| yes \|$/);
    assert.match(row(metric('≥ 0.7× direct _bulk (issue #23)', false)), /\| \*\*no\*\* \|$/);
  });
});
