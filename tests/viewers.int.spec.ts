import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { apiGateway, type ApiGateway } from '../gateways/api/gateway.ts';
import type { playbackResponse, searchResponse } from '../gateways/api/protocol.ts';
import { createElasticsearch, type Elasticsearch } from '../platform/elasticsearch/client.ts';
import type { EventBus } from '../platform/kafka/bus.ts';
import type { EventConsumer } from '../platform/kafka/consumer.ts';
import type { EventProducer } from '../platform/kafka/producer.ts';
import { DiscoveryIndexer } from '../processors/discovery-indexer/indexer.ts';
import { loadViewerCounterConfig } from '../processors/viewer-counter/config.ts';
import { viewerPeaks } from '../processors/viewer-counter/peaks.ts';
import { rebuild } from '../platform/store/rebuild.ts';
import { discoveryIndex } from '../domain/discovery/index-definition.ts';
import { deleteIndices, ensureAliasedIndex } from '../platform/elasticsearch/indices.ts';
import { testApiSettings } from './support/api.ts';
import { testBus } from './support/bus.ts';
import { endpoints, serverEnv } from './support/endpoints.ts';
import { uniqueName } from './support/isolation.ts';
import { ServiceProcess } from './support/process.ts';
import { streamEvents } from './support/stream-events.ts';
import { waitFor } from './support/wait.ts';

/**
 * Viewers end to end: a viewer gateway and a viewer counter as real processes, real WebSocket
 * players, real Kafka, the discovery indexer into real Elasticsearch and the HTTP API in process.
 * The window is 6 s instead of 30 s (players beat every second) so silent drops age out quickly;
 * every rule is the same. These players fetch no media, so the counter counts heartbeats alone
 * (VIEWER_REQUIRE_PLAYBACK=false); the join with the edge's playback events is
 * tests/viewers-abuse.int.spec.ts.
 */
const WINDOW_MS = 6000;

type Frame = { type: string; count?: number; peak?: number; session_id?: string };

class Player {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  closeCode: number | undefined;
  private beat: NodeJS.Timeout | undefined;

