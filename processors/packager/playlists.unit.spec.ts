import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Rendition } from '../../schemas/generated/events.ts';
import { assertLlHls, validateMediaPlaylist } from '../../tests/support/ll-hls.ts';
import {
  emptyDvr,
  extendDvr,
  listable,
  listableParts,
  partUri,
  renderMaster,
  renderMedia,
  vodSegments,
  type LowLatency,
  type PartEntry,
  type SegmentEntry,
} from './playlists.ts';

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

/** CMAF: 2 s segments in six parts (5 x 334 ms + 330 ms) under a 334 ms part target. */
const cmaf = (sequence: number, o: Partial<SegmentEntry> = {}): SegmentEntry =>
  seg(sequence, { uri: `720p/${String(sequence).padStart(6, '0')}.m4s`, initUri: '720p/init-000000.mp4', ...o });
const partsOf = (sequence: number, count = 6, o: Partial<PartEntry> = {}): PartEntry[] =>
  Array.from({ length: count }, (_, i) => ({
    sequence,
    part: i,
    durationMs: i === 5 ? 330 : 334,
    uri: partUri('720p', sequence, i),
    independent: i === 0,
    programDateTime: T0 + sequence * 2000 + i * 334,
    discontinuity: false,
    initUri: '720p/init-000000.mp4',
    ...o,
  }));
