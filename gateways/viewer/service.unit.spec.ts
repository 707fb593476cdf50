import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ViewerCountChanged, ViewerHeartbeat } from '../../schemas/generated/events.ts';
import { Metrics } from '../../platform/metrics.ts';
import type { StreamStatus } from '../../domain/stream/evolve.ts';
import type { ViewerErrorCode } from './errors.ts';
import { ViewerMetrics } from './metrics.ts';
import { ViewerService, type ViewerConnection } from './service.ts';

class FakeConn implements ViewerConnection {
  readonly sent: unknown[] = [];
  closedWith: ViewerErrorCode | undefined;
  readonly userId = null;
  constructor(
    readonly id: number,
    readonly streamId: string,
    readonly sessionId: string,
  ) {}
  send(frame: string): void {
    this.sent.push(JSON.parse(frame));
  }
  close(code: ViewerErrorCode): void {
    this.closedWith = code;
  }
}

function setup() {
  const status = new Map<string, StreamStatus>([['live1', 'live']]);
  const counts = new Map<string, ViewerCountChanged>();
  const published: ViewerHeartbeat[] = [];
  const pushed: Array<[string, unknown]> = [];
  const conns: FakeConn[] = [];
  let now = 1_000_000;
  const metrics = new ViewerMetrics(new Metrics('viewer-spec', { defaults: false }));
  const service = new ViewerService(
    {
      streams: {
        status: (id) => status.get(id),
        counts: (id) => counts.get(id),
        latencyMode: (id) => (status.has(id) ? 'LOW' : undefined),
      },
      publish: (hb) => published.push(hb),
      broadcast: (id, frame) => pushed.push([id, JSON.parse(frame)]),
      connectionsOf: (id) => conns.filter((c) => c.streamId === id),
      newId: () => 'e',
      clock: () => now,
      gatewayId: 'gw',
      metrics,
    },
    { heartbeatIntervalMs: 10_000, minBeatIntervalMs: 5000, flood: { frames: 5, windowMs: 10_000 }, pushEveryMs: 5000 },
  );
  const connect = (id: number, sessionId = `session-${id}`) => {
    const c = new FakeConn(id, 'live1', sessionId);
    conns.push(c);
    service.join(c);
    return c;
  };
  const beat = (c: FakeConn, o: Record<string, unknown> = {}) =>
    service.receive(c, JSON.stringify({ type: 'heartbeat', quality: '720p', buffering_ms: 10, ...o }));
  return {
    service,
    status,
    counts,
    published,
    pushed,
    connect,
    beat,
    advance: (ms: number) => (now += ms),
    refused: async () => (await metrics.refused.get()).values.map((v) => [v.labels.code, v.value]),
    latency: async () =>
      (await metrics.latency.get()).values
        .filter((v) => v.metricName === 'live_viewer_latency_seconds_count' || v.metricName?.endsWith('_sum'))
        .map((v) => [v.metricName, v.labels.tier, v.value]),
  };
}

describe('ViewerService', () => {
  it('admits players to live streams only', () => {
    const { service, status } = setup();
    status.set('ready1', 'ready');
    assert.throws(() => service.admit('nope', null, () => 'x'), { code: 'stream_not_found' });
    assert.throws(() => service.admit('ready1', null, () => 'x'), { code: 'stream_not_live' });
    assert.throws(() => service.admit('live1', 'bad id!', () => 'x'), { code: 'invalid_request' });
    assert.deepEqual(
      service.admit('live1', null, () => 'generated-1'),
      { streamId: 'live1', sessionId: 'generated-1' },
    );
  });

  it('publishes CONNECT, heartbeats with the gateway’s clock, and DISCONNECT on a clean goodbye only', () => {
    const { service, published, connect, beat, advance } = setup();
    const a = connect(1);
    const b = connect(2);
    advance(10_000);
    beat(a, { buffering_ms: 999_999 });
    service.leave(a, true);
    service.leave(b, false);
    assert.deepEqual(
      published.map((h) => [h.sessionId, h.kind, h.quality, h.bufferingMs, h.occurredAt]),
      [
        ['session-1', 'CONNECT', null, 0, 1_000_000],
        ['session-2', 'CONNECT', null, 0, 1_000_000],
        ['session-1', 'HEARTBEAT', '720p', 60_000, 1_010_000],
        ['session-1', 'DISCONNECT', null, 0, 1_010_000],
      ],
    );
  });

  it('tells players the server time, and passes on the glass-to-glass latency they measure, by the stream’s tier', async () => {
    const { published, connect, beat, advance, latency } = setup();
    const a = connect(1);
    assert.deepEqual(a.sent[0], {
      type: 'welcome',
      session_id: 'session-1',
      heartbeat_interval_ms: 10_000,
      viewers: 0,
      server_time: 1_000_000,
    });
    beat(a, { latency_ms: 850.4 });
    advance(5000);
    beat(a, { latency_ms: -20 }); // a clock the correction could not fix: dropped, the beat kept
    advance(5000);
    beat(a, { latency_ms: 3_600_000 });
    advance(5000);
    beat(a);
    assert.deepEqual(
      published.filter((h) => h.kind === 'HEARTBEAT').map((h) => h.latencyMs),
      [850, null, null, null],
    );
    assert.deepEqual(await latency(), [
      ['live_viewer_latency_seconds_sum', 'LOW', 0.85],
      ['live_viewer_latency_seconds_count', 'LOW', 1],
    ]);
  });

  it('refuses other sessions, bad frames and heartbeats after the end; drops too-frequent ones; closes floods', async () => {
    const { published, connect, beat, advance, status, refused } = setup();
    const a = connect(1);
    beat(a, { session_id: 'someone-else' });
    beat(a, { quality: '<script>' });
    beat(a);
    beat(a);
    advance(5000);
    beat(a);
    assert.equal(published.filter((h) => h.kind === 'HEARTBEAT').length, 2, 'one per 5 s at most');
    beat(a);
    assert.equal(a.closedWith, 'flood', 'the sixth frame in 10 s');
    const b = connect(2);
    status.set('live1', 'ended');
    beat(b);
    assert.equal(b.closedWith, 'stream_ended');
    assert.deepEqual(Object.fromEntries(await refused()), {
      unknown_session: 1,
      invalid_frame: 1,
      too_frequent: 1,
      flood: 1,
      stream_ended: 1,
    });
  });

  it('pushes a count when it changes and again every few seconds; ends the stream’s sockets', () => {
    const { service, counts, pushed, connect, advance, status } = setup();
    const a = connect(1);
    const count = (viewers: number) =>
      counts.set('live1', {
        eventId: 'c',
        occurredAt: 0,
        streamId: 'live1',
        viewers,
        peakViewers: 9,
        qualities: {},
        bufferingRatio: 0,
      });
    count(3);
    service.tick();
    service.tick();
    count(4);
    service.tick();
    advance(5000);
    service.tick();
    assert.deepEqual(pushed, [
      ['live1', { type: 'viewers', count: 3, peak: 9 }],
      ['live1', { type: 'viewers', count: 4, peak: 9 }],
      ['live1', { type: 'viewers', count: 4, peak: 9 }],
    ]);
    status.set('live1', 'ended');
    service.tick();
    assert.deepEqual(pushed.at(-1), ['live1', { type: 'ended' }]);
    assert.equal(a.closedWith, 'stream_ended');
  });
});
