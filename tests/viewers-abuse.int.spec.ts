import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { EventBus } from '../platform/kafka/bus.ts';
import type { EventConsumer } from '../platform/kafka/consumer.ts';
import type { EventProducer } from '../platform/kafka/producer.ts';
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
 * default is 20).
 */
/** The web app's origin, allowed by default; nothing else is unless configured. */
const ALLOWED = 'http://127.0.0.1:8080';
const EVIL = 'https://evil.example';
const PER_ADDRESS = 5;
const ATTEMPTS = 30;

type Outcome = { ws: WebSocket; status: number | 'open' };

/** Opens a beating player socket; resolves with 'open' or the HTTP status of the refused upgrade. */
const attempt = (port: number, streamId: string, origin: string | undefined): Promise<Outcome> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/streams/${streamId}/viewers`, {
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
  const counts: Array<{ streamId: string; viewers: number }> = [];
  const S = `stream_${randomBytes(4).toString('hex')}`;

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
    await bus.init(['streamLifecycle', 'viewerCounts', 'viewerHeartbeats']);
    producer = bus.producer();
    await producer.connect();
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(S, { title: 'Abuse' }),
      streamEvents.wentLive(S),
    ]);
    recorder = bus.consumer({ groupId: uniqueName('viewers-abuse-recorder'), from: 'earliest' });
    recorder.on(bus.topic('viewerCounts'), async (records) => {
      for (const r of records) counts.push({ streamId: r.event.streamId, viewers: r.event.viewers });
    });
    await recorder.start();

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

  it('the inflation scenario adds at most the per-address cap to the count', async () => {
    await waitFor('the count reaches the cap', () => counts.some((c) => c.streamId === S && c.viewers === PER_ADDRESS));
    assert.equal(Math.max(...counts.filter((c) => c.streamId === S).map((c) => c.viewers)), PER_ADDRESS);
  });
});