const ll = (o: Partial<LowLatency> = {}): LowLatency => ({
  rendition: '720p',
  partTargetMs: 334,
  parts: [],
  inProgress: [],
  reports: [],
  ...o,
});

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
      renderMaster([r], (n) => `${n}.m3u8`, false),
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

  it('LL-HLS: parts of the newest segments, the one in progress, the next part hinted, the other renditions reported', () => {
    const text = renderMedia({
      targetDurationS: 2,
      discontinuitySequence: 0,
      segments: [cmaf(39), cmaf(40), cmaf(41), cmaf(42)],
      ended: false,
      ll: ll({
        parts: [40, 41, 42].flatMap((n) => partsOf(n)),
        inProgress: partsOf(43, 2),
        reports: [
          { uri: '480p.m3u8', lastMsn: 43, lastPart: 1 },
          { uri: '360p.m3u8', lastMsn: 43, lastPart: 0 },
        ],
      }),
    });
    const parts = (n: number, count = 6) =>
      partsOf(n, count).map(
        (x) =>
          `#EXT-X-PART:DURATION=${x.durationMs / 1000}${x.durationMs === 330 ? '0' : ''},URI="${x.uri}"${x.part ? '' : ',INDEPENDENT=YES'}`,
      );
    const date = (n: number) => `#EXT-X-PROGRAM-DATE-TIME:${new Date(T0 + n * 2000).toISOString()}`;
    assert.equal(
      text,
      [
        '#EXTM3U',
        '#EXT-X-VERSION:9',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-PART-INF:PART-TARGET=0.334',
        '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.002,HOLD-BACK=6',
        '#EXT-X-MEDIA-SEQUENCE:39',
        '#EXT-X-DISCONTINUITY-SEQUENCE:0',
        '#EXT-X-MAP:URI="720p/init-000000.mp4"',
        date(39),
        '#EXTINF:2.000,',
        '720p/000039.m4s',
        ...[40, 41, 42].flatMap((n) => [date(n), ...parts(n), '#EXTINF:2.000,', `720p/0000${n}.m4s`]),
        date(43),
        ...parts(43, 2),
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="720p/000043.2.m4s"',
        '#EXT-X-RENDITION-REPORT:URI="480p.m3u8",LAST-MSN=43,LAST-PART=1',
        '#EXT-X-RENDITION-REPORT:URI="360p.m3u8",LAST-MSN=43,LAST-PART=0',
        '',
      ].join('\n'),
    );
    const parsed = assertLlHls(text);
    assert.deepEqual(parsed.last, { msn: 43, part: 1 });
    assert.equal(parsed.segments.filter((s) => s.parts.length).length, 4);
  });

  it('LL-HLS: after a complete segment the hint is part 0 of the next; a new run gets its discontinuity and init', () => {
    const init = '720p/init-000042.mp4';
    const text = renderMedia({
      targetDurationS: 2,
      discontinuitySequence: 0,
      segments: [cmaf(41), cmaf(42, { discontinuity: true, initUri: init })],
      ended: false,
      ll: ll({ parts: partsOf(42, 6, { discontinuity: true, initUri: init }) }),
    });
    assert.match(
      text,
      /720p\/000041.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="720p\/init-000042.mp4"\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXT-X-PART:DURATION=0.334,URI="720p\/000042.0.m4s",INDEPENDENT=YES\n/,
    );
    assert.match(text, /720p\/000042.m4s\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="720p\/000043.0.m4s"\n$/);
    assert.deepEqual(assertLlHls(text).last, { msn: 42, part: 5 });
  });

  it('LL-HLS: a segment in progress after a restart opens with its discontinuity and init, before its first part', () => {
    const init = '720p/init-000043.mp4';
    const text = renderMedia({
      targetDurationS: 2,
      discontinuitySequence: 0,
      segments: [cmaf(42)],
      ended: false,
      ll: ll({ parts: partsOf(42), inProgress: partsOf(43, 1, { discontinuity: true, initUri: init }) }),
    });
    assert.match(
      text,
      /720p\/000042.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="720p\/init-000043.mp4"\n#EXT-X-PROGRAM-DATE-TIME/,
    );
    assert.equal(assertLlHls(text).segments[1]!.discontinuitySequence, 1);
  });

  it('LL-HLS, ended: no segment in progress, no hint, no reports; ENDLIST', () => {
    const text = renderMedia({
      targetDurationS: 2,
      discontinuitySequence: 0,
      segments: [cmaf(42)],
      ended: true,
      ll: ll({
        parts: partsOf(42),
        inProgress: partsOf(43, 2),
        reports: [{ uri: '360p.m3u8', lastMsn: 43, lastPart: 0 }],
      }),
    });
    assert.doesNotMatch(text, /000043|PRELOAD-HINT|RENDITION-REPORT/);
    assert.ok(text.endsWith('720p/000042.m4s\n#EXT-X-ENDLIST\n'));
    assert.equal(assertLlHls(text).ended, true);
  });

  it('LL-HLS with nothing complete yet: the parts in progress are the first media sequence', () => {
    const text = renderMedia({
      targetDurationS: 2,
      nextSequence: 0,
      discontinuitySequence: 0,
      segments: [],
      ended: false,
      ll: ll({ inProgress: partsOf(7, 2) }),
    });
    assert.match(text, /#EXT-X-MEDIA-SEQUENCE:7\n/);
    assert.deepEqual(assertLlHls(text).last, { msn: 7, part: 1 });
  });

  it('a CMAF VOD: EXT-X-MAP at the start and at each new init, no parts', () => {
    const text = renderMedia({
      targetDurationS: 2,
      discontinuitySequence: 0,
      segments: [cmaf(0), cmaf(1), cmaf(2, { discontinuity: true, initUri: '720p/init-000002.mp4' })],
      ended: true,
      vod: true,
    });
    assert.match(text, /^#EXTM3U\n#EXT-X-VERSION:9\n/);
    assert.match(text, /#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI="720p\/init-000000.mp4"\n#EXT-X-PROGRAM-DATE-TIME/);
    assert.match(text, /000001.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="720p\/init-000002.mp4"\n/);
    assert.equal(text.match(/EXT-X-MAP/g)?.length, 2);
    assert.doesNotMatch(text, /PART|SERVER-CONTROL/);
    assert.deepEqual(validateMediaPlaylist(text).problems, []);
  });

  it('the master declares version 9 when its media playlists are CMAF', () => {
    const r: Rendition = {
      name: '720p',
      width: 1280,
      height: 720,
      frameRate: 30,
      videoBitrate: 3_000_000,
      audioBitrate: 128_000,
      codecs: 'avc1.64001f,mp4a.40.2',
    };
    assert.match(
      renderMaster([r], (n) => `${n}.m3u8`, true),
      /^#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n/,
    );
  });

  it('listable parts: those of segments ending within three target durations, all of a segment or none; in progress up to a missing one', () => {
    const segments = [39, 40, 41, 42].map((n) => cmaf(n));
    const parts = [39, 40, 41, 42].flatMap((n) => partsOf(n));
    const pending = partsOf(43, 3);
    const seqs = (xs: PartEntry[]) => [...new Set(xs.map((x) => x.sequence))];
    const base = { segments, parts, pending, targetDurationS: 2, ended: false };
    const every = listableParts({ ...base, present: all });
    assert.deepEqual(seqs(every.parts), [40, 41, 42], '39 ends 7.002 s before the end');
    assert.equal(every.inProgress.length, 3);
    const some = listableParts({
      ...base,
      present: (x) => x.uri !== partUri('720p', 41, 3) && x.uri !== partUri('720p', 43, 1),
    });
    assert.deepEqual(seqs(some.parts), [40, 42], 'none of 41, one of whose parts is missing');
    assert.deepEqual(
      some.inProgress.map((x) => x.part),
      [0],
    );
    assert.deepEqual(
      some.missing.map((x) => x.uri),
      [partUri('720p', 43, 1), partUri('720p', 41, 3)],
    );
    const ended = listableParts({ ...base, ended: true, present: all });
    assert.deepEqual(seqs(ended.parts), [39, 40, 41, 42], 'at the end, 39 ends 6 s before it');
    assert.deepEqual(ended.inProgress, []);
  });
});

describe('DVR playlists', () => {
  const WINDOW = 10_000;

  it('keep the segments that began within the window before the newest, and count the discontinuities that left', () => {
    let dvr = extendDvr(emptyDvr(), [cmaf(0), cmaf(1), cmaf(2, { discontinuity: true })], WINDOW);
    assert.deepEqual(
      dvr.segments.map((s) => s.sequence),
      [0, 1, 2],
    );
    dvr = extendDvr(
      dvr,
      [3, 4, 5, 6, 7].map((n) => cmaf(n)),
      WINDOW,
    );
    assert.deepEqual(
      dvr.segments.map((s) => s.sequence),
      [2, 3, 4, 5, 6, 7],
      'the newest began 14 s after segment 0: 0 and 1 left',
    );
    assert.equal(dvr.discontinuitySequence, 0, 'segment 2 still carries its discontinuity');
    dvr = extendDvr(dvr, [cmaf(8)], WINDOW);
    assert.equal(dvr.discontinuitySequence, 1);
  });

  it('ignore repeats and mark a skipped sequence as a discontinuity', () => {
    const dvr = extendDvr(extendDvr(emptyDvr(), [cmaf(0), cmaf(1)], WINDOW), [cmaf(1), cmaf(3)], WINDOW);
    assert.deepEqual(
      dvr.segments.map((s) => [s.sequence, s.discontinuity]),
      [
        [0, false],
        [1, false],
        [3, true],
      ],
    );
  });

  it('render without parts or blocking reload, and as a valid media playlist', () => {
    const dvr = extendDvr(
      emptyDvr(),
      [0, 1, 2, 3].map((n) => cmaf(n)),
      WINDOW,
    );
    const text = renderMedia({
      targetDurationS: 2,
      discontinuitySequence: 0,
      segments: dvr.segments,
      ended: false,
      dvr: true,
    });
    assert.deepEqual(validateMediaPlaylist(text).problems, []);
    assert.doesNotMatch(text, /SERVER-CONTROL|EXT-X-PART|PLAYLIST-TYPE|ENDLIST/);
    assert.match(text, /#EXT-X-MEDIA-SEQUENCE:0\n/);
  });
});
