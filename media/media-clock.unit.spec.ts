import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaClock } from './media-clock.ts';

describe('media clock', () => {
  it("dates media by the tightest bound, not by ffmpeg's late first fragment", () => {
    const clock = new MediaClock();
    // Captured from 10_000 on; ffmpeg's start-up holds the first frames back 3 s, then it keeps up
    // with 200 ms of pipeline.
    clock.observe(13_000, 0);
    assert.equal(clock.dateOf(0, 0, 13_000), 13_000, 'the first segment is dated by what was known then');
    clock.observe(12_300, 2_100);
    clock.observe(12_400, 2_200);
    assert.equal(clock.dateOf(1, 2_000, 12_400), 12_200, 'later segments carry the tighter bound');
    assert.equal(clock.dateOf(1, 2_500, 12_900), 12_700, 'parts follow their segment');
  });

  it('a date once given never changes, so renditions agree and players can align by it', () => {
    const clock = new MediaClock();
    clock.observe(5_000, 0);
    const first = clock.dateOf(0, 0, 5_000);
    clock.observe(4_000, 1_000);
    assert.equal(clock.dateOf(0, 0, 6_000), first, 'another rendition reaching segment 0 later');
    assert.equal(clock.dateOf(0, 1_000, 6_000), first + 1_000);
  });

  it('a transcode that falls behind keeps its dates: the growing delay is what shows it', () => {
    const clock = new MediaClock();
    clock.observe(1_000, 0);
    clock.observe(4_000, 2_000); // half real time: a looser bound, ignored
    assert.equal(clock.dateOf(1, 2_000, 4_000), 3_000);
  });

  it('without any fragment yet, media time 0 is now', () => {
    assert.equal(new MediaClock().dateOf(7, 0, 42), 42);
  });

  it('forgets dates far behind the newest segment', () => {
    const clock = new MediaClock(2);
    clock.observe(0, 0);
    assert.equal(clock.dateOf(0, 0, 0), 0);
    clock.observe(-500, 4_000);
    clock.dateOf(2, 4_000, 0);
    assert.equal(clock.dateOf(0, 0, 0), -4_500, 'segment 0 was forgotten and dated afresh');
  });
});
