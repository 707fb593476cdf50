import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertLlHls, parseAttributes, reloadProblems, validateMediaPlaylist } from './support/ll-hls.ts';

/** The contract's example (docs: notes/llhls-contract.md), shortened: 2 s segments, 0.334 s parts. */
const good = [
  '#EXTM3U',
  '#EXT-X-VERSION:9',
  '#EXT-X-TARGETDURATION:2',
  '#EXT-X-PART-INF:PART-TARGET=0.334',
  '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.002,HOLD-BACK=6',
  '#EXT-X-MEDIA-SEQUENCE:41',
  '#EXT-X-DISCONTINUITY-SEQUENCE:0',
  '#EXT-X-MAP:URI="720p/init-000000.mp4"',
  '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T23:50:00.000Z',
  '#EXTINF:2.000,',
  '720p/000041.m4s',
  '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T23:50:02.000Z',
  '#EXT-X-PART:DURATION=0.334,URI="720p/000042.0.m4s",INDEPENDENT=YES',
  '#EXT-X-PART:DURATION=0.334,URI="720p/000042.1.m4s"',
  '#EXT-X-PART:DURATION=0.334,URI="720p/000042.2.m4s"',
  '#EXT-X-PART:DURATION=0.334,URI="720p/000042.3.m4s"',
  '#EXT-X-PART:DURATION=0.334,URI="720p/000042.4.m4s"',
  '#EXT-X-PART:DURATION=0.330,URI="720p/000042.5.m4s"',
  '#EXTINF:2.000,',
  '720p/000042.m4s',
  '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T23:50:04.000Z',
  '#EXT-X-PART:DURATION=0.334,URI="720p/000043.0.m4s",INDEPENDENT=YES',
  '#EXT-X-PART:DURATION=0.334,URI="720p/000043.1.m4s"',
  '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="720p/000043.2.m4s"',
  '#EXT-X-RENDITION-REPORT:URI="480p.m3u8",LAST-MSN=43,LAST-PART=1',
  '#EXT-X-RENDITION-REPORT:URI="360p.m3u8",LAST-MSN=43,LAST-PART=0',
  '',
].join('\n');

/** `good` with `from` replaced by `to` (which must be there). */
function broken(from: string | RegExp, to: string): string {
  const text = good.replace(from, to);
  assert.notEqual(text, good, `${String(from)} is not in the playlist`);
  return text;
}
const problems = (text: string) => validateMediaPlaylist(text).problems;
const fails = (text: string, why: RegExp) =>
  assert.ok(
    problems(text).some((p) => why.test(p)),
    `expected a problem like ${why}, got ${JSON.stringify(problems(text))}`,
  );

