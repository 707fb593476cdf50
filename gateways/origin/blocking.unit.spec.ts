import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockingDecision, holdLimitMs, playlistPosition } from './blocking.ts';

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

describe('blocking playlist reload', () => {
  it('reads the last listed media sequence number, the end and the target duration', () => {
    assert.deepEqual(playlistPosition(playlist(40, 5)), { lastMsn: 44, ended: false, targetDurationS: 2 });
    assert.deepEqual(playlistPosition(playlist(7, 0)), { lastMsn: 6, ended: false, targetDurationS: 2 });
    assert.equal(playlistPosition(playlist(0, 3, true))!.ended, true);
    assert.equal(playlistPosition('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p.m3u8\n'), null);
    assert.equal(holdLimitMs(playlistPosition(playlist(0, 1))!), 6000);
  });

  it('serves a listed segment at once, holds the next two, refuses further ones', () => {
    const p = playlistPosition(playlist(40, 5))!;
    assert.equal(blockingDecision(p, 44), 'serve');
    assert.equal(blockingDecision(p, 3), 'serve');
    assert.equal(blockingDecision(p, 45), 'wait');
    assert.equal(blockingDecision(p, 46), 'wait');
    assert.equal(blockingDecision(p, 47), 'too-far');
    assert.equal(blockingDecision(playlistPosition(playlist(40, 5, true))!, 99), 'serve');
  });
});
