import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listMedia } from './hops.ts';

/** The hop watcher's reading of a media playlist: what is listed, and what to block on next. */
describe('hop watcher: a media playlist as a low-latency player reads it', () => {
  it('lists parts and segments and blocks on the part after the last one listed', () => {
    const m = listMedia(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:9',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-PART-INF:PART-TARGET=0.334',
        '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.002,HOLD-BACK=6',
        '#EXT-X-MEDIA-SEQUENCE:41',
        '#EXT-X-MAP:URI="360p/init-000000.mp4"',
        '#EXTINF:2.000,',
        '360p/000041.m4s',
        '#EXT-X-PART:DURATION=0.333,URI="360p/000042.0.m4s",INDEPENDENT=YES',
        '#EXT-X-PART:DURATION=0.333,URI="360p/000042.1.m4s"',
        '#EXTINF:2.000,',
        '360p/000042.m4s',
        '#EXT-X-PART:DURATION=0.333,URI="360p/000043.0.m4s",INDEPENDENT=YES',
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="360p/000043.1.m4s"',
        '',
      ].join('\n'),
    );
    assert.equal(m.hasParts, true);
    assert.deepEqual(
      m.items.map((i) => [i.uri, i.sequence, i.part, i.duration]),
      [
        ['360p/000041.m4s', 41, null, 2],
        ['360p/000042.0.m4s', 42, 0, 0.333],
        ['360p/000042.1.m4s', 42, 1, 0.333],
        ['360p/000042.m4s', 42, null, 2],
        ['360p/000043.0.m4s', 43, 0, 0.333],
      ],
    );
    assert.deepEqual(m.next, { msn: 43, part: 1 });
  });

  it('blocks on part 0 of the next segment when the last line is a whole segment', () => {
    const m = listMedia(
      '#EXTM3U\n#EXT-X-PART-INF:PART-TARGET=0.2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-PART:DURATION=0.2,URI="a/000007.0.m4s"\n#EXTINF:1.0,\na/000007.m4s\n',
    );
    assert.deepEqual(m.next, { msn: 8, part: 0 });
  });

  it('blocks on the next segment of a playlist without parts (MPEG-TS)', () => {
    const m = listMedia(
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:2.0,\n360p/000003.ts\n#EXTINF:2.0,\n360p/000004.ts\n',
    );
    assert.equal(m.hasParts, false);
    assert.deepEqual(
      m.items.map((i) => [i.uri, i.sequence, i.part]),
      [
        ['360p/000003.ts', 3, null],
        ['360p/000004.ts', 4, null],
      ],
    );
    assert.deepEqual(m.next, { msn: 5, part: null });
  });
});
