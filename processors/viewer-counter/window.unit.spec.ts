import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeartbeatKind } from '../../schemas/generated/events.ts';
import { StreamWindow, type Beat } from './window.ts';

const W = 30_000;
const beat = (sessionId: string, at: number, kind: HeartbeatKind = 'HEARTBEAT', o: Partial<Beat> = {}): Beat => ({
  occurredAt: at,
  sessionId,
  kind,
  quality: null,
  bufferingMs: 0,
  ...o,
});
const windowOf = (...beats: Beat[]): StreamWindow => {
  const w = new StreamWindow({ windowMs: W, maxSkewMs: 5000 });
  for (const b of beats) w.apply(b, b.occurredAt);
  return w;
};

describe('StreamWindow', () => {
  it('counts distinct sessions with a beat in the last window', () => {
    const w = windowOf(beat('a', 0, 'CONNECT'), beat('b', 1000, 'CONNECT'), beat('a', 10_000), beat('a', 20_000));
    assert.equal(w.stats(20_000).viewers, 2);
    assert.equal(w.stats(31_000).viewers, 1, 'b went silent: gone once its last beat is a window old');
    assert.equal(w.stats(50_000).viewers, 0);
    assert.equal(w.peak, 2);
  });

  it('a clean disconnect leaves at once', () => {
    const w = windowOf(beat('a', 0, 'CONNECT'), beat('b', 0, 'CONNECT'), beat('a', 500, 'DISCONNECT'));
    assert.equal(w.stats(600).viewers, 1);
    assert.equal(w.peak, 2);
  });

  it('a reading never changes what later records compute', () => {
    const w = windowOf(beat('a', 0, 'CONNECT'));
    assert.equal(w.stats(100_000).viewers, 0);
    w.apply(beat('b', 20_000, 'CONNECT'), 20_000);
    assert.equal(w.peak, 2, 'a is still within the window of b’s time');
  });

  it('pulls far-future times back to the broker time and clamps late ones to the watermark', () => {
    const w = new StreamWindow({ windowMs: W, maxSkewMs: 5000 });
    assert.equal(w.apply(beat('a', 10_000_000), 1000), 'clamped_future');
    assert.equal(w.stats(1000).viewers, 1, 'counted at the broker time, so it expires on time');
    assert.equal(w.stats(31_000).viewers, 0);
    assert.equal(w.apply(beat('b', 900), 1000), 'clamped_late');
    assert.equal(w.apply(beat('c', -40_000), 1000), 'stale');
    assert.equal(w.stats(1000).viewers, 2, 'the stale beat changed nothing');
  });

  it('reports viewers per quality and the buffering share of the latest intervals', () => {
    const w = windowOf(
      beat('a', 0, 'CONNECT'),
      beat('b', 0, 'CONNECT'),
      beat('a', 10_000, 'HEARTBEAT', { quality: '720p', bufferingMs: 1000 }),
      beat('b', 10_000, 'HEARTBEAT', { quality: '1080p', bufferingMs: 99_000 }),
      beat('c', 10_000, 'CONNECT'),
    );
    const s = w.stats(10_000);
    assert.deepEqual(s.qualities, { '720p': 1, '1080p': 1, unknown: 1 });
    // b cannot have buffered more than its 10 s interval: (1 + 10) / (10 + 10).
    assert.equal(s.bufferingRatio, 11_000 / 20_000);
  });

  it('a heartbeat that may not set peaks still counts', () => {
    const w = new StreamWindow({ windowMs: W, maxSkewMs: 5000 });
    w.apply(beat('a', 0, 'CONNECT'), 0, false);
    assert.equal(w.peak, 0);
    assert.equal(w.stats(0).viewers, 1);
    w.apply(beat('b', 1, 'CONNECT'), 1);
    assert.equal(w.peak, 2);
  });
});

describe('StreamWindow joined with playback (issue #28)', () => {
  /** Sessions that fetched media, and from when. */
  const fetching = new Map([['watcher', 5000]]);
  const watched = (sessionId: string, at: number): boolean => at >= (fetching.get(sessionId) ?? Infinity);
  const joined = (...beats: Beat[]): StreamWindow => {
    const w = new StreamWindow({ windowMs: W, maxSkewMs: 5000 }, watched);
    for (const b of beats) w.apply(b, b.occurredAt);
    return w;
  };

  it('a session that only beats adds nothing to the count or the peak', () => {
    const w = joined(beat('socket-only', 0, 'CONNECT'), beat('socket-only', 10_000), beat('socket-only', 20_000));
    assert.equal(w.size, 1, 'it is in the window');
    assert.equal(w.stats(20_000).viewers, 0);
    assert.equal(w.peak, 0);
  });

  it('a session counts from its first beat that finds it fetching, and the peak with it', () => {
    const w = joined(beat('watcher', 0, 'CONNECT'), beat('socket-only', 1000, 'CONNECT'));
    assert.equal(w.stats(1000).viewers, 0, 'no media fetched by the connect');
    w.apply(beat('watcher', 10_000), 10_000);
    assert.deepEqual(w.stats(10_000), { viewers: 1, qualities: { unknown: 1 }, bufferingRatio: 0 });
    assert.equal(w.peak, 1);
    w.apply(beat('watcher', 20_000, 'DISCONNECT'), 20_000);
    assert.equal(w.stats(20_000).viewers, 0);
    assert.equal(w.peak, 1);
  });

  it('without the join every beating session counts (VIEWER_REQUIRE_PLAYBACK=false)', () => {
    const w = windowOf(beat('socket-only', 0, 'CONNECT'), beat('watcher', 10_000));
    assert.equal(w.stats(10_000).viewers, 2);
  });
});
