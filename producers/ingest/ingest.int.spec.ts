import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import { testBus } from '../../tests/support/bus.ts';
import { endpoints } from '../../tests/support/endpoints.ts';
import { collect, publishTestPattern } from '../../tests/support/media.ts';
import { ServiceProcess } from '../../tests/support/process.ts';
import { streamEvents } from '../../tests/support/stream-events.ts';
import { waitFor } from '../../tests/support/wait.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';

describe('RTMP ingest against real Kafka and a real ffmpeg publisher', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let ingest: ServiceProcess;
  let port: number;
  let lifecycle: Awaited<ReturnType<typeof collect<'streamLifecycle'>>>;
  const key = `live_${randomBytes(32).toString('base64url')}`;
  const streamId = `stream_${randomBytes(6).toString('hex')}`;
  const url = (k: string) => `rtmp://127.0.0.1:${port}/live/${k}`;
  const of = (type: string) => (e: StreamLifecycleEvent) => e.streamId === streamId && e.payload.type === type;

  before(async () => {
    bus = testBus('ingest');
    await bus.init(['streamLifecycle']);
    producer = bus.producer();
    await producer.connect();
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(streamId, { streamKeyHash: createHash('sha256').update(key).digest('hex') }),
    ]);
    lifecycle = await collect(bus, 'streamLifecycle');
    // Longer than any wait below: a stream that ends here ended because its publisher said stop.
    await startIngest('600000');
  });

  const startIngest = async (graceMs: string) => {
    const e = endpoints();
    ingest = new ServiceProcess('ingest', 'producers/ingest/main.ts', {
      KAFKA_BROKERS: e.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: e.registryUrl,
      LIVE_TOPIC_PREFIX: bus.config.topicPrefix,
      INGEST_RTMP_HOST: '127.0.0.1',
      INGEST_RTMP_PORT: '0',
      METRICS_PORT: '0',
      INGEST_NODE_ID: 'ingest-spec',
      INGEST_RECONNECT_GRACE_MS: graceMs,
      NODE_OPTIONS: '--openssl-legacy-provider',
      LOG_LEVEL: 'info',
    });
    port = (await ingest.waitForLog('rtmp listening', (l) => l.msg === 'rtmp listening', 90_000)).port as number;
  };

  after(async () => {
    await ingest?.kill('SIGTERM');
    await lifecycle?.stop();
    await producer?.disconnect();
  });

  it('refuses an unknown key and closes the connection', async () => {
    const wrong = publishTestPattern(url('live_not-a-real-key'), { seconds: 30 });
    const code = await wrong.exited;
    assert.notEqual(code, 0, 'ffmpeg must fail to publish with a wrong key');
    await ingest.waitForLog('refusal', (l) => l.msg === 'publish refused' && l.reason === 'unknown_key');
  });

  it('survives garbage on the RTMP port', async () => {
    for (const size of [10, 1537, 8192]) {
      await new Promise<void>((resolve) => {
        const s = connect(port, '127.0.0.1', () => s.end(randomBytes(size)));
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.resume();
      });
    }
    assert.ok(ingest.running, `ingest crashed:\n${ingest.tail()}`);
  });

  it('a good key goes live with the source details; a vanished publisher resumes; a stopped one ends it', async () => {
    const pub = publishTestPattern(url(key), { size: '320x240', fps: 15 });
    const live = await waitFor('StreamWentLive', () => lifecycle.events.find(of('StreamWentLive')), 60_000);
    assert.equal(live.payload.type, 'StreamWentLive');
    if (live.payload.type !== 'StreamWentLive') return;
    assert.equal(live.payload.width, 320);
    assert.equal(live.payload.height, 240);
    assert.equal(live.payload.frameRate, 15);
    assert.equal(live.payload.videoCodec, 'h264');
    assert.equal(live.payload.audioCodec, 'aac');
    assert.equal(live.payload.ingestNode, 'ingest-spec');
    assert.equal(live.payload.sourceUrl, `rtmp://127.0.0.1:${port}/live/${streamId}`);
    assert.ok(!JSON.stringify(live).includes(key), 'the stream key must never reach an event');

    // Stream health, as the encoder sends it: 15 fps, a keyframe a second (gop = fps), some bits.
    const metricsPort = (await ingest.waitForLog('metrics', (l) => l.msg === 'metrics listening')).port as number;
    const gauge = async (name: string): Promise<number | undefined> => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`stream="${streamId}"`));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    await waitFor(
      'a keyframe distance',
      async () => (await gauge('live_ingest_source_keyframe_interval_seconds')) !== undefined,
    );
    assert.equal(await gauge('live_ingest_source_keyframe_interval_seconds'), 1);
    const fps = (await gauge('live_ingest_source_frames_per_second'))!;
    assert.ok(fps > 10 && fps < 20, `about 15 frames a second: ${fps}`);
    assert.ok((await gauge('live_ingest_source_bits_per_second'))! > 64_000, 'video and 64 kb/s audio');

    // The publisher disappears without a goodbye (no FCUnpublish, no EOS), as on a network blip.
    pub.proc.kill('SIGKILL');
    await ingest.waitForLog(
      'held for a reconnect',
      (l) => l.msg === 'publisher vanished; holding the stream live for its reconnect' && l.streamId === streamId,
    );
    // The encoder reconnects with the same key: the broadcast goes on.
    const back = publishTestPattern(url(key), { size: '320x240', fps: 15 });
    const resumed = await waitFor('a second StreamWentLive', () => lifecycle.events.filter(of('StreamWentLive'))[1]);
    assert.ok(resumed.payload.type === 'StreamWentLive');
    assert.equal(resumed.payload.startedAt, live.payload.startedAt, 'same broadcast, same startedAt');
    assert.equal(lifecycle.events.filter(of('StreamEnded')).length, 0);

    // Stopping the encoder (ffmpeg sends FCUnpublish and deleteStream on SIGINT) ends it now.
    back.proc.kill('SIGINT');
    const ended = await waitFor('StreamEnded', () => lifecycle.events.find(of('StreamEnded')), 60_000);
    assert.deepEqual(ended.payload, { type: 'StreamEnded', reason: 'PUBLISHER_DISCONNECTED', endedBy: null });
    assert.ok(ingest.logs.some((l) => l.msg === 'publisher disconnected' && l.streamId === streamId && l.unpublished));
    assert.ok(ingest.running);
  });

  it('refuses the key of an ended stream', async () => {
    await waitFor('registry sees the end', () =>
      ingest.logs.some((l) => l.msg === 'stream ended' && l.streamId === streamId),
    );
    const again = publishTestPattern(url(key), { seconds: 30 });
    assert.notEqual(await again.exited, 0);
    await ingest.waitForLog('refusal', (l) => l.msg === 'publish refused' && l.reason === 'stream_ended');
  });

  it('an ingest killed mid-broadcast and restarted ends the streams it held once their grace runs out', async () => {
    const key2 = `live_${randomBytes(32).toString('base64url')}`;
    const id2 = `stream_${randomBytes(6).toString('hex')}`;
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(id2, { streamKeyHash: createHash('sha256').update(key2).digest('hex') }),
    ]);
    const is = (type: string) => (e: StreamLifecycleEvent) => e.streamId === id2 && e.payload.type === type;
    // Retried: the first try may come before ingest's registry has read the new stream.
    const pub = await waitFor('a publisher accepted', async () => {
      const p = publishTestPattern(url(key2), { size: '320x240', fps: 15 });
      const accepted = await Promise.race([
        ingest
          .waitForLog('accepted', (l) => l.msg === 'publish accepted' && l.streamId === id2, 5_000)
          .then(() => true),
        p.exited.then(() => false),
      ]).catch(() => false);
      if (!accepted) p.proc.kill('SIGKILL');
      return accepted && p;
    });
    await waitFor('StreamWentLive', () => lifecycle.events.find(is('StreamWentLive')), 60_000);
    await ingest.kill('SIGKILL'); // no StreamEnded from it: it is dead
    pub.proc.kill('SIGKILL');
    assert.equal(lifecycle.events.filter(is('StreamEnded')).length, 0);

    await startIngest('2000');
    await ingest.waitForLog(
      'the stream it held adopted',
      (l) => Boolean(l.msg?.startsWith('live streams left by this node')) && (l.streams as string[]).includes(id2),
    );
    const ended = await waitFor('StreamEnded', () => lifecycle.events.find(is('StreamEnded')), 60_000);
    assert.deepEqual(ended.payload, { type: 'StreamEnded', reason: 'PUBLISHER_DISCONNECTED', endedBy: null });
  });
});
