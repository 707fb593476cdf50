import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { integer, parse, tool } from '../platform/cli.ts';
import WebSocket from 'ws';
import type { ViewerHeartbeat } from '../schemas/generated/events.ts';
import { baselineConsumer } from '../platform/kafka/baseline.ts';
import { deleteConsumerGroup } from '../platform/kafka/groups.ts';
import { EventBus } from '../platform/kafka/bus.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { percentile } from '../platform/stats.ts';
import { StreamRegistryProjection } from '../domain/stream/projection.ts';
import { StreamRegistry } from '../domain/stream/registry.ts';
import { CounterMetrics } from '../processors/viewer-counter/metrics.ts';
import { ViewerCounterProcessor } from '../processors/viewer-counter/processor.ts';
import { endpoints } from '../tests/support/endpoints.ts';
import { ServiceProcess } from '../tests/support/process.ts';
import { streamEvents } from '../tests/support/stream-events.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';

/**
 * Viewer counting, in one run on this machine (Kafka, the registry and every process on the same
 * cores):
 *
 *   - throughput: N ViewerHeartbeats (V sessions over S streams, power-law spread) on a fresh
 *     12-partition topic; ONE ViewerCounterProcessor (the production shell and core, default
 *     settings) in this process folds them all. Rate = records / (last folded − first folded).
 *     Peer, same run, same topic: a plain kafkajs consumer group that only decodes each record with
 *     the same Avro codec (eachBatch, nothing else): the floor any kafkajs counter pays, so the
 *     ratio is the share of the consumer's speed the counting keeps.
 *   - join-to-count-seen: a real viewer gateway process and a real counter process; V background
 *     viewers over S streams (power-law; their CONNECTs, then a HEARTBEAT each every 10 s, published
 *     straight onto the heartbeat topic as a gateway does); once counts settle, probe players open
 *     real WebSockets on the gateway, R rounds of one per stream, and time from the socket opening
 *     to the first pushed count that includes them (the stream's settled count + 1); each then
 *     leaves cleanly (close 1000) and the next round waits until its stream is back (read from the
 *     counts topic).
 *
 *   The command line: `program`, below (npm run bench -- viewers --help).
 */
const program = tool({
  name: 'bench viewers',
  command: 'npm run bench -- viewers',
  description:
    'The viewer counter: heartbeats per second folded into counts, and how long a join takes to show ' +
    'in the count a viewer sees.',
  examples: ['npm run bench -- viewers --heartbeats 600000 --viewers 20000 --streams 200 --rounds 3'],
})
  .option('--heartbeats <N>', 'heartbeats for the throughput phase', integer(1), 600000)
  .option('--viewers <V>', 'viewer sessions', integer(1), 20000)
  .option('--streams <S>', 'streams they watch', integer(1), 200)
  .option('--rounds <R>', 'join-to-count-seen rounds, one probe per stream each', integer(1), 3);
const { options: args } = parse(program);
const N = args.heartbeats;
const V = args.viewers;
const S = args.streams;
const ROUNDS = args.rounds;
const say = (msg: string): void => console.log(`[viewers] ${msg}`);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loads: string[] = [];
const noteLoad = (when: string): void => void loads.push(`${when} ${loadavg()[0]!.toFixed(1)}`);

/** Zipf (s = 1): stream i gets a share proportional to 1 / (i + 1). */
function powerLaw(total: number, buckets: number): number[] {
  const w = Array.from({ length: buckets }, (_, i) => 1 / (i + 1));
  const sum = w.reduce((a, b) => a + b, 0);
  const out = w.map((x) => Math.max(1, Math.floor((total * x) / sum)));
  out[0]! += total - out.reduce((a, b) => a + b, 0);
  return out;
}

function newBus(label: string): EventBus {
  const e = endpoints();
  return new EventBus(
    {
      brokers: e.kafkaBrokers,
      registryUrl: e.registryUrl,
      clientId: label,
      topicPrefix: `bench_viewers_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}.`,
    },
    new Metrics(label, { defaults: false }),
    createLogger(label, 'warn'),
  );
}

interface Session {
  streamId: string;
  sessionId: string;
}

function sessions(streamIds: string[]): Session[] {
  const perStream = powerLaw(V, streamIds.length);
  return perStream.flatMap((n, i) =>
    Array.from({ length: n }, () => ({ streamId: streamIds[i]!, sessionId: randomUUID() })),
  );
}

const beat = (s: Session, kind: ViewerHeartbeat['kind'], at: number): ViewerHeartbeat => ({
  eventId: randomUUID(),
  occurredAt: at,
  streamId: s.streamId,
  sessionId: s.sessionId,
  userId: null,
  kind,
  quality: kind === 'HEARTBEAT' ? '720p' : null,
  bufferingMs: kind === 'HEARTBEAT' ? 50 : 0,
  latencyMs: kind === 'HEARTBEAT' ? 1400 : null,
  gatewayId: 'bench',
});

