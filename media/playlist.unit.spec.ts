import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { highestNumber, parseMediaPlaylist, segmentFile } from './playlist.ts';

describe('ffmpeg playlist reading', () => {
  it('reads sequence (from the file name), duration and program date time of each complete segment', () => {
    const text = [
      '#EXTM3U',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:40',
      '#EXTINF:2.000000,',
      '#EXT-X-PROGRAM-DATE-TIME:2026-11-25T20:32:10.566+0000',
      '000040.ts',
      '#EXTINF:1.933333,',
      '000041.ts',
      '#EXTINF:2.0,',
      'not-ours.ts',
      '#EXT-X-ENDLIST',
    ].join('\n');
    assert.deepEqual(parseMediaPlaylist(text), {
      entries: [
        { sequence: 40, durationMs: 2000, file: '000040.ts', programDateTime: Date.UTC(2026, 10, 25, 20, 32, 10, 566) },
        { sequence: 41, durationMs: 1933, file: '000041.ts', programDateTime: null },
      ],
      ended: true,
    });
    assert.deepEqual(parseMediaPlaylist(''), { entries: [], ended: false });
  });

  it('names and finds numbered files', () => {
    assert.equal(segmentFile(42), '000042.ts');
    assert.equal(highestNumber(['000001.ts', '000010.ts', '000011.ts.tmp', 'x.ts'], 'ts'), 10);
    assert.equal(highestNumber([], 'jpg'), -1);
  });
});
