import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { broadcastDate, formatDuration } from '../../web/src/lib/videos.ts';

describe("the channel page's video cards", () => {
  it('writes a length as m:ss under an hour and h:mm:ss from one', () => {
    assert.deepEqual([0, 4.4, 59, 60, 247, 3599, 3600, 3725, 36_005, -3].map(formatDuration), [
      '0:00',
      '0:04',
      '0:59',
      '1:00',
      '4:07',
      '59:59',
      '1:00:00',
      '1:02:05',
      '10:00:05',
      '0:00',
    ]);
  });

  it('dates a broadcast relative to now within the week, by calendar day in the given zone, else by date', () => {
    const now = Date.parse('2026-11-20T10:00:00Z');
    const at = (iso: string) => broadcastDate(iso, now, 'UTC');
    assert.equal(at('2026-11-20T00:30:00Z'), 'today');
    assert.equal(at('2026-11-19T23:59:00Z'), 'yesterday');
    assert.equal(at('2026-11-17T12:00:00Z'), '3 days ago');
    assert.equal(at('2026-11-13T12:00:00Z'), 'Nov 13, 2026');
    assert.equal(broadcastDate('2026-11-19T23:59:00Z', now, 'Asia/Tokyo'), 'today', 'already the 20th in Tokyo');
    assert.equal(broadcastDate(null, now), '');
  });
});