async function throughput(): Promise<{ ours: number; peer: number; note: string }> {
  const bus = newBus('viewers-throughput');
  await bus.init(['viewerHeartbeats', 'viewerCounts', 'streamLifecycle']);
  const topic = bus.topic('viewerHeartbeats');
  const streamIds = Array.from({ length: S }, (_, i) => `bench_stream_${i}`);
  const all = sessions(streamIds);
  const producer = bus.producer();
  await producer.connect();
  say(`producing ${fmt(N)} heartbeats (${fmt(all.length)} sessions over ${S} streams)`);
  const start = Date.now();
  for (let sent = 0; sent < N;) {
    const n = Math.min(5000, N - sent);
    const now = Date.now();
    const batch = Array.from({ length: n }, (_, k) => {
      const i = sent + k;
      return beat(all[i % all.length]!, i < all.length ? 'CONNECT' : 'HEARTBEAT', now);
    });
    await producer.publish(topic, batch);
    sent += n;
  }
  await producer.disconnect();
  say(`produced in ${((Date.now() - start) / 1000).toFixed(1)} s`);

  // Peer: decode only.
  const peerGroup = `${bus.config.topicPrefix}peer`;
  let decoded = 0;
  let peerFirst = 0;
  let peerLast = 0;
  const consumer = await baselineConsumer(bus, bus.driver.name, {
    groupId: peerGroup,
    topics: [topic.name],
    commitIntervalMs: 1000,
    onBatch: (records) => {
      if (!peerFirst) peerFirst = Date.now();
      for (const m of records) topic.codec.decodeSync(m.value);
      decoded += records.length;
      peerLast = Date.now();
    },
  });
  while (decoded < N) await sleep(20);
  await consumer.stop();
  await deleteConsumerGroup(bus, peerGroup, bus.log);
  const peer = N / ((peerLast - peerFirst) / 1000);
  say(`peer (decode only): ${fmt(peer)}/s`);

  // Ours: the production processor.
  const metrics = new CounterMetrics(bus.metrics);
  const registry = new StreamRegistry();
  const processor = new ViewerCounterProcessor(
    bus,
    { ended: (id) => registry.get(id)?.status === 'ended', lastPublished: (id) => registry.viewerStats(id) },
    {
      groupId: `${bus.config.topicPrefix}viewer-counter`,
      counter: { windowMs: 30_000, maxSkewMs: 5000, minEmitIntervalMs: 1000, bufferingEmitIntervalMs: 10_000 },
      // Every record produced above is inside the re-read: the rebuild is the workload.
      rebuildMarginMs: 10 * 60_000,
      tickMs: 200,
    },
    bus.log,
    metrics,
  );
  const folded = async () => (await metrics.heartbeats.get()).values.reduce((n, v) => n + v.value, 0);
  await processor.start();
  let first = 0;
  let firstCount = 0;
  for (;;) {
    const n = await folded();
    if (n > 0 && !first) {
      first = Date.now();
      firstCount = n;
    }
    if (n >= N) break;
    await sleep(10);
  }
  const oursRate = (N - firstCount) / ((Date.now() - first) / 1000);
  await processor.stop();
  say(`ours (ViewerCounterProcessor): ${fmt(oursRate)}/s`);
  return {
    ours: oursRate,
    peer,
    note: `${fmt(N)} heartbeats, ${fmt(all.length)} sessions over ${S} streams (Zipf), 12 partitions`,
  };
}

