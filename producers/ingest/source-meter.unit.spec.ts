import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SourceMeter, hasIdr } from './source-meter.ts';

const nal = (type: number, size: number) => [0, 0, 0, 1, type, ...Array.from({ length: size - 5 }, () => 0x55)];
const idr = Uint8Array.from([...nal(7, 20), ...nal(8, 8), ...nal(0x65, 1000)]);
const p = Uint8Array.from(nal(0x41, 500));

describe('source meter', () => {
  it('finds an IDR slice among the NAL units of an access unit, and nothing else', () => {
    assert.equal(hasIdr(idr), true);
    assert.equal(hasIdr(p), false);
    assert.equal(hasIdr(Uint8Array.from([0, 0, 1, 0x65, 0x88])), true, 'the 3-byte start code too');
  });

  it('reads bits and frames per second over its window, and the keyframe distance by source time', () => {
    const m = new SourceMeter(0);
    // 30 fps for 2 s, a keyframe every 60 frames (2 s), 128 bytes of audio every 1/50 s.
    for (let f = 0; f < 60; f++) m.video(1000 + (f * 1000) / 30, f % 60 === 0 ? idr : p);
    m.video(3000, idr);
    for (let a = 0; a < 100; a++) m.audio(128);
    assert.equal(m.read(500), null, 'under a second is no reading');
    const r = m.read(2000)!;
    const bytes = 2 * idr.length + 59 * p.length + 100 * 128;
    assert.equal(r.bitsPerSecond, Math.round((bytes * 8) / 2));
    assert.equal(r.framesPerSecond, 30.5);
    assert.equal(r.keyframeIntervalS, 2);
    const next = m.read(4000)!;
    assert.deepEqual(
      next,
      { bitsPerSecond: 0, framesPerSecond: 0, keyframeIntervalS: 2 },
      'a new window; the distance stays',
    );
  });
});
