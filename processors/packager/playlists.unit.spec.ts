import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Rendition } from '../../schemas/generated/events.ts';
import { listable, renderMaster, renderMedia, vodSegments, type SegmentEntry } from './playlists.ts';

const T0 = Date.UTC(2026, 1, 2, 10, 5, 23, 0);
const seg = (sequence: number, o: Partial<SegmentEntry> = {}): SegmentEntry => ({
  sequence,
  durationMs: 2000,
  uri: `720p/${String(sequence).padStart(6, '0')}.ts`,
  programDateTime: T0 + sequence * 2000,
  discontinuity: false,
  ...o,
});
const all = () => true;

describe('HLS playlists', () => {
  it('a live media playlist: media sequence of its first segment, a date per segment, blocking reload, no ENDLIST', () => {
    assert.equal(
      renderMedia({ targetDurationS: 2, discontinuitySequence: 0, segments: [seg(41), seg(42)], ended: false }),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MEDIA-SEQUENCE:41',
        '#EXT-X-DISCONTINUITY-SEQUENCE:0',
        '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES',
        '#EXT-X-PROGRAM-DATE-TIME:2026-02-02T10:06:45.000Z',
        '#EXTINF:2.000,',
        '720p/000041.ts',
        '#EXT-X-PROGRAM-DATE-TIME:2026-02-02T10:06:47.000Z',
        '#EXTINF:2.000,',
        '720p/000042.ts',
        '',
      ].join('\n'),
    );
  });

  it('a discontinuity is tagged before its segment; a VOD is typed and ends', () => {
    const text = renderMedia({
      targetDurationS: 2,
      discontinuitySequence: 3,
      segments: [seg(0), seg(1, { discontinuity: true, durationMs: 1520 })],
      ended: true,
      vod: true,
    });
    assert.match(text, /#EXT-X-DISCONTINUITY-SEQUENCE:3\n#EXT-X-PLAYLIST-TYPE:VOD\n/);
    assert.match(text, /720p\/000000.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXTINF:1.520,\n/);
    assert.ok(text.endsWith('#EXT-X-ENDLIST\n'));
  });

  it('the target duration covers the longest segment rounded to the nearest second', () => {
    const text = renderMedia({
      targetDurationS: 2,
      discontinuitySequence: 0,
      segments: [seg(0, { durationMs: 2400 }), seg(1, { durationMs: 2600 })],
      ended: false,
    });
    assert.match(text, /#EXT-X-TARGETDURATION:3\n/);
  });

  it('a master playlist lists each rendition with its peak and average bandwidth, resolution, rate and codecs', () => {
    const r: Rendition = {
      name: '720p',
      width: 1280,
      height: 720,
      frameRate: 30,
      videoBitrate: 3_000_000,
      audioBitrate: 128_000,
      codecs: 'avc1.64001f,mp4a.40.2',
    };
    assert.equal(
      renderMaster([r], (n) => `${n}.m3u8`),
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n' +
        '#EXT-X-STREAM-INF:BANDWIDTH=3440800,AVERAGE-BANDWIDTH=3128000,RESOLUTION=1280x720,FRAME-RATE=30.000,' +
        'CODECS="avc1.64001f,mp4a.40.2",NAME="720p"\n720p.m3u8\n',
    );
  });

  it('a missing segment is never listed: the window restarts after it, numbering kept', () => {
    const window = [seg(10, { discontinuity: true }), seg(11), seg(12), seg(13)];
    const out = listable(window, 2, (s) => s.sequence !== 11);
    assert.deepEqual(
      out.segments.map((s) => s.sequence),
      [12, 13],
    );
    assert.equal(out.discontinuitySequence, 3, 'the dropped discontinuity left the window');
    assert.deepEqual(
      out.missing.map((s) => s.sequence),
      [11],
    );
    assert.deepEqual(listable(window, 2, all).segments, window);
  });

  it('a VOD lists each sequence once, in order, and marks every hole with a discontinuity', () => {
    const journal = [seg(0), seg(1), seg(2), seg(1), seg(4), seg(5), seg(6)];
    const { segments, missing } = vodSegments(journal, (s) => s.sequence !== 5);
    assert.deepEqual(
      segments.map((s) => [s.sequence, s.discontinuity]),
      [
        [0, false],
        [1, false],
        [2, false],
        [4, true],
        [6, true],
      ],
    );
    assert.deepEqual(
      missing.map((s) => s.sequence),
      [5],
    );
  });
});
