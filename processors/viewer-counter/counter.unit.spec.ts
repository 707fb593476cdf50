import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeartbeatKind, ViewerCountChanged, ViewerHeartbeat } from '../../schemas/generated/events.ts';
import { PlaybackLog } from '../../domain/viewers/playback.ts';
import { ViewerCounter, type CounterFacts } from './counter.ts';

const W = 30_000;
const cfg = { windowMs: W, maxSkewMs: 5000, minEmitIntervalMs: 1000, bufferingEmitIntervalMs: 10_000 };

const hb = (streamId: string, sessionId: string, at: number, kind: HeartbeatKind = 'HEARTBEAT'): ViewerHeartbeat => ({
  eventId: `${sessionId}@${at}`,
  occurredAt: at,
  streamId,
  sessionId,
  userId: null,
  kind,
  quality: null,
  bufferingMs: 0,
  latencyMs: null,
  gatewayId: 'gw',
});

class Facts implements CounterFacts {
  readonly endedStreams = new Set<string>();
  readonly counts = new Map<string, ViewerCountChanged>();
  ended = (id: string): boolean => this.endedStreams.has(id);
  lastPublished = (id: string): ViewerCountChanged | undefined => this.counts.get(id);
}

/** A counter owning partition 0, live, publishing whatever is due (and acknowledging it). */
function liveCounter(facts = new Facts()) {
  let n = 0;
  const c = new ViewerCounter(cfg, facts, () => `id${n++}`);
  c.assign([0]);
  c.rebuildFrom(0, 0, -1, 0);
  let offset = 0;
  return {
    c,
    facts,
    feed: (...beats: ViewerHeartbeat[]) => beats.map((b) => c.apply(0, offset++, b, b.occurredAt)),
    publish: (now: number) => {
      const due = c.due(now);
      c.published(due, now);
      return due.map((e) => [e.streamId, e.viewers, e.peakViewers] as const);
    },
  };
}

describe('ViewerCounter', () => {
  it('publishes a change at most once per second per stream, then the settled count', () => {
    const { feed, publish } = liveCounter();
    feed(hb('s1', 'a', 0, 'CONNECT'));
    assert.deepEqual(publish(0), [['s1', 1, 1]]);
    feed(hb('s1', 'b', 200, 'CONNECT'), hb('s1', 'c', 400, 'CONNECT'));
    assert.deepEqual(publish(500), [], 'throttled');
    assert.deepEqual(publish(1000), [['s1', 3, 3]]);
    assert.deepEqual(publish(2500), [], 'nothing changed');
  });

  it('silent drops leave after the window without any new record; a clean leave at once', () => {
    const { feed, publish } = liveCounter();
    feed(hb('s1', 'a', 0, 'CONNECT'), hb('s1', 'b', 0, 'CONNECT'));
    publish(0);
    feed(hb('s1', 'a', 10_000));
    assert.deepEqual(publish(29_000), []);
    assert.deepEqual(publish(30_001), [['s1', 1, 2]]);
    feed(hb('s1', 'a', 31_000, 'DISCONNECT'));
    assert.deepEqual(publish(31_500), [['s1', 0, 2]]);
  });

  it('publishes one zero when the stream ends, then refuses its heartbeats', () => {
    const { feed, publish, facts, c } = liveCounter();
    feed(hb('s1', 'a', 0, 'CONNECT'));
    publish(0);
    facts.endedStreams.add('s1');
    assert.deepEqual(publish(100), [['s1', 0, 1]]);
    assert.deepEqual(feed(hb('s1', 'b', 200, 'CONNECT')), ['not_live']);
    assert.deepEqual(publish(5000), []);
    assert.equal(c.streamCount, 0);
  });

  it('rebuilds without publishing, keeps the published peak, and goes live after the last record', () => {
    const facts = new Facts();
    facts.counts.set('s1', {
      eventId: 'x',
      occurredAt: 0,
      streamId: 's1',
      viewers: 2,
      peakViewers: 7,
      qualities: { unknown: 2 },
      bufferingRatio: 0,
    });
    const c = new ViewerCounter(cfg, facts, () => 'id');
    c.assign([0, 1]);
    assert.equal(c.ready(0), false);
    assert.equal(c.apply(0, 0, hb('s1', 'a', 0), 0), 'not_assigned');
    c.rebuildFrom(0, 100_000, 11, 10);
    c.apply(0, 10, hb('s1', 'a', 100_000), 100_000);
    assert.deepEqual(c.due(100_500), [], 'rebuilding: nothing published');
    c.apply(0, 11, hb('s1', 'b', 100_100), 100_100);
    assert.equal(c.phaseOf(0), 'live');
    assert.deepEqual(c.due(100_500), [], 'the count equals what was published before: nothing to say');
    c.apply(0, 12, hb('s1', 'c', 100_200, 'CONNECT'), 100_200);
    const [e] = c.due(100_500);
    assert.equal(e?.viewers, 3);
    assert.equal(e?.peakViewers, 7, 'the peak before the restart stays');
  });

  it('records re-read in the first window of a rebuild do not set peaks', () => {
    const c = new ViewerCounter(cfg, new Facts(), () => 'id');
    c.assign([0]);
    c.rebuildFrom(0, 0, 2, 0);
    c.apply(0, 0, hb('s1', 'a', 0, 'CONNECT'), 0);
    c.apply(0, 1, hb('s1', 'b', 1000, 'CONNECT'), 1000);
    c.apply(0, 2, hb('s1', 'a', W), W);
    const [e] = c.due(W);
    assert.equal(e?.viewers, 2);
    assert.equal(e?.peakViewers, 2, 'the beat at a full window counted');
  });

  it('a failed publish is tried again', () => {
    const { feed, c } = liveCounter();
    feed(hb('s1', 'a', 0, 'CONNECT'));
    const first = c.due(0);
    c.unsent(first);
    assert.equal(c.due(10).length, 1);
  });

  it("with playback required, counts only sessions that fetched the stream's media (issue #28)", () => {
    const playback = new PlaybackLog(W);
    const facts = Object.assign(new Facts(), {
      fetchedMedia: (streamId: string, sessionId: string, at: number) => playback.fetched(streamId, sessionId, at),
    });
    const { feed, publish } = liveCounter(facts);
    feed(hb('s1', 'watcher', 0, 'CONNECT'), hb('s1', 'socket-only', 0, 'CONNECT'));
    assert.deepEqual(publish(0), [], 'neither has fetched anything');
    playback.record({ streamId: 's1', sessionId: 'watcher', firstAt: 500, lastAt: 9000 });
    playback.record({ streamId: 's2', sessionId: 'socket-only', firstAt: 500, lastAt: 9000 });
    feed(hb('s1', 'watcher', 10_000), hb('s1', 'socket-only', 10_000));
    assert.deepEqual(publish(10_000), [['s1', 1, 1]], "media of another stream is not this one's");
    feed(hb('s1', 'watcher', 20_000), hb('s1', 'watcher', 40_000));
    assert.deepEqual(publish(40_000), [['s1', 0, 1]], 'no media for a whole window: no longer counted');
  });
});
