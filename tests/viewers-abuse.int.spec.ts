import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { EventBus } from '../platform/kafka/bus.ts';
import type { EventConsumer } from '../platform/kafka/consumer.ts';
import type { EventProducer } from '../platform/kafka/producer.ts';
import type { OriginServer } from '../gateways/origin/server.ts';
import { loadViewerCounterConfig } from '../processors/viewer-counter/config.ts';
import { viewerPeaks } from '../processors/viewer-counter/peaks.ts';
import { rebuild } from '../platform/store/rebuild.ts';
import { mediaTools } from './support/hls.ts';
import { startOrigin } from './support/origin.ts';
import { freePort } from './support/ports.ts';
import { testBus } from './support/bus.ts';
import { serverEnv } from './support/endpoints.ts';
import { uniqueName } from './support/isolation.ts';
import { ServiceProcess } from './support/process.ts';
import { streamEvents } from './support/stream-events.ts';
import { waitFor } from './support/wait.ts';

/**
 * Issue #28, finding 2: viewer counts inflated at will from one address with a foreign Origin.
 * A real viewer gateway and viewer counter as processes, real Kafka, real sockets from 127.0.0.1.
 * The gateway runs with its default origins (the web app's) and 5 connections per address (the
 * default is 20). The counter runs with its default VIEWER_REQUIRE_PLAYBACK: a session counts only
 * while it fetches media, which a real edge (nginx and its wrapper, as a process, in front of a
 * real origin) reports as ViewerPlayback events (issue #28, finding 2, part 3).
 */
/** The web app's origin, allowed by default; nothing else is unless configured. */
const ALLOWED = 'http://127.0.0.1:8080';
const EVIL = 'https://evil.example';
const PER_ADDRESS = 5;
const ATTEMPTS = 30;

type Outcome = { ws: WebSocket; status: number | 'open' };

/** Opens a beating player socket; resolves with 'open' or the HTTP status of the refused upgrade. */
const attempt = (port: number, streamId: string, origin: string | undefined, session?: string): Promise<Outcome> =>
  new Promise((resolve, reject) => {
    const query = session ? `?session=${session}` : '';
    const ws = new WebSocket(`ws://127.0.0.1:${port}/streams/${streamId}/viewers${query}`, {
      headers: origin ? { Origin: origin } : {},
    });
    let beat: NodeJS.Timeout | undefined;
    ws.once('open', () => {
      beat = setInterval(() => ws.send(JSON.stringify({ type: 'heartbeat', quality: '720p' })), 1000);
      resolve({ ws, status: 'open' });
    });
    ws.on('close', () => clearInterval(beat));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ ws, status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once('error', (err) => {
      if (ws.readyState !== WebSocket.CLOSED && ws.readyState !== WebSocket.CLOSING) reject(err);
    });
  });