  constructor(
    port: number,
    streamId: string,
    readonly quality: string,
    readonly session = `s_${randomBytes(6).toString('hex')}`,
  ) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/streams/${streamId}/viewers?session=${session}`);
    this.ws.on('message', (data: Buffer) => this.frames.push(JSON.parse(data.toString('utf8')) as Frame));
    this.ws.on('close', (code) => {
      this.closeCode = code;
      clearInterval(this.beat);
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => {
        this.beat = setInterval(() => this.send({ type: 'heartbeat', quality, buffering_ms: 100 }), 1000);
        resolve();
      });
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  /** The latest count pushed to this player. */
  get count(): number | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--)
      if (this.frames[i]!.type === 'viewers') return this.frames[i]!.count;
    return undefined;
  }

  /** A clean goodbye: close frame 1000. */
  leave(): void {
    clearInterval(this.beat);
    this.ws.close(1000);
  }

  /** Gone without a word: the socket is cut (no close frame) and no heartbeat follows. */
  drop(): void {
    clearInterval(this.beat);
    this.ws.terminate();
  }
}

describe('viewers: gateway, counter, API and search against real Kafka and Elasticsearch', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let es: Elasticsearch;
  let indexer: DiscoveryIndexer;
  let api: ApiGateway;
  let recorder: EventConsumer;
  let gatewayPort: number;
  let counter: ServiceProcess;
  let apiBase: string;
  const alias = uniqueName('viewers');
  const processes: ServiceProcess[] = [];
  const players: Player[] = [];
  const counts: Array<{ streamId: string; viewers: number; peak: number }> = [];
  const A = `stream_${randomBytes(4).toString('hex')}`;
  const B = `stream_${randomBytes(4).toString('hex')}`;
  const READY = `stream_${randomBytes(4).toString('hex')}`;

  const env = (): Record<string, string> => ({
    ...serverEnv(bus.config.topicPrefix),
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  });
  const startCounter = async (): Promise<ServiceProcess> => {
    const proc = new ServiceProcess('viewer-counter', 'processors/viewer-counter/main.ts', {
      ...env(),
      VIEWER_WINDOW_MS: String(WINDOW_MS),
      VIEWER_REBUILD_MARGIN_MS: String(WINDOW_MS),
      VIEWER_REQUIRE_PLAYBACK: 'false',
    });
    processes.push(proc);
    await proc.waitForLog('windows rebuilt', (l) => l.msg === 'viewer windows rebuilt; publishing counts', 90_000);
    return proc;
  };
  const join = async (streamId: string, quality: string): Promise<Player> => {
    const p = new Player(gatewayPort, streamId, quality);
    players.push(p);
    await p.opened;
    return p;
  };
  const api_ = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${apiBase}${path}`);
    assert.equal(res.status, 200, path);
    return (await res.json()) as T;
  };
  const countsOf = (streamId: string) => counts.filter((c) => c.streamId === streamId);

  before(async () => {
    bus = testBus('viewers');
    await bus.init(['streamLifecycle', 'viewerCounts', 'viewerHeartbeats']);
    producer = bus.producer();
    await producer.connect();
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(A, { title: 'Viewers A' }),
      streamEvents.wentLive(A),
      streamEvents.created(B, { title: 'Viewers B' }),
      streamEvents.wentLive(B),
      streamEvents.created(READY),
    ]);
    recorder = bus.consumer({ groupId: uniqueName('viewers-recorder'), from: 'earliest' });
    recorder.on(bus.topic('viewerCounts'), async (records) => {
      for (const r of records)
        counts.push({ streamId: r.event.streamId, viewers: r.event.viewers, peak: r.event.peakViewers });
    });
    await recorder.start();

    es = createElasticsearch({ url: endpoints().elasticsearchUrl });
    await ensureAliasedIndex(es, alias, discoveryIndex({ shards: 1, replicas: 0 }));
    indexer = new DiscoveryIndexer(bus, es, {
      groupId: uniqueName('viewers-indexer'),
      target: alias,
      requireAlias: true,
    });
    await indexer.start();
    api = apiGateway({
      bus,
      es,
      signingKey: randomBytes(32),
      settings: testApiSettings('viewers', alias),
      log: bus.log,
      metrics: bus.metrics,
    });
    for (const c of api.components) await c.start();
    apiBase = `http://127.0.0.1:${api.server.port}`;

    const gateway = new ServiceProcess('viewer-gateway', 'gateways/viewer/main.ts', {
      ...env(),
      VIEWER_PORT: '0',
      VIEWER_MIN_BEAT_INTERVAL_MS: '500',
      VIEWER_PUSH_EVERY_MS: '1000',
    });
    processes.push(gateway);
    gatewayPort = (await gateway.waitForLog('listening', (l) => l.msg === 'viewer gateway listening', 90_000))
      .port as number;
    counter = await startCounter();
  });

  after(async () => {
    for (const p of players) p.drop();
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));
    await recorder?.stop();
    for (const c of [...(api?.components ?? [])].reverse()) await c.stop();
    await indexer?.stop();
    await producer?.disconnect();
    await deleteIndices(es, [`${alias}-v1`]).catch(() => undefined);
    await es?.close();
  });

  it('refuses players of a stream that is not live, or does not exist', async () => {
    await assert.rejects(new Player(gatewayPort, READY, '720p').opened, /409/);
    await assert.rejects(new Player(gatewayPort, 'no_such_stream', '720p').opened, /404/);
  });

  it('counts joins, clean leaves and silent drops exactly, and pushes the counts to the players', async () => {
    const a1 = await join(A, '720p');
    await join(A, '1080p');
    const a3 = await join(A, '1080p');
    const a4 = await join(A, '480p');
    const b1 = await join(B, '720p');
    await join(B, '720p');
    await waitFor('A players see 4', () => a1.count === 4 && a4.count === 4);
    await waitFor('B players see 2', () => b1.count === 2);

    players[1]!.leave();
    await waitFor('A players see 3 after a clean leave', () => a1.count === 3);
    a3.drop();
    await waitFor('A players see 2 once the dropped player ages out', () => a1.count === 2, WINDOW_MS * 5);

    assert.equal(Math.max(...countsOf(A).map((c) => c.viewers)), 4, 'never more than were there');
    assert.equal(countsOf(A).at(-1)?.peak, 4);
    assert.equal(Math.max(...countsOf(B).map((c) => c.viewers)), 2);
  });

  it('a heartbeat for another session, or a flood, never inflates a count', async () => {
    const a1 = players[0]!;
    a1.send({ type: 'heartbeat', session_id: 'someone-elses-session', quality: '720p' });
    await waitFor('the error frame', () => a1.frames.some((f) => f.type === 'error'));
    const flooder = await join(A, '720p');
    await waitFor('A players see 3 with the flooder', () => a1.count === 3);
    for (let i = 0; i < 50; i++) flooder.send({ type: 'heartbeat', quality: '720p' });
    await waitFor('the flooder is closed', () => flooder.closeCode === 1008);
    await waitFor('A players see 2 again', () => a1.count === 2);
    assert.equal(Math.max(...countsOf(A).map((c) => c.viewers)), 4);
  });

  it('counts reach the playback API (with viewers per quality) and search', async () => {
    type Playback = ReturnType<typeof playbackResponse>;
    const playback = await waitFor('playback shows 2 viewers on 720p and 480p', async () => {
      const p = await api_<Playback>(`/api/v1/streams/${A}/playback`);
      return p.viewer_count === 2 && p.viewers_by_quality['720p'] === 1 && p.viewers_by_quality['480p'] === 1 && p;
    });
    assert.equal(playback.peak_viewer_count, 4);
    assert.ok(playback.buffering_ratio > 0 && playback.buffering_ratio < 1, String(playback.buffering_ratio));

    type Search = ReturnType<typeof searchResponse>;
    const found = await waitFor('search filters on the counts', async () => {
      const s = await api_<Search>('/api/v1/streams/search?min_viewers=2&status=live');
      const count = (id: string) => s.streams.find((x) => x.stream_id === id)?.viewer_count;
      return count(A) === 2 && count(B) === 2 && s;
    });
    assert.ok(found.streams.every((x) => x.viewer_count >= 2));
    const none = await api_<Search>('/api/v1/streams/search?min_viewers=3&status=live');
    assert.ok(!none.streams.some((x) => x.stream_id === A || x.stream_id === B), 'neither has 3');
  });

  it('a killed and restarted counter keeps exact counts: no dip, no double', async () => {
    const a1 = players[0]!;
    await counter.kill('SIGKILL');
    await join(A, '720p');
    const mark = counts.length;
    counter = await startCounter();
    await waitFor('A players see 3 after the restart', () => a1.count === 3, 60_000);
    const afterRestart = counts.slice(mark);
    assert.deepEqual(
      afterRestart.filter((c) => c.streamId === A).map((c) => c.viewers),
      [3],
      'the restarted counter publishes the exact count once',
    );
    assert.ok(!afterRestart.some((c) => c.streamId === B && c.viewers !== 2), 'B stays at 2');
    assert.equal(countsOf(A).at(-1)?.peak, 4, 'the peak survives the restart');
  });

  it('the end of a stream publishes a zero, tells its players, and replay rebuilds the same peaks', async () => {
    const a1 = players[0]!;
    await producer.publish(bus.topic('streamLifecycle'), [streamEvents.ended(A)]);
    await waitFor('A counted zero', () => countsOf(A).at(-1)?.viewers === 0);
    await waitFor(
      'A players told and closed',
      () => a1.frames.some((f) => f.type === 'ended') && a1.closeCode === 1000,
    );

    const store = viewerPeaks(
      loadViewerCounterConfig({
        ...serverEnv(bus.config.topicPrefix),
        VIEWER_COUNTER_GROUP_ID: uniqueName('viewers-replay'),
        VIEWER_WINDOW_MS: String(WINDOW_MS),
        VIEWER_CATCHUP_MS: '60000',
        VIEWER_REQUIRE_PLAYBACK: 'false',
      }),
      { bus },
    );
    const live = await store.dump(await store.settledLive());
    assert.deepEqual(Object.fromEntries(live), { [A]: 4, [B]: 2 });
    const { target } = await rebuild({ bus, log: bus.log }, store, { mode: 'apart' }, { deadlineMs: 60_000 });
    assert.deepEqual(Object.fromEntries(await store.dump(target)), Object.fromEntries(live));
  });
});
