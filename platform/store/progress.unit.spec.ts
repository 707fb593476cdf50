import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressLine, progressView, rateOf } from './progress.ts';

describe('replay progress', () => {
  it('rate and ETA come from the pace since the first events were done', () => {
    assert.deepEqual(rateOf({ done: 600, total: 2100 }, 5000, { at: 3000, done: 100 }), {
      perSecond: 250,
      etaSeconds: 6,
    });
    assert.equal(rateOf({ done: 0, total: 10 }, 1000, undefined).etaSeconds, undefined);
    assert.equal(rateOf({ done: 0, total: 0 }, 0, undefined).etaSeconds, 0);
  });

  it('a plain line names the events, the percentage, the rate and the ETA', () => {
    assert.equal(
      progressLine('replay chat', { done: 12_345, total: 100_000 }, { perSecond: 6172.5, etaSeconds: 14.2 }),
      'replay chat: 12,345/100,000 events (12%), 6,173 ev/s, ETA 14 s',
    );
  });

  it('the start-up before the first events are done does not slow the pace', () => {
    let t = 0;
    const lines: string[] = [];
    const view = progressView('r', { tty: false, write: (l) => lines.push(l), everyMs: 1000, now: () => t });
    view.update({ done: 0, total: 10_000 });
    t = 5000; // five seconds of start-up
    view.update({ done: 1000, total: 10_000 });
    t = 6000;
    view.update({ done: 2000, total: 10_000 });
    assert.equal(lines.at(-1), 'r: 2,000/10,000 events (20%), 1,000 ev/s, ETA 8 s');
  });

  it('off a terminal it writes a line per period and at each quarter, and the last state on stop', () => {
    let t = 0;
    const lines: string[] = [];
    const view = progressView('r', { tty: false, write: (l) => lines.push(l), everyMs: 60_000, now: () => t });
    view.update({ done: 1, total: 100 });
    t = 1000;
    view.update({ done: 5, total: 100 });
    view.update({ done: 26, total: 100 });
    view.update({ done: 30, total: 100 });
    view.update({ done: 100, total: 100 });
    view.stop();
    assert.deepEqual(
      lines.map((l) => /\((\d+)%\)/.exec(l)?.[1]),
      ['1', '26', '100', '100'],
    );
  });
});
