import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlaybackBatcher, PlaybackLog, playbackOf, type MediaFetch } from './playback.ts';

const fetch = (o: Partial<MediaFetch> = {}): MediaFetch => ({
  at: 1000,
  status: 200,
  kind: 'part',
  streamId: 's1',
  session: 'p_0123456789ab',
  bytes: 100,
  ...o,
});

describe('playback evidence', () => {
  it('is a segment or part answered 2xx, for a stream, naming a well-formed session', () => {
    assert.deepEqual(playbackOf(fetch()), { streamId: 's1', sessionId: 'p_0123456789ab' });
    assert.deepEqual(playbackOf(fetch({ kind: 'segment', status: 206 })), {
      streamId: 's1',
      sessionId: 'p_0123456789ab',
    });
    for (const kind of ['playlist', 'master', 'init', 'thumbnail', 'vod', 'other'] as const)
      assert.equal(playbackOf(fetch({ kind })), null, kind);
    for (const status of [304, 404, 400, 502]) assert.equal(playbackOf(fetch({ status })), null, String(status));
    for (const session of ['-', '', 'short', 'p_0123456789ab%20', 'x'.repeat(65), 'a b c d e f g h'])
      assert.equal(playbackOf(fetch({ session })), null, session);
    assert.equal(playbackOf(fetch({ streamId: null })), null);
  });
});

describe('PlaybackBatcher (the edge)', () => {
  it('folds requests into one event per session and stream per interval, then starts over', () => {
    const b = new PlaybackBatcher({ edge: 'edge-1', maxSessions: 10 });
    for (const [at, bytes] of [
      [1000, 10],
      [1500, 20],
      [900, 5],
    ] as const)
      b.add(fetch({ at, bytes }));
    b.add(fetch({ streamId: 's2', at: 1200 }));
    b.add(fetch({ session: 'p_other_session', at: 1300 }));
    b.add(fetch({ kind: 'playlist', at: 1400 }));
    let n = 0;
    const events = b.drain(2000, () => `id${n++}`);
    assert.deepEqual(
      events.map((e) => [e.streamId, e.sessionId, e.firstAt, e.lastAt, e.requests, e.bytes, e.edge, e.occurredAt]),
      [
        ['s1', 'p_0123456789ab', 900, 1500, 3, 35, 'edge-1', 2000],
        ['s2', 'p_0123456789ab', 1200, 1200, 1, 100, 'edge-1', 2000],
        ['s1', 'p_other_session', 1300, 1300, 1, 100, 'edge-1', 2000],
      ],
    );
    assert.deepEqual(new Set(events.map((e) => e.eventId)).size, 3);
    assert.deepEqual(
      b.drain(3000, () => 'x'),
      [],
    );
  });

  it('holds at most maxSessions per interval: sessions beyond are refused, known ones still fold', () => {
    const b = new PlaybackBatcher({ edge: 'e', maxSessions: 2 });
    assert.equal(b.add(fetch({ session: 'p_aaaaaaaa' })), 'added');
    assert.equal(b.add(fetch({ session: 'p_bbbbbbbb' })), 'added');
    assert.equal(b.add(fetch({ session: 'p_cccccccc' })), 'full');
    assert.equal(b.add(fetch({ session: 'p_aaaaaaaa' })), 'added');
    assert.equal(b.add(fetch({ kind: 'playlist', session: 'p_dddddddd' })), 'ignored');
    assert.deepEqual(
      b.drain(0, () => 'id').map((e) => [e.sessionId, e.requests]),
      [
        ['p_aaaaaaaa', 2],
        ['p_bbbbbbbb', 1],
      ],
    );
  });
});

describe('PlaybackLog (the counter)', () => {
  const W = 30_000;
  const iv = (sessionId: string, firstAt: number, lastAt: number, streamId = 's1') => ({
    streamId,
    sessionId,
    firstAt,
    lastAt,
  });

  it('a session fetched at t when an interval began by t and ended within the window before it', () => {
    const log = new PlaybackLog(W);
    log.record(iv('a', 10_000, 12_000));
    assert.equal(log.fetched('s1', 'a', 9_999), false, 'not before its first request');
    assert.equal(log.fetched('s1', 'a', 10_000), true);
    assert.equal(log.fetched('s1', 'a', 41_999), true);
    assert.equal(log.fetched('s1', 'a', 42_000), false, 'a window after its last request');
    assert.equal(log.fetched('s1', 'b', 11_000), false, 'another session');
    assert.equal(log.fetched('s2', 'a', 11_000), false, 'another stream');
  });

  it('answers by event time, whatever order the intervals arrived in', () => {
    const inOrder = new PlaybackLog(W);
    const reversed = new PlaybackLog(W);
    const ivs = [iv('a', 0, 2000), iv('a', 50_000, 52_000), iv('a', 100_000, 101_000)];
    for (const i of ivs) inOrder.record(i);
    for (const i of [...ivs].reverse()) reversed.record(i);
    for (let t = -1000; t <= 140_000; t += 500)
      assert.equal(reversed.fetched('s1', 'a', t), inOrder.fetched('s1', 'a', t), String(t));
    assert.equal(inOrder.fetched('s1', 'a', 40_000), false, 'a gap longer than the window');
    assert.equal(inOrder.fetched('s1', 'a', 51_000), true);
  });

  it('prunes intervals no heartbeat could still use', () => {
    const log = new PlaybackLog(W);
    log.record(iv('a', 0, 1000));
    log.record(iv('a', 5000, 6000));
    log.record(iv('b', 0, 1000, 's2'));
    assert.equal(log.size, 3);
    log.prune(1000);
    assert.equal(log.size, 1);
    assert.equal(log.fetched('s1', 'a', 5500), true);
    assert.equal(log.fetched('s2', 'b', 500), false);
  });
});
