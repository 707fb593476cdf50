import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoPublisherArgs } from './broadcast.ts';

describe('demo publisher', () => {
  it('publishes a paced test pattern with a tone and a burnt-in UTC clock that starts at the wall clock', () => {
    const startedAtMs = Date.UTC(2026, 0, 2, 13, 45, 6, 789);
    const args = demoPublisherArgs({ size: '854x480', fps: 30, url: 'rtmp://h/live/KEY', startedAtMs });
    assert.ok(args.includes('-re'), 'real-time pacing: the clock must track the wall clock');
    assert.equal(args[args.indexOf('-i') + 1], 'testsrc2=size=854x480:rate=30');
    assert.ok(args.includes('sine=frequency=440:sample_rate=48000'));
    const vf = args[args.indexOf('-vf') + 1]!;
    // 13:45:06.789 UTC = 49506.789 s into the day: drawtext adds each frame's pts to it.
    assert.match(vf, /^drawtext=text='%\{pts\\:hms\\:49506\.789\} UTC'/);
    assert.equal(args[args.indexOf('-g') + 1], '60');
    assert.deepEqual(args.slice(-3), ['-f', 'flv', 'rtmp://h/live/KEY']);
  });
});