async function latency(): Promise<{ p50: number; p95: number; max: number; samples: number }> {
  const bus = newBus('viewers-latency');
  await bus.init(['viewerHeartbeats', 'viewerCounts', 'streamLifecycle']);
  const producer = bus.producer();
  await producer.connect();
  const streamIds = Array.from({ length: S }, () => `bench_${randomBytes(5).toString('hex')}`);
  await producer.publish(
    bus.topic('streamLifecycle'),
    streamIds.flatMap((id) => [streamEvents.created(id), streamEvents.wentLive(id)]),
  );
  const e = endpoints();
  const env = {
    KAFKA_BROKERS: e.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: e.registryUrl,
    LIVE_TOPIC_PREFIX: bus.config.topicPrefix,
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  };
  const gateway = new ServiceProcess('viewer-gateway', 'gateways/viewer/main.ts', {
    ...env,
    VIEWER_PORT: '0',
    // Every bench player comes from 127.0.0.1.
    VIEWER_MAX_CONNECTIONS_PER_ADDRESS: '1000000',
  });
  // Bench players only beat (no media through an edge): the heartbeat path alone is measured.
  const counter = new ServiceProcess('viewer-counter', 'processors/viewer-counter/main.ts', {
    ...env,
    VIEWER_REQUIRE_PLAYBACK: 'false',
  });
  const stopAll: Array<() => Promise<unknown>> = [
    () => gateway.kill('SIGTERM'),
    () => counter.kill('SIGTERM'),
    () => producer.disconnect(),
  ];
  try {
    const port = (await gateway.waitForLog('listening', (l) => l.msg === 'viewer gateway listening', 120_000))
      .port as number;
    await counter.waitForLog('rebuilt', (l) => l.msg === 'viewer windows rebuilt; publishing counts', 120_000);
    const registry = new StreamRegistry();
    const projection = new StreamRegistryProjection(bus, registry, {
      groupId: `${bus.config.topicPrefix}bench-registry`,
      catchUpDeadlineMs: 60_000,
    });
    await projection.start();
    stopAll.unshift(() => projection.stop());

    // Background viewers: CONNECT over 10 s, then a HEARTBEAT each every 10 s, evenly spread.
    const all = sessions(streamIds);
    const expected = new Map<string, number>();
    for (const s of all) expected.set(s.streamId, (expected.get(s.streamId) ?? 0) + 1);
    const topic = bus.topic('viewerHeartbeats');
    let background = true;
    const TICK = 100;
    const perTick = Math.ceil(all.length / (10_000 / TICK));
    let cursor = 0;
    let connected = false;
    const feeder = (async () => {
      while (background) {
        const now = Date.now();
        const batch: ViewerHeartbeat[] = [];
        for (let k = 0; k < perTick; k++) {
          batch.push(beat(all[cursor]!, connected ? 'HEARTBEAT' : 'CONNECT', now));
          if (++cursor === all.length) {
            cursor = 0;
            connected = true;
          }
        }
        await producer.publish(topic, batch);
        await sleep(Math.max(0, TICK - (Date.now() - now)));
      }
    })();
    say(`${fmt(all.length)} background viewers over ${S} streams; biggest ${fmt(expected.get(streamIds[0]!)!)}`);
    noteLoad('background on');

    const samples: number[] = [];
    const probe = (streamId: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const want = expected.get(streamId)! + 1;
        const ws = new WebSocket(`ws://127.0.0.1:${port}/streams/${streamId}/viewers`);
        let opened = 0;
        const timer = setTimeout(() => {
          ws.terminate();
          reject(new Error(`no count of ${want} on ${streamId} within 30 s`));
        }, 30_000);
        ws.on('open', () => (opened = Date.now()));
        ws.on('message', (data: Buffer) => {
          const f = JSON.parse(data.toString('utf8')) as { type: string; count?: number };
          if (f.type === 'viewers' && f.count === want) {
            clearTimeout(timer);
            const ms = Date.now() - opened;
            ws.close(1000);
            resolve(ms);
          }
        });
        ws.on('error', reject);
      });
    const settled = async (streamId: string): Promise<void> => {
      // Read from the counts topic (opening a socket to look would itself be a viewer).
      while (registry.viewerCount(streamId) !== expected.get(streamId)) await sleep(100);
    };
    say('waiting for every stream to show its background count');
    for (const id of streamIds) await settled(id);
    noteLoad('settled');
    for (let round = 0; round < ROUNDS; round++) {
      // 20 joins a second, one per stream at a time, each on a stream back at its settled count.
      const pending: Promise<void>[] = [];
      for (const id of streamIds) {
        pending.push(probe(id).then((ms) => void samples.push(ms)));
        await sleep(50);
      }
      await Promise.all(pending);
      say(`round ${round + 1}: ${samples.length} samples`);
      for (const id of streamIds) await settled(id);
    }
    noteLoad('probes done');
    background = false;
    await feeder;
    const q = (p: number) => percentile(samples, p);
    return { p50: q(50), p95: q(95), max: q(100), samples: samples.length };
  } finally {
    for (const s of stopAll) await s().catch(() => undefined);
  }
}

noteLoad('start');
const t = await throughput();
const l = await latency();
const command = `npm run bench -- viewers --heartbeats ${N} --viewers ${V} --streams ${S} --rounds ${ROUNDS}`;
const extra: Metric[] = [
  {
    metric: 'join-to-count-seen p95 (real gateway + counter processes)',
    value: l.p95,
    unit: 'ms',
    peer: null,
    ratio: null,
    target: '< 2000 ms p95',
    meetsTarget: l.p95 < 2000,
    notes: `p50 ${fmt(l.p50)} ms, max ${fmt(l.max)} ms over ${l.samples} joins; ${fmt(V)} background viewers over ${S} streams (Zipf).`,
  },
];
const file = writeResult('viewers', {
  metric: 'heartbeats/s folded by one viewer counter instance, via Kafka',
  value: Math.round(t.ours),
  unit: 'heartbeats/s',
  peer: { name: 'kafkajs consumer group that only decodes (same topic, same codec)', value: Math.round(t.peer) },
  ratio: ratio(t.ours, t.peer),
  target: '≥ 50,000/s',
  meetsTarget: t.ours >= 50_000,
  notes: [
    `Throughput: ${t.note}; one ViewerCounterProcessor in the bench process (production shell and core, rebuild margin`,
    'widened so the whole topic is the re-read), first to last record folded. Peer: plain kafkajs eachBatch that decodes each',
    `record and nothing else. Latency: ${l.samples} probe players on a real viewer gateway process with a real counter`,
    `process; socket open to the first pushed count that includes the probe. 1-minute load average: ${loads.join(', ')}`,
    '(2 shared cores: Kafka, the registry and every process on them).',
  ].join(' '),
  command,
  extra,
});
say(`wrote ${file}`);
process.exit(0);
