import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameRate } from './ffmpeg.ts';

describe('probe frame rate', () => {
  it("is ffprobe's r_frame_rate for a constant-rate source", () => {
    assert.equal(frameRate('30/1', '30/1'), 30);
    assert.equal(frameRate('30000/1001', '0/0'), 29.97);
    assert.equal(frameRate('25/1', undefined), 25);
  });

  it('is the average for a variable-rate source bridged to a 1 ms time base (a canvas over WHIP)', () => {
    assert.equal(frameRate('1000/1', '30/1'), 30);
    assert.equal(frameRate('0/0', '24/1'), 24);
    assert.equal(frameRate(undefined, undefined), null);
  });
});
