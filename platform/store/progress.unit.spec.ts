import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressLine, progressView, rateOf } from './progress.ts';

describe('replay progress', () => {
  it('rate and ETA come from the pace so far', () => {
    assert.deepEqual(rateOf({ done: 500, total: 2000 }, 2000), { perSecond: 250, etaSeconds: 6 });
    assert.equal(rateOf({ done: 0, total: 10 }, 1000).etaSeconds, undefined);
    assert.equal(rateOf({ done: 0, total: 0 }, 0).etaSeconds, 0);
  });

  it('a plain line names the events, the percentage, the rate and the ETA', () => {
    assert.equal(
      progressLine('replay chat', { done: 12_345, total: 100_000 }, 2000),
      'replay chat: 12,345/100,000 events (12%), 6,173 ev/s, ETA 15 s',
    );
  });

  it('off a terminal it writes at most one line per period, and the last state on stop', () => {
    const lines: string[] = [];
    const view = progressView('r', { tty: false, write: (l) => lines.push(l), everyMs: 60_000 });
    view.update({ done: 1, total: 10 });
    view.update({ done: 5, total: 10 });
    view.update({ done: 10, total: 10 });
    view.stop();
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^r: 1\/10 events \(10%\)/);
    assert.match(lines[1]!, /^r: 10\/10 events \(100%\)/);
  });
});