describe('viewers: origin allow-list and per-address caps against the real gateway', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let recorder: EventConsumer;
  let port: number;
  const processes: ServiceProcess[] = [];
  const sockets: WebSocket[] = [];
  const counts: Array<{ streamId: string; viewers: number; peak: number }> = [];
  const playback: Array<{ streamId: string; sessionId: string; requests: number }> = [];
  const S = `stream_${randomBytes(4).toString('hex')}`;
  const media = mkdtempSync(join(tmpdir(), 'viewers-abuse-media-'));
  let origin: OriginServer | undefined;
  let edgeUrl: string;

  const env = (): Record<string, string> => ({
    ...serverEnv(bus.config.topicPrefix),
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  });
  const many = async (origin: string | undefined): Promise<Outcome[]> => {
    const out = await Promise.all(Array.from({ length: ATTEMPTS }, () => attempt(port, S, origin)));
    sockets.push(...out.map((o) => o.ws));
    return out;
  };

  before(async () => {
    bus = testBus('viewers-abuse');
    await bus.init(['streamLifecycle', 'viewerCounts', 'viewerHeartbeats', 'viewerPlayback']);
    producer = bus.producer();
    await producer.connect();
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(S, { title: 'Abuse' }),
      streamEvents.wentLive(S),
    ]);
    recorder = bus.consumer({ groupId: uniqueName('viewers-abuse-recorder'), from: 'earliest' });
    recorder.on(bus.topic('viewerCounts'), async (records) => {
      for (const r of records)
        counts.push({ streamId: r.event.streamId, viewers: r.event.viewers, peak: r.event.peakViewers });
    });
    recorder.on(bus.topic('viewerPlayback'), async (records) => {
      for (const r of records) playback.push(r.event);
    });
    await recorder.start();

    // The stream's media as a worker leaves it; the bytes themselves do not matter here.
    mkdirSync(join(media, S, '720p'), { recursive: true });
    for (let i = 0; i < 3; i++) writeFileSync(join(media, S, '720p', `00000${i}.m4s`), randomBytes(64 * 1024));
    origin = await startOrigin(media);
    const edgePort = await freePort();
    const edge = new ServiceProcess('edge', 'gateways/edge/main.ts', {
      ...env(),
      METRICS_PORT: String(await freePort()),
      EDGE_PORT: String(edgePort),
      EDGE_NAME: 'edge-abuse',
      EDGE_DIR: join(media, '.edge'),
      ORIGIN_PORT: String(origin.port),
      NGINX_BIN: mediaTools().nginx,
      EDGE_PLAYBACK_FLUSH_MS: '500',
    });
    processes.push(edge);
    await edge.waitForLog('edge listening', (l) => l.msg === 'edge listening', 90_000);
    edgeUrl = `http://127.0.0.1:${edgePort}`;

    const gateway = new ServiceProcess('viewer-gateway', 'gateways/viewer/main.ts', {
      ...env(),
      VIEWER_PORT: '0',
      VIEWER_MIN_BEAT_INTERVAL_MS: '500',
      VIEWER_PUSH_EVERY_MS: '1000',
      VIEWER_MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
    });
    processes.push(gateway);
    port = (await gateway.waitForLog('listening', (l) => l.msg === 'viewer gateway listening', 90_000)).port as number;
    const counter = new ServiceProcess('viewer-counter', 'processors/viewer-counter/main.ts', {
      ...env(),
      VIEWER_WINDOW_MS: '6000',
      VIEWER_REBUILD_MARGIN_MS: '6000',
    });
    processes.push(counter);
    await counter.waitForLog('windows rebuilt', (l) => l.msg === 'viewer windows rebuilt; publishing counts', 90_000);
    await waitFor('the stream is live at the gateway', async () => {
      const o = await attempt(port, S, undefined);
      if (o.status !== 'open') return false;
      const gone = new Promise((r) => o.ws.once('close', r));
      o.ws.close(1000);
      await gone;
      return true;
    });
  });

  after(async () => {
    for (const ws of sockets) ws.terminate();
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));
    await recorder?.stop();
    await producer?.disconnect();
    await origin?.stop();
    rmSync(media, { recursive: true, force: true });
  });

  it('refuses every upgrade from an origin not on the list, before the socket opens (403)', async () => {
    const evil = await many(EVIL);
    assert.deepEqual(
      evil.map((o) => o.status),
      evil.map(() => 403),
    );
  });

  it('one address holds at most its cap, the rest are refused (429), and a freed slot is reusable', async () => {
    const out = await many(ALLOWED);
    const opened = out.filter((o) => o.status === 'open');
    assert.equal(opened.length, PER_ADDRESS);
    assert.ok(
      out.every((o) => o.status === 'open' || o.status === 429),
      out.map((o) => o.status).join(),
    );
    // Refusals held no slot; a clean leave gives one back.
    const closed = new Promise((r) => opened[0]!.ws.once('close', r));
    opened[0]!.ws.close(1000);
    await closed;
    const again = await waitFor('a slot after a leave', async () => {
      const o = await attempt(port, S, ALLOWED);
      sockets.push(o.ws);
      return o.status === 'open' && o;
    });
    assert.equal(again.status, 'open');
    const over = await attempt(port, S, undefined);
    sockets.push(over.ws);
    assert.equal(over.status, 429, 'sockets without an Origin count against the address too');
  });

  it('sockets that fetch no media add nothing; a session that fetches segments through the edge counts 1', async () => {
    // The cap's sockets from the tests before are open and beating, and have fetched nothing.
    const session = `p_${randomBytes(12).toString('hex')}`;
    const open = sockets.filter((ws) => ws.readyState === WebSocket.OPEN);
    assert.equal(open.length, PER_ADDRESS);
    const freed = new Promise((r) => open[0]!.once('close', r));
    open[0]!.close(1000);
    await freed;
    const watcher = await attempt(port, S, ALLOWED, session);
    sockets.push(watcher.ws);
    assert.equal(watcher.status, 'open');
    let fetches = 0;
    const get = async (file: string, vsid: string) => {
      const res = await fetch(`${edgeUrl}/hls/${S}/720p/${file}?vsid=${vsid}`);
      await res.arrayBuffer();
      assert.equal(res.status, 200, file);
      return res.headers.get('x-cache-status');
    };
    // What a player does: the parts and segments in turn, each naming its session.
    const playing = setInterval(() => {
      fetches++;
      void get(`00000${fetches % 3}.m4s`, session).catch(() => undefined);
    }, 300);
    try {
      await waitFor('the watching session is counted', () => counts.some((c) => c.streamId === S && c.viewers === 1));
      assert.ok(
        playback.some((p) => p.streamId === S && p.sessionId === session && p.requests > 1),
        'the edge folds a session’s requests into one event per interval',
      );
      // The session is not part of the cache key: another viewer's request for the same segment is a hit.
      assert.equal(await get('000000.m4s', `p_${randomBytes(12).toString('hex')}`), 'HIT');
    } finally {
      clearInterval(playing);
    }
    // A clean leave publishes the zero, after every heartbeat of the other sockets before it was counted.
    watcher.ws.close(1000);
    await waitFor('the count is back to zero', () => counts.filter((c) => c.streamId === S).at(-1)?.viewers === 0);
    const ofS = counts.filter((c) => c.streamId === S);
    assert.equal(Math.max(...ofS.map((c) => c.viewers)), 1, `counts of S: ${ofS.map((c) => c.viewers).join()}`);
    assert.equal(ofS.at(-1)?.peak, 1);
  });

  it('replay rebuilds the same peaks from the heartbeat and playback topics', async () => {
    const store = viewerPeaks(
      loadViewerCounterConfig({
        ...serverEnv(bus.config.topicPrefix),
        VIEWER_COUNTER_GROUP_ID: uniqueName('viewers-abuse-replay'),
        VIEWER_WINDOW_MS: '6000',
        VIEWER_CATCHUP_MS: '60000',
      }),
      { bus },
    );
    const live = await store.dump(await store.settledLive());
    assert.deepEqual(Object.fromEntries(live), { [S]: 1 });
    const { target } = await rebuild({ bus, log: bus.log }, store, { mode: 'apart' }, { deadlineMs: 60_000 });
    assert.deepEqual(Object.fromEntries(await store.dump(target)), Object.fromEntries(live));
  });
});
