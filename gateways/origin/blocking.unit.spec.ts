import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mediaAddress } from '../../domain/media/hls-paths.ts';
import { llhlsPlaylist, mediaName } from '../../tests/origin-llhls-fixture.ts';
import {
  advancePartLimit,
  blockingDecision,
  holdLimitMs,
  mediaHoldDecision,
  mediaHoldLimitMs,
  partsBeyond,
  playlistPosition,
} from './blocking.ts';

const playlist = (first: number, count: number, ended = false): string =>
  [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-TARGETDURATION:2',
    '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES',
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
    ...Array.from({ length: count }, (_, i) => [
      `#EXTINF:2.000,`,
      `720p/${String(first + i).padStart(6, '0')}.ts`,
    ]).flat(),
    ...(ended ? ['#EXT-X-ENDLIST'] : []),
    '',
  ].join('\n');

const name = (msn: number, part?: number): string => mediaName('720p', msn, part);
const llhls = (complete: number, open: number, o: { ended?: boolean } = {}): string =>
  llhlsPlaylist({ complete, open, ...o });

describe('blocking playlist reload', () => {
  it('reads the last listed media sequence number, the end and the target duration', () => {
    assert.deepEqual(playlistPosition(playlist(40, 5)), {
      lastMsn: 44,
      lastPart: null,
      partTargetS: null,
      preloadHint: null,
      ended: false,
      targetDurationS: 2,
    });
    assert.equal(playlistPosition(playlist(7, 0))!.lastMsn, 6);
    assert.equal(playlistPosition(playlist(0, 3, true))!.ended, true);
    assert.equal(playlistPosition('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p.m3u8\n'), null);
    assert.equal(holdLimitMs(playlistPosition(playlist(0, 1))!), 6000);
  });

  it('reads the last listed part, in progress or closed, the part target and the preload hint', () => {
    assert.deepEqual(playlistPosition(llhls(42, 2)), {
      lastMsn: 42,
      lastPart: { msn: 43, part: 1 },
      partTargetS: 0.334,
      preloadHint: '720p/000043.2.m4s',
      ended: false,
      targetDurationS: 2,
    });
    // Segment 43 just closed: its last part is the last listed; the hint is the next segment's first.
    const closed = playlistPosition(llhls(43, 0))!;
    assert.deepEqual(closed.lastPart, { msn: 43, part: 5 });
    assert.equal(closed.lastMsn, 43);
    assert.equal(closed.preloadHint, '720p/000044.0.m4s');
    const ended = playlistPosition(llhls(43, 0, { ended: true }))!;
    assert.equal(ended.preloadHint, null);
    assert.equal(ended.ended, true);
    assert.equal(mediaHoldLimitMs(closed), 1002);
  });

  it('serves a listed segment at once, holds the next two, refuses further ones', () => {
    const p = playlistPosition(playlist(40, 5))!;
    assert.equal(blockingDecision(p, 44), 'serve');
    assert.equal(blockingDecision(p, 3), 'serve');
    assert.equal(blockingDecision(p, 45), 'wait');
    assert.equal(blockingDecision(p, 46), 'wait');
    assert.equal(blockingDecision(p, 47), 'too-far');
    assert.equal(blockingDecision(playlistPosition(playlist(40, 5, true))!, 99), 'serve');
    // No parts in this playlist: _HLS_part waits for the segment.
    assert.equal(blockingDecision(p, 45, 0), 'wait');
    assert.equal(blockingDecision(p, 44, 9), 'serve');
  });

  it('serves part P of segment M once it or anything later is listed, holds within the advance limit', () => {
    const p = playlistPosition(llhls(42, 2))!; // last part: 43.1
    assert.equal(blockingDecision(p, 43, 1), 'serve');
    assert.equal(blockingDecision(p, 43, 0), 'serve');
    assert.equal(blockingDecision(p, 42, 5), 'serve');
    assert.equal(blockingDecision(p, 42, 17), 'serve', 'a complete segment holds every part it will have');
    assert.equal(blockingDecision(p, 43, 2), 'wait');
    assert.equal(blockingDecision(p, 43), 'wait');
    assert.equal(blockingDecision(p, 44, 0), 'wait');
    assert.equal(Math.floor(advancePartLimit(0.334)), 8);
    assert.equal(advancePartLimit(2), 3);
    assert.equal(blockingDecision(p, 43, 9), 'wait', '8 parts beyond');
    assert.equal(blockingDecision(p, 43, 10), 'too-far', '9 parts beyond: more than 3 s of parts');
    assert.equal(blockingDecision(p, 44, 8), 'too-far');
    assert.equal(blockingDecision(p, 45, 0), 'too-far', 'more than two segments beyond the last complete one');
    assert.equal(blockingDecision(playlistPosition(llhls(42, 2, { ended: true }))!, 44, 3), 'serve');
  });

  it('counts parts beyond the last listed one, a segment boundary as at least one part', () => {
    const open = playlistPosition(llhls(42, 2))!; // 43.1 listed, 43 in progress
    assert.equal(partsBeyond(open, 43, 1), 0);
    assert.equal(partsBeyond(open, 43, 2), 1);
    assert.equal(partsBeyond(open, 44, 0), 1);
    assert.equal(partsBeyond(open, 44, 1), 2);
    const closed = playlistPosition(llhls(43, 0))!; // 43 complete, nothing of 44 yet
    assert.equal(partsBeyond(closed, 43, 5), 0);
    assert.equal(partsBeyond(closed, 44, 0), 1);
    assert.equal(partsBeyond(closed, 45, 0), 2);
  });
});

describe('blocking media requests', () => {
  const hold = (text: string, file: string): string =>
    mediaHoldDecision(playlistPosition(text)!, file, mediaAddress(file)!);

  it('holds the preload-hinted part and up to two parts beyond the last listed one', () => {
    const p = llhls(42, 2); // 43.1 listed, hint 43.2
    assert.equal(hold(p, name(43, 2)), 'hold');
    assert.equal(hold(p, name(43, 3)), 'hold');
    assert.equal(hold(p, name(44, 0)), 'hold', 'segment 43 may end at part 2');
    assert.equal(hold(p, name(43, 4)), 'never', 'three parts beyond');
    assert.equal(hold(p, name(44, 1)), 'hold');
    assert.equal(hold(p, name(44, 2)), 'never');
    assert.equal(hold(p, name(43)), 'hold', 'the segment being cut');
    assert.equal(hold(p, name(44)), 'never');
    const closed = llhls(43, 6); // 44 has all 6 parts listed, hint 45.0
    assert.equal(hold(closed, name(45, 0)), 'hold');
    assert.equal(hold(closed, name(45, 1)), 'hold');
  });

  it('never holds what is listed or older, an ended stream, or a playlist without parts', () => {
    const p = llhls(42, 2);
    assert.equal(hold(p, name(43, 1)), 'never', 'listed and absent: removed, it will not come back');
    assert.equal(hold(p, name(41, 0)), 'never');
    assert.equal(hold(p, name(42)), 'never');
    assert.equal(hold(llhls(42, 2, { ended: true }), name(43, 0)), 'never');
    assert.equal(hold(playlist(40, 5), '720p/000045.ts'), 'never');
  });
});
