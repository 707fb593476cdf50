import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { StreamLifecycleEvent } from '../schemas/generated/events.ts';
import { testBus } from './support/bus.ts';
import { endpoints } from './support/endpoints.ts';
import { newStream, startIngest } from './support/ingest.ts';
import { collect, publishTestPattern, type Publisher } from './support/media.ts';
import { ServiceProcess } from './support/process.ts';
import { waitFor } from './support/wait.ts';
import type { EventBus } from '../platform/kafka/bus.ts';
import type { EventProducer } from '../platform/kafka/producer.ts';

/**
 * Ingest node loss (#24 item 4), with real processes: two RTMP ingest nodes holding leases, two
 * watchdog instances, real ffmpeg publishers. Node A carries two broadcasts and is SIGKILLed for good; one
 * encoder reconnects to node B within the grace, the other never comes back. The first stream
 * stays live on B; the second ends with INGEST_NODE_LOST once A's lease and the grace ran out.
 */
describe('ingest watchdog against real Kafka, real ingest nodes and ffmpeg publishers', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let lifecycle: Awaited<ReturnType<typeof collect<'streamLifecycle'>>>;
  let leases: Awaited<ReturnType<typeof collect<'ingestLeases'>>>;
  let nodeA: Awaited<ReturnType<typeof startIngest>>;
  let nodeB: Awaited<ReturnType<typeof startIngest>>;
  /** Two instances, as a cluster runs them: both decide the same ends. */
  const watchdogs: ServiceProcess[] = [];
  const publishers: Publisher[] = [];
  const suffix = randomBytes(3).toString('hex');
  const A = `ingest-a-${suffix}`;
  const B = `ingest-b-${suffix}`;
  const abandoned = newStream(); // its encoder never comes back
  const moved = newStream(); // its encoder reconnects to node B
  const of = (streamId: string, type: string) => (e: StreamLifecycleEvent) =>
    e.streamId === streamId && e.payload.type === type;
  const liveOn = (streamId: string, node: string) => (e: StreamLifecycleEvent) =>
    e.streamId === streamId && e.payload.type === 'StreamWentLive' && e.payload.ingestNode === node;

  // A lease renewed every 500 ms for 2 s: a dead node is noticed soon. The grace is the
  // product's reconnect grace, long enough for an encoder to reach node B on a busy machine.
  const leaseEnv = { INGEST_LEASE_INTERVAL_MS: '500', INGEST_LEASE_TTL_MS: '2000' };

  /** Publishes `key` to `node` until the node accepts it (its registry may not have read the stream yet). */
  const publishTo = (node: Awaited<ReturnType<typeof startIngest>>, stream: ReturnType<typeof newStream>) =>
    waitFor(
      `${stream.streamId} accepted`,
      async () => {
        const p = publishTestPattern(`rtmp://127.0.0.1:${node.port}/live/${stream.key}`);
        const accepted = await Promise.race([
          node.proc
            .waitForLog('accepted', (l) => l.msg === 'publish accepted' && l.streamId === stream.streamId, 5_000)
            .then(() => true),
          p.exited.then(() => false),
        ]).catch(() => false);
        if (!accepted) p.proc.kill('SIGKILL');
        else publishers.push(p);
        return accepted && p;
      },
      60_000,
    );

  before(async () => {
    bus = testBus('watchdog');
    await bus.init(['streamLifecycle', 'ingestLeases']);
    producer = bus.producer();
    await producer.connect();
    await producer.publish(bus.topic('streamLifecycle'), [abandoned.created, moved.created]);
    lifecycle = await collect(bus, 'streamLifecycle');
    leases = await collect(bus, 'ingestLeases');
    nodeA = await startIngest(bus, { INGEST_NODE_ID: A, INGEST_RECONNECT_GRACE_MS: '600000', ...leaseEnv });
    nodeB = await startIngest(bus, { INGEST_NODE_ID: B, INGEST_RECONNECT_GRACE_MS: '600000', ...leaseEnv });
    const e = endpoints();
    for (const instance of ['one', 'two']) {
      const watchdog = new ServiceProcess(`ingest-watchdog-${instance}`, 'processors/ingest-watchdog/main.ts', {
        KAFKA_BROKERS: e.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: e.registryUrl,
        LIVE_TOPIC_PREFIX: bus.config.topicPrefix,
        METRICS_PORT: '0',
        INGEST_RECONNECT_GRACE_MS: '20000',
        INGEST_WATCHDOG_SWEEP_MS: '200',
        INGEST_WATCHDOG_INSTANCE_ID: `${instance}-${suffix}`,
        LOG_LEVEL: 'info',
      });
      watchdogs.push(watchdog);
      await watchdog.waitForLog('watching', (l) => l.msg === 'watching ingest leases', 90_000);
    }
  });

  after(async () => {
    for (const p of publishers) p.proc.kill('SIGKILL');
    for (const w of watchdogs) await w.kill('SIGTERM');
    await nodeA?.proc.kill('SIGKILL');
    await nodeB?.proc.kill('SIGTERM');
    await lifecycle?.stop();
    await leases?.stop();
    await producer?.disconnect();
  });

  it('each ingest node holds a lease before it accepts a publisher', async () => {
    for (const node of [A, B]) {
      const first = await waitFor(`a lease of ${node}`, () => leases.events.find((l) => l.nodeId === node));
      assert.equal(first.released, false);
      assert.ok(first.validUntil > first.occurredAt);
    }
    await publishTo(nodeA, abandoned);
    await publishTo(nodeA, moved);
    await waitFor(
      'both live on node A',
      () => [abandoned, moved].every((s) => lifecycle.events.some(liveOn(s.streamId, A))),
      60_000,
    );
  });

  it('node A is SIGKILLed and never returns; the encoder that reconnects to node B in time keeps its stream live', async () => {
    await nodeA.proc.kill('SIGKILL');
    for (const p of publishers.splice(0)) p.proc.kill('SIGKILL');
    await publishTo(nodeB, moved);
    await waitFor('the moved stream live on node B', () => lifecycle.events.find(liveOn(moved.streamId, B)), 60_000);
  });

  it('once A’s lease and the grace ran out, the abandoned stream ends with INGEST_NODE_LOST, and only it', async () => {
    const ended = await waitFor(
      'StreamEnded of the abandoned stream',
      () => lifecycle.events.find(of(abandoned.streamId, 'StreamEnded')),
      120_000,
    );
    assert.deepEqual(ended.payload, { type: 'StreamEnded', reason: 'INGEST_NODE_LOST', endedBy: null });
    const verdicts = await waitFor('the decision on node A', () => {
      const found = watchdogs.flatMap((w) =>
        w.logs.filter((l) => l.msg === 'ingest node lost; ended the streams still live on it' && l.nodeId === A),
      );
      return found.length > 0 && found;
    });
    for (const v of verdicts) assert.deepEqual(v.ended, [abandoned.streamId]);
    for (const w of watchdogs) {
      assert.ok(
        w.logs.some(
          (l) => typeof l.msg === 'string' && l.msg.startsWith('ingest node lease ran out') && l.nodeId === A,
        ),
        `${w.label} logged the expiry:\n${w.tail()}`,
      );
      assert.ok(w.running, w.tail());
    }
    assert.equal(lifecycle.events.filter(of(moved.streamId, 'StreamEnded')).length, 0, 'the moved stream is live');
    // Both instances may have published it; if so, as one event id, which every projection de-duplicates.
    const ends = lifecycle.events.filter(of(abandoned.streamId, 'StreamEnded'));
    assert.deepEqual(new Set(ends.map((x) => x.eventId)), new Set([ended.eventId]));
    assert.ok(ends.every((x) => x.payload.type === 'StreamEnded' && x.payload.reason === 'INGEST_NODE_LOST'));
    assert.ok(nodeB.proc.running);

    const decided = watchdogs.find((w) =>
      w.logs.some((l) => l.msg === 'ingest node lost; ended the streams still live on it'),
    )!;
    const metricsPort = (await decided.waitForLog('metrics', (l) => l.msg === 'metrics listening')).port as number;
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(text, /^live_ingest_watchdog_streams_ended_total\{[^}]*\} 1$/m);
  });

  it('a node stopped cleanly ends its own streams and releases its lease', async () => {
    await nodeB.proc.kill('SIGTERM');
    const released = await waitFor('B’s release', () => leases.events.find((l) => l.nodeId === B && l.released));
    assert.equal(released.validUntil, released.occurredAt);
    const ended = await waitFor('the moved stream ended by B', () =>
      lifecycle.events.find(of(moved.streamId, 'StreamEnded')),
    );
    assert.equal(ended.payload.type === 'StreamEnded' && ended.payload.reason, 'PUBLISHER_DISCONNECTED');
  });
});