describe('LL-HLS playlist validator (tests/support/ll-hls.ts)', () => {
  it('passes a valid LL-HLS playlist and returns its segments, parts, newest part, hint and reports', () => {
    const { playlist, problems: found, notes } = validateMediaPlaylist(good);
    assert.deepEqual(found, []);
    assert.deepEqual(notes, []);
    assert.deepEqual(assertLlHls(good), playlist);
    assert.equal(playlist.version, 9);
    assert.equal(playlist.partTarget, 0.334);
    assert.deepEqual(
      playlist.segments.map((s) => [s.msn, s.duration, s.parts.length, s.map]),
      [
        [41, 2, 0, '720p/init-000000.mp4'],
        [42, 2, 6, '720p/init-000000.mp4'],
        [43, null, 2, '720p/init-000000.mp4'],
      ],
    );
    assert.deepEqual(playlist.last, { msn: 43, part: 1 });
    assert.deepEqual(playlist.preloadHint, { type: 'PART', uri: '720p/000043.2.m4s' });
    assert.deepEqual(playlist.renditionReports[1], { uri: '360p.m3u8', lastMsn: 43, lastPart: 0 });
    assert.equal(playlist.segments[1]!.programDateTime, Date.parse('2026-12-06T23:50:02.000Z'));
  });

  it('fails a playlist missing what LL-HLS requires', () => {
    fails(broken('#EXTM3U\n', ''), /first line is not #EXTM3U/);
    fails(broken('#EXT-X-VERSION:9', '#EXT-X-VERSION:5'), /EXT-X-VERSION 5, but its tags need 6/);
    fails(broken('#EXT-X-TARGETDURATION:2', '#EXT-X-TARGETDURATION:1'), /EXTINF 2 rounds above TARGETDURATION 1/);
    fails(broken('#EXT-X-PART-INF:PART-TARGET=0.334\n', ''), /EXT-X-PART without EXT-X-PART-INF/);
    fails(broken('CAN-BLOCK-RELOAD=YES,', ''), /CAN-BLOCK-RELOAD=YES/);
    fails(broken('PART-HOLD-BACK=1.002', 'PART-HOLD-BACK=0.668'), /PART-HOLD-BACK 0.668 is below 3 x PART-TARGET/);
    fails(broken('HOLD-BACK=6', 'HOLD-BACK=4'), /HOLD-BACK 4 is below 3 x TARGETDURATION/);
    fails(broken('#EXT-X-MAP:URI="720p/init-000000.mp4"\n', ''), /no EXT-X-MAP before the first segment/);
    fails(
      broken('#EXT-X-PROGRAM-DATE-TIME:2026-12-06T23:50:00.000Z\n', ''),
      /no PROGRAM-DATE-TIME with the first segment/,
    );
    fails(
      broken('#EXT-X-PROGRAM-DATE-TIME:2026-12-06T23:50:00.000Z', '#EXT-X-PROGRAM-DATE-TIME:yesterday'),
      /ISO 8601/,
    );
    assert.throws(() => assertLlHls(broken(/#EXT-X-PART(-INF)?:[^\n]*\n/g, '')), /not a Low-Latency HLS playlist/);
  });

  it('fails parts that are too long, out of order, or wrongly flagged', () => {
    fails(broken('DURATION=0.330', 'DURATION=0.335'), /DURATION 0.335 exceeds PART-TARGET 0.334/);
    fails(
      broken('URI="720p/000042.1.m4s"', 'URI="720p/000042.2.m4s"'),
      /named as part 2 of 42; parts must be consecutive/,
    );
    fails(
      broken('000043.0.m4s",INDEPENDENT=YES', '000043.0.m4s",INDEPENDENT=NO'),
      /INDEPENDENT=NO: its only value is YES/,
    );
    fails(
      broken('#EXT-X-PART:DURATION=0.334,URI="720p/000043.1.m4s"', '#EXT-X-PART:URI="720p/000043.1.m4s"'),
      /needs DURATION/,
    );
    fails(broken('URI="720p/000043.1.m4s"', 'URI=720p/000043.1.m4s'), /a quoted URI/);
  });

  it('reports short parts (85% of PART-TARGET), or fails them when asked', () => {
    const text = broken(
      '#EXT-X-PART:DURATION=0.334,URI="720p/000042.1.m4s"',
      '#EXT-X-PART:DURATION=0.200,URI="720p/000042.1.m4s"',
    );
    const v = validateMediaPlaylist(text);
    assert.deepEqual(v.problems, []);
    assert.match(v.notes.join('\n'), /part 42.1 .*below 85% of PART-TARGET/);
    assert.throws(() => assertLlHls(text, { strictPartDurations: true }), /below 85%/);
    // A segment's last part may be short.
    assert.deepEqual(validateMediaPlaylist(broken('DURATION=0.330', 'DURATION=0.100')).problems, []);
  });

  it('fails a preload hint that is not the next part, or is already listed, or comes after the end', () => {
    fails(broken('URI="720p/000043.2.m4s"', 'URI="720p/000043.3.m4s"'), /is not the next part \(43.2\)/);
    fails(broken('URI="720p/000043.2.m4s"', 'URI="720p/000043.1.m4s"'), /already listed/);
    const ended = broken(
      /#EXT-X-PROGRAM-DATE-TIME:2026-12-06T23:50:04[^]*$/,
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="720p/000043.0.m4s"\n#EXT-X-ENDLIST\n',
    );
    fails(ended, /PRELOAD-HINT with EXT-X-ENDLIST/);
    fails(broken(/#EXT-X-RENDITION-REPORT[^]*$/, '#EXT-X-ENDLIST\n'), /segment 43 in progress after EXT-X-ENDLIST/);
  });

  it('fails malformed rendition reports', () => {
    fails(broken('LAST-MSN=43,LAST-PART=0', 'LAST-PART=0'), /malformed RENDITION-REPORT/);
    fails(broken('URI="360p.m3u8",LAST-MSN=43', 'URI="360p.m3u8",LAST-MSN=x43'), /malformed RENDITION-REPORT/);
    fails(broken('LAST-MSN=43,LAST-PART=0', 'LAST-MSN=43,LAST-PART=0,LAST-ISH=1'), /malformed RENDITION-REPORT/);
  });

  it('parses attribute lists with quoted commas, and refuses malformed ones', () => {
    assert.deepEqual(parseAttributes('CODECS="avc1,mp4a",BANDWIDTH=1'), { CODECS: '"avc1,mp4a"', BANDWIDTH: '1' });
    for (const bad of ['A=1,', 'A=1,A=2', 'A', 'A="x', 'a=1']) assert.equal(parseAttributes(bad), null, bad);
  });

  it('compares two reloads: numbering only forward, nothing renamed, the newest part never back', () => {
    const a = assertLlHls(good);
    const later = good
      .replace(
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="720p/000043.2.m4s"',
        '#EXT-X-PART:DURATION=0.334,URI="720p/000043.2.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="720p/000043.3.m4s"',
      )
      .replace(/LAST-PART=1/, 'LAST-PART=2');
    assert.deepEqual(reloadProblems(a, assertLlHls(later)), []);
    const renamed = assertLlHls(broken('720p/000042.m4s\n', '720p/000042b.m4s\n'));
    assert.match(reloadProblems(a, renamed).join('\n'), /segment 42: 720p\/000042.m4s \(2\) became 720p\/000042b.m4s/);
    // (Invalid on its own too: its parts no longer carry their own numbers.)
    const back = validateMediaPlaylist(broken('#EXT-X-MEDIA-SEQUENCE:41', '#EXT-X-MEDIA-SEQUENCE:40')).playlist;
    assert.match(reloadProblems(a, back).join('\n'), /MEDIA-SEQUENCE went back 41 -> 40/);
    const fewer = assertLlHls(
      broken('#EXT-X-PART:DURATION=0.334,URI="720p/000043.1.m4s"\n', '').replace('000043.2.m4s', '000043.1.m4s'),
    );
    assert.match(reloadProblems(a, fewer).join('\n'), /the newest part went back 43.1 -> 43.0/);
    const retimed = assertLlHls(broken('#EXT-X-DISCONTINUITY-SEQUENCE:0\n', '#EXT-X-DISCONTINUITY-SEQUENCE:1\n'));
    assert.match(reloadProblems(a, retimed).join('\n'), /segment 41: discontinuity sequence 0 -> 1/);
  });
});
