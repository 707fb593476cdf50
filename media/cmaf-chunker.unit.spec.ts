import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Chunker, type Cut, type Fragment } from './cmaf-chunker.ts';

let n = 0;
/** A fragment of one video frame (track 1) and/or one audio frame (track 2), named for the assertions. */
const frag = (o: { video?: { t: number; key?: boolean }; audio?: boolean }): Fragment => {
  const id = `f${n++}`;
  return {
    bytes: [Buffer.from(id)],
    runs: [
      ...(o.video
        ? [{ trackId: 1, baseDecodeTime: o.video.t, samples: 1, duration: 512, startsWithSync: o.video.key ?? false }]
        : []),
      ...(o.audio ? [{ trackId: 2, baseDecodeTime: 0, samples: 1, duration: 1024, startsWithSync: true }] : []),
    ],
  };
};
const names = (c: Cut) =>
  c.type === 'part'
    ? `part ${c.segment}.${c.part} ${c.frames}f${c.independent ? ' I' : ''} @${c.start} [${c.bytes.map(String).join(' ')}]`
    : `segment ${c.segment} ${c.parts} parts ${c.frames}f @${c.start}`;

function feed(chunker: Chunker, frames: Fragment[]): string[] {
  return frames.flatMap((f) => chunker.push(f)).map(names);
}

describe('cutting fMP4 fragments into LL-HLS parts and segments', () => {
  it('closes a part the moment its last frame arrives, and a segment at the next keyframe', () => {
    n = 0;
    const c = new Chunker({ videoTrackId: 1, partFrames: 2 });
    const cuts = feed(c, [
      frag({ video: { t: 0, key: true }, audio: true }),
      frag({ audio: true }),
      frag({ video: { t: 512 } }),
      frag({ audio: true }),
      frag({ video: { t: 1024 } }),
      frag({ video: { t: 1536, key: true } }),
    ]);
    assert.deepEqual(cuts, [
      'part 0.0 2f I @0 [f0 f1 f2]',
      // The audio after a closed part waits for the next video frame, and the short last part
      // closes when the next segment's keyframe comes.
      'part 0.1 1f @1024 [f3 f4]',
      'segment 0 2 parts 3f @0',
    ]);
    assert.deepEqual(c.end().map(names), ['part 1.0 1f I @1536 [f5]', 'segment 1 1 parts 1f @1536']);
  });

  it('a GOP that divides into parts ends its last part on the frame count, before the keyframe', () => {
    n = 0;
    const c = new Chunker({ videoTrackId: 1, partFrames: 2 });
    const cuts = feed(
      c,
      [0, 1, 2, 3, 4].map((i) => frag({ video: { t: i * 512, key: i % 4 === 0 } })),
    );
    assert.deepEqual(cuts, ['part 0.0 2f I @0 [f0 f1]', 'part 0.1 2f @1024 [f2 f3]', 'segment 0 2 parts 4f @0']);
  });

  it('only a part that starts a segment on a keyframe is independent', () => {
    n = 0;
    // A stream joined mid-GOP (no keyframe first): its first segment has no independent part.
    const c = new Chunker({ videoTrackId: 1, partFrames: 1 });
    const cuts = feed(c, [frag({ video: { t: 0 } }), frag({ video: { t: 512, key: true } })]);
    assert.deepEqual(cuts, ['part 0.0 1f @0 [f0]', 'segment 0 1 parts 1f @0', 'part 1.0 1f I @512 [f1]']);
  });

  it('audio alone never makes a part, and audio after the last frame is dropped at the end', () => {
    n = 0;
    const c = new Chunker({ videoTrackId: 1, partFrames: 3 });
    assert.deepEqual(feed(c, [frag({ audio: true }), frag({ audio: true })]), []);
    assert.deepEqual(c.end(), []);
  });

  it('refuses a part length that is not a whole positive number of frames', () => {
    assert.throws(() => new Chunker({ videoTrackId: 1, partFrames: 0 }), /positive integer/);
    assert.throws(() => new Chunker({ videoTrackId: 1, partFrames: 2.5 }), /positive integer/);
  });
});
