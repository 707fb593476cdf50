import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { envOption, integer, listOption, parse, tool } from '../platform/cli.ts';
import { profiled } from './lib/profile.ts';
import { loadRdkafka, rdkafkaConsume, rdkafkaProduce } from './lib/rdkafka-peer.ts';
import { launcherConfig } from '../compose/launcher/config.ts';
import { javaBin } from '../compose/launcher/java.ts';
import { KAFKA_VERSION } from '../compose/launcher/servers/kafka.ts';
import type { ViewerHeartbeat } from '../schemas/generated/events.ts';
import { TOPICS, dlqName, subjectOf } from '../schemas/topics.ts';
import type { BusAdmin } from '../platform/kafka/admin.ts';
import { baselineConsumer, baselineProducer } from '../platform/kafka/baseline.ts';
import { EventBus } from '../platform/kafka/bus.ts';
import type { EventCodec } from '../platform/kafka/codec.ts';
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, type KafkaClientName } from '../platform/kafka/driver.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { median } from '../platform/stats.ts';
import { endpoints } from '../tests/support/endpoints.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';

/**
 * The event bus on each Kafka client it can run on, against Kafka's own perf-test tools, through
 * the real broker, in one run (issue #23: the client is chosen by this measurement). Each round
 * uses fresh topics and runs, alternating the order of the sides:
 *
 *   - ours, produce, once per client (kafkajs, @platformatic/kafka): EventProducer.publish of N
 *     ViewerHeartbeat events from memory (Avro, Confluent wire format, idempotent, acks=all),
 *     B events per call, C calls in flight; first send to last ack;
 *   - Java, produce: ProducerPerformance (same jars as the broker), N records of our mean encoded
 *     size, acks=all, idempotent, to a topic with the same partition count;
 *   - ours, consume, once per client: EventConsumer (fresh group, from the beginning, production
 *     commit behaviour) decoding every record through the codec into a no-op handler; group join
 *     to the N-th event;
 *   - Java, consume: ConsumerPerformance (fresh group); fetch.nMsg.sec covers the same span;
 *   - each client alone (unless --no-raw): the same records pre-encoded, sent and counted through
 *     the bus's driver for that client (its settings, none of the bus's code), and node-rdkafka
 *     (librdkafka) with the Java client's defaults: how much of the gap is the client library.
 *
 * Decoding is measured apart too (the codec alone over the encoded records, no Kafka), so the
 * consume figures can be read as client + decode. Figures are medians over the rounds.
 *
 *   The command line: `program`, below (npm run bench -- event-bus --help).
 */
function kafkaClient(name: string): KafkaClientName {
  const client = KAFKA_CLIENTS.find((c) => c === name);
  if (!client) throw new InvalidArgumentError(`unknown client "${name}"; clients: ${KAFKA_CLIENTS.join(', ')}`);
  return client;
}

const program = tool({
  name: 'bench event-bus',
  command: 'npm run bench -- event-bus',
  description:
    "Publishing and consuming through the platform's event bus, on each Kafka client it can run on, " +
    "against each client alone, node-rdkafka, and Kafka's own Java perf-test tools, on the same broker.",
  examples: [
    'npm run bench -- event-bus --events 1000000 --rounds 5 --batch 2000 --concurrency 8',
    'npm run bench -- event-bus --clients platformatic --no-rdkafka --no-write',
  ],
  notes: 'BENCH_PROFILE=<dir> also writes V8 CPU profiles of our phases (round 1) there.',
})
  .addOption(envOption('--events <N>', 'events per run', 'BENCH_EVENTS', integer(1), 1000000))
  .addOption(envOption('--rounds <R>', 'rounds, alternating the order of the sides', 'BENCH_ROUNDS', integer(1), 5))
  .addOption(envOption('--batch <B>', 'events per publish call', 'BENCH_BATCH', integer(1), 2000))
  .addOption(envOption('--concurrency <C>', 'publish calls in flight', 'BENCH_CONCURRENCY', integer(1), 8))
  .addOption(listOption('--clients <list>', "the bus's clients to run", kafkaClient, [...KAFKA_CLIENTS]))
  .option('--no-java', "skip Kafka's Java perf-test tools")
  .option('--no-raw', 'skip the client-alone runs')
  .option('--no-rdkafka', 'skip node-rdkafka (installed into bench/peers/rdkafka on first use)')
  .option('--no-write', 'do not record the result in bench/results');
const { options: args } = parse(program);
const N = args.events;
const ROUNDS = args.rounds;
const BATCH = args.batch;
const CONCURRENCY = args.concurrency;
const JAVA = args.java;
const RAW = args.raw;
const CLIENTS = args.clients;
const RDKAFKA = RAW && args.rdkafka ? loadRdkafka() : 'skipped (--no-rdkafka or --no-raw)';

const TARGET_EPS = 100_000;
const TARGET_RATIO = 0.5;
const e = endpoints();
const runId = randomBytes(4).toString('hex');
const log = createLogger('bench', process.env.BENCH_LOG_LEVEL ?? 'error');
const spec = TOPICS.viewerHeartbeats;
const say = (msg: string): void => console.log(`[event-bus] ${msg}`);
const secondsSince = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e9;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const label: Record<KafkaClientName, string> = { kafkajs: 'kafkajs 2.2', platformatic: '@platformatic/kafka 1.35' };

/** One round's isolated names for one client: its own topic prefix (so its own topics, subject and groups). */
function roundBus(round: number, client: KafkaClientName): EventBus {
  return new EventBus(
    {
      brokers: e.kafkaBrokers,
      registryUrl: e.registryUrl,
      clientId: 'bench-event-bus',
      topicPrefix: `bench_${runId}_r${round}_${client}.`,
      client,
    },
    new Metrics('bench', { defaults: false }),
    log,
  );
}
const javaTopicOf = (bus: EventBus): string => `${bus.config.topicPrefix}java.heartbeats`;
const rawTopicOf = (bus: EventBus): string => `${bus.config.topicPrefix}alone.heartbeats`;
const rdkafkaTopicOf = (bus: EventBus): string => `${bus.config.topicPrefix}rdkafka.heartbeats`;

/** Realistic heartbeats: ~2,000 live streams, sessions as UUIDs, two thirds signed in. */
function buildEvents(n: number): ViewerHeartbeat[] {
  const streams = Array.from({ length: 2000 }, () => `stream_${randomBytes(8).toString('hex')}`);
  const qualities = ['1080p60', '1080p', '720p', '480p', '360p'];
  const start = Date.now();
  const out = new Array<ViewerHeartbeat>(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      eventId: randomUUID(),
      occurredAt: start + i,
      streamId: streams[i % streams.length]!,
      sessionId: randomUUID(),
      userId: i % 3 === 0 ? null : `user_${randomBytes(8).toString('hex')}`,
      kind: i % 40 === 0 ? 'CONNECT' : i % 40 === 1 ? 'DISCONNECT' : 'HEARTBEAT',
      quality: i % 40 === 0 ? null : qualities[i % qualities.length]!,
      bufferingMs: i % 5 === 0 ? (i * 37) % 4000 : 0,
      latencyMs: i % 40 < 2 ? null : 800 + ((i * 13) % 2000),
      gatewayId: `gw-eu-west-1${'abc'[i % 3]}-${String(i % 12).padStart(2, '0')}`,
    };
  }
  return out;
}

async function produceOurs(bus: EventBus, events: ViewerHeartbeat[]): Promise<number> {
  const topic = bus.topic('viewerHeartbeats');
  const producer = bus.producer();
  await producer.connect();
  try {
    let next = 0;
    const t0 = process.hrtime.bigint();
    const worker = async (): Promise<void> => {
      while (next < events.length) {
        const slice = events.slice(next, (next += BATCH));
        await producer.publish(topic, slice);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return events.length / secondsSince(t0);
  } finally {
    await producer.disconnect();
  }
}

interface ConsumeRate {
  /** From partition assignment to the N-th record. */
  eps: number;
  /** From start, group join included. */
  epsWithJoin: number;
}

async function consumeOurs(bus: EventBus, n: number): Promise<ConsumeRate> {
  const topic = bus.topic('viewerHeartbeats');
  const consumer = bus.consumer({ groupId: `${bus.config.topicPrefix}bench-consumer`, from: 'earliest' });
  let seen = 0;
  let allSeen!: () => void;
  const done = new Promise<void>((r) => (allSeen = r));
  consumer.on(topic, async (records) => {
    seen += records.length;
    if (seen >= n) allSeen();
  });
  const joined = consumer.onceJoined().then(() => process.hrtime.bigint());
  const t0 = process.hrtime.bigint();
  await consumer.start();
  await done;
  const total = secondsSince(t0);
  const fromJoin = secondsSince(await joined);
  await consumer.stop();
  return { eps: n / fromJoin, epsWithJoin: n / total };
}

/** Pre-encoded records, once, for every client-alone run. */
function encodedOf(
  codec: EventCodec<ViewerHeartbeat>,
  events: ViewerHeartbeat[],
): Array<{ key: string; value: Buffer }> {
  return codec.encodeAll(events).map((value, i) => ({ key: events[i]!.streamId, value }));
}

/** The client alone: pre-encoded records through the bus's driver for it (its producer settings), no bus code. */
async function produceRaw(
  bus: EventBus,
  topic: string,
  messages: Array<{ key: string; value: Buffer }>,
): Promise<number> {
  const producer = await baselineProducer(bus, bus.driver.name);
  try {
    let next = 0;
    const t0 = process.hrtime.bigint();
    const worker = async (): Promise<void> => {
      while (next < messages.length) {
        const slice = messages.slice(next, (next += BATCH));
        await producer.send(topic, slice);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return messages.length / secondsSince(t0);
  } finally {
    await producer.disconnect();
  }
}

/** The client alone: its consumer settings in the driver, records counted but not decoded, committed every second. */
async function consumeRaw(bus: EventBus, topic: string, n: number): Promise<ConsumeRate> {
  let seen = 0;
  let allSeen!: () => void;
  const done = new Promise<void>((r) => (allSeen = r));
  let joined = 0n;
  const t0 = process.hrtime.bigint();
  const consumer = await baselineConsumer(bus, bus.driver.name, {
    groupId: `${bus.config.topicPrefix}alone-consumer`,
    topics: [topic],
    commitIntervalMs: 1000,
    onJoin: () => void (joined ||= process.hrtime.bigint()),
    onBatch: (records) => {
      seen += records.length;
      if (seen >= n) allSeen();
    },
  });
  await done;
  const total = secondsSince(t0);
  const fromJoin = secondsSince(joined);
  await consumer.stop();
  return { eps: n / fromJoin, epsWithJoin: n / total };
}

/**
 * The codec alone, no Kafka: the decode the consumer runner does per record (decodeSync of the
 * Confluent wire format), over every encoded record, best of three passes. Events/s on one core.
 */
function decodeRate(codec: EventCodec<ViewerHeartbeat>, values: Buffer[]): number {
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const t0 = process.hrtime.bigint();
    for (const v of values) codec.decodeSync(v);
    best = Math.min(best, secondsSince(t0));
  }
  return values.length / best;
}

function runJava(mainClass: string, argv: string[]): Promise<string> {
  const cp = `${join(launcherConfig().cacheDir, `kafka-${KAFKA_VERSION}`, 'lib')}/*`;
  // The JVM options of kafka-run-class.sh and the perf-test scripts.
  const jvm = [
    '-Xmx512M',
    '-server',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-Djava.awt.headless=true',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(javaBin(17), [...jvm, '-cp', cp, mainClass, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${mainClass} exited ${code}:\n${out}`)),
    );
  });
}

async function produceJava(topic: string, n: number, recordSize: number): Promise<number> {
  const out = await runJava('org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    topic,
    '--num-records',
    String(n),
    '--record-size',
    String(recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    'acks=all',
    'enable.idempotence=true',
    `bootstrap.servers=${e.kafkaBrokers.join(',')}`,
  ]);
  // "1000000 records sent, 312500.0 records/sec (45.00 MB/sec), ..."; the last such line is the total.
  const totals = [...out.matchAll(/(\d+) records sent, ([\d.]+) records\/sec/g)];
  const last = totals[totals.length - 1];
  if (!last || Number(last[1]) !== n) throw new Error(`unexpected ProducerPerformance output:\n${out}`);
  return Number(last[2]);
}

async function consumeJava(topic: string, group: string, n: number): Promise<ConsumeRate> {
  const out = await runJava('org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server',
    e.kafkaBrokers.join(','),
    '--topic',
    topic,
    '--messages',
    String(n),
    '--group',
    group,
    '--timeout',
    '60000',
  ]);
  const lines = out.split('\n').map((l) => l.trim());
  const headerAt = lines.findIndex((l) => l.startsWith('start.time'));
  const header = lines[headerAt]?.split(/,\s*/);
  const row = lines[headerAt + 1]?.split(/,\s*/);
  const col = (name: string): number => Number(row?.[header?.indexOf(name) ?? -1]);
  if (!header || !row || !(col('data.consumed.in.nMsg') >= n)) {
    throw new Error(`unexpected ConsumerPerformance output:\n${out}`);
  }
  return { eps: col('fetch.nMsg.sec'), epsWithJoin: col('nMsg.sec') };
}

async function cleanUp(admin: BusAdmin, bus: EventBus): Promise<void> {
  const ours = bus.topicName('viewerHeartbeats');
  const existing = new Set(await admin.listTopics());
  const topics = [ours, dlqName(ours), javaTopicOf(bus), rawTopicOf(bus), rdkafkaTopicOf(bus)].filter((t) =>
    existing.has(t),
  );
  await admin.deleteTopics(topics);
  const p = bus.config.topicPrefix;
  const groups = ['bench-consumer', 'java-consumer', 'alone-consumer', 'rdkafka-consumer'].map((g) => `${p}${g}`);
  await admin.deleteGroups(groups).catch(() => undefined);
  // The registry keeps a deleted subject until it is deleted twice (soft, then permanent).
  const subject = `${e.registryUrl}/subjects/${encodeURIComponent(subjectOf(ours))}`;
  for (const q of ['', '?permanent=true']) await fetch(`${subject}${q}`, { method: 'DELETE' }).catch(() => undefined);
  if (topics.length) say(`deleted ${topics.join(', ')}`);
}

const MiB = 2 ** 20;
/** The highest RSS seen while our producer or consumer ran (sampled every 50 ms). */
let oursPeakRss = 0;
async function sampled<R>(fn: () => Promise<R>): Promise<R> {
  const sample = (): void => void (oursPeakRss = Math.max(oursPeakRss, process.memoryUsage.rss()));
  const timer = setInterval(sample, 50);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    sample();
  }
}

const NONE: ConsumeRate = { eps: 0, epsWithJoin: 0 };
type PerClient<T> = Record<KafkaClientName, T>;
const perClient = <T>(v: () => T): PerClient<T> =>
  Object.fromEntries(KAFKA_CLIENTS.map((c) => [c, v()])) as PerClient<T>;

interface Round {
  produce: { ours: PerClient<number>; raw: PerClient<number>; java: number; rdkafka: number };
  consume: { ours: PerClient<ConsumeRate>; raw: PerClient<ConsumeRate>; java: ConsumeRate; rdkafka: ConsumeRate };
  load: number;
}

async function runRound(
  round: number,
  events: ViewerHeartbeat[],
  encoded: Array<{ key: string; value: Buffer }>,
  recordSize: number,
): Promise<Round> {
  const buses = CLIENTS.map((c) => roundBus(round, c));
  // The peers' topics live under the first client's prefix; any admin will do for them.
  const peers = buses[0]!;
  const admin = peers.admin();
  const r: Round = {
    produce: { ours: perClient(() => 0), raw: perClient(() => 0), java: 0, rdkafka: 0 },
    consume: { ours: perClient(() => NONE), raw: perClient(() => NONE), java: NONE, rdkafka: NONE },
    load: loadavg()[0]!,
  };
  const rd = typeof RDKAFKA === 'string' ? undefined : RDKAFKA;
  try {
    for (const bus of buses) {
      await bus.init(['viewerHeartbeats']);
      if (RAW) await admin.createTopic(rawTopicOf(bus), spec);
    }
    // Topics shaped like the catalog's heartbeats topic, for the peers.
    if (JAVA) await admin.createTopic(javaTopicOf(peers), spec);
    if (rd) await admin.createTopic(rdkafkaTopicOf(peers), spec);
    const prof = round === 1 ? profiled : <R>(_: string, fn: () => Promise<R>): Promise<R> => fn();
    const produce: Array<() => Promise<unknown>> = [
      ...buses.map((bus) => async () => {
        const c = bus.driver.name;
        r.produce.ours[c] = await prof(`produce-${c}`, () => sampled(() => produceOurs(bus, events)));
      }),
      async () => JAVA && (r.produce.java = await produceJava(javaTopicOf(peers), N, recordSize)),
      ...buses.map(
        (bus) => async () => RAW && (r.produce.raw[bus.driver.name] = await produceRaw(bus, rawTopicOf(bus), encoded)),
      ),
      async () => rd && (r.produce.rdkafka = await rdkafkaProduce(rd, e.kafkaBrokers, rdkafkaTopicOf(peers), encoded)),
    ];
    const consume: Array<() => Promise<unknown>> = [
      ...buses.map((bus) => async () => {
        const c = bus.driver.name;
        r.consume.ours[c] = await prof(`consume-${c}`, () => sampled(() => consumeOurs(bus, N)));
      }),
      async () =>
        JAVA && (r.consume.java = await consumeJava(javaTopicOf(peers), `${peers.config.topicPrefix}java-consumer`, N)),
      ...buses.map(
        (bus) => async () => RAW && (r.consume.raw[bus.driver.name] = await consumeRaw(bus, rawTopicOf(bus), N)),
      ),
      async () =>
        rd &&
        (r.consume.rdkafka = await rdkafkaConsume(
          rd,
          e.kafkaBrokers,
          rdkafkaTopicOf(peers),
          `${peers.config.topicPrefix}rdkafka-consumer`,
          N,
        )),
    ];
    // Alternate the order, so no side always meets a warmer (or busier) broker.
    const reversed = round % 2 === 0;
    for (const step of reversed ? [...produce.reverse(), ...consume.reverse()] : [...produce, ...consume]) await step();
    const each = (pick: (c: KafkaClientName) => number): string =>
      CLIENTS.map((c) => `${c} ${fmt(pick(c))}`).join(' / ');
    say(
      `round ${round}/${ROUNDS} (load ${r.load.toFixed(1)}${reversed ? ', reversed' : ''}): ` +
        `produce ours ${each((c) => r.produce.ours[c])}, java ${fmt(r.produce.java)}, alone ${each((c) => r.produce.raw[c])} / rdkafka ${fmt(r.produce.rdkafka)}; ` +
        `consume ours ${each((c) => r.consume.ours[c].eps)}, java ${fmt(r.consume.java.eps)}, alone ${each((c) => r.consume.raw[c].eps)} / rdkafka ${fmt(r.consume.rdkafka.eps)} events/s`,
    );
    return r;
  } finally {
    for (const bus of buses)
      await cleanUp(admin, bus).catch((err: unknown) => say(`clean-up failed: ${(err as Error).message}`));
    await admin.close();
  }
}

/** A codec registered under a throwaway subject, the events' mean encoded size, and the encoded records. */
async function encodeOnce(
  events: ViewerHeartbeat[],
): Promise<{ meanSize: number; encoded: Array<{ key: string; value: Buffer }>; decodeEps: number }> {
  const sizing = roundBus(0, CLIENTS[0]!);
  const admin = sizing.admin();
  try {
    await sizing.init(['viewerHeartbeats']);
    const codec = sizing.topic('viewerHeartbeats').codec;
    const encoded = encodedOf(codec, events);
    const meanSize = encoded.reduce((sum, m) => sum + m.value.length, 0) / encoded.length;
    const decodeEps = decodeRate(
      codec,
      encoded.map((m) => m.value),
    );
    return { meanSize, encoded, decodeEps };
  } finally {
    await cleanUp(admin, sizing);
    await admin.close();
  }
}

async function main(): Promise<void> {
  say(
    `${fmt(N)} events x ${ROUNDS} rounds; publish batches of ${BATCH}, ${CONCURRENCY} in flight; bus on ${CLIENTS.join(', ')}`,
  );
  if (typeof RDKAFKA === 'string') say(`node-rdkafka: ${RDKAFKA}`);
  const events = buildEvents(N);
  const baselineRss = process.memoryUsage.rss();
  const { meanSize, encoded, decodeEps } = await encodeOnce(events);
  const recordSize = Math.round(meanSize);
  say(`mean encoded value ${meanSize.toFixed(1)} bytes (5-byte header included); Java records: ${recordSize} bytes`);
  say(`decode alone: ${fmt(decodeEps)} events/s (${(1e9 / decodeEps).toFixed(0)} ns per event)`);

  const rounds: Round[] = [];
  for (let i = 1; i <= ROUNDS; i++) rounds.push(await runRound(i, events, encoded, recordSize));

  const med = (pick: (r: Round) => number): number => median(rounds.map(pick));
  const java = {
    produce: med((r) => r.produce.java),
    consume: med((r) => r.consume.java.eps),
    consumeJoin: med((r) => r.consume.java.epsWithJoin),
  };
  const rd =
    typeof RDKAFKA === 'string'
      ? undefined
      : { produce: med((r) => r.produce.rdkafka), consume: med((r) => r.consume.rdkafka.eps) };
  const processPeak = (process.resourceUsage().maxRSS * 1024) / MiB;
  for (const c of CLIENTS) {
    say(
      `median ${c}: produce ${fmt(med((r) => r.produce.ours[c]))} / java ${fmt(java.produce)} = ${
        ratio(
          med((r) => r.produce.ours[c]),
          java.produce,
        ) ?? '-'
      } ` +
        `(alone ${fmt(med((r) => r.produce.raw[c]))}); consume ${fmt(med((r) => r.consume.ours[c].eps))} / java ${fmt(java.consume)} = ` +
        `${
          ratio(
            med((r) => r.consume.ours[c].eps),
            java.consume,
          ) ?? '-'
        } (alone ${fmt(med((r) => r.consume.raw[c].eps))})`,
    );
  }
  if (rd) say(`median rdkafka alone: produce ${fmt(rd.produce)}, consume ${fmt(rd.consume)}`);
  say(
    `RSS: ${fmt(baselineRss / MiB)} MiB with the events built, peak ${fmt(oursPeakRss / MiB)} MiB during our phases, ` +
      `${fmt(processPeak)} MiB for the whole process`,
  );
  if (!args.write) return;

  const target = `≥ ${fmt(TARGET_EPS)} events/s and ≥ ${TARGET_RATIO}× the Java client (issue #23)`;
  const meets = (eps: number, r: number | null): boolean => eps >= TARGET_EPS && r !== null && r >= TARGET_RATIO;
  const perRound = (pick: (r: Round) => [number, number]): string =>
    rounds
      .map((r, i) => {
        const [o, j] = pick(r);
        return `r${i + 1} ${fmt(o)}/${fmt(j)}${j ? ` (${(o / j).toFixed(2)})` : ''}`;
      })
      .join(', ');
  const peer = (name: string, value: number, on: boolean): Metric['peer'] =>
    on ? { name, value: Math.round(value) } : null;
  const against = (
    name: string,
    value: number,
    peerName: string,
    peerValue: number,
    on: boolean,
    notes: string,
  ): Metric => ({
    metric: name,
    value: Math.round(value),
    unit: 'events/s',
    peer: peer(peerName, peerValue, on),
    ratio: on ? ratio(value, peerValue) : null,
    target: 'report only',
    meetsTarget: null,
    notes,
  });
  const bus = (c: KafkaClientName): string => `bus on ${label[c]}${c === DEFAULT_KAFKA_CLIENT ? ' (the default)' : ''}`;
  const produceRow = (c: KafkaClientName): Metric => {
    const ours = med((r) => r.produce.ours[c]);
    const rr = ratio(ours, java.produce);
    return {
      metric: `produce (encode + publish, idempotent, acks=all), ${bus(c)}`,
      value: Math.round(ours),
      unit: 'events/s',
      peer: peer('ProducerPerformance records/sec', java.produce, JAVA),
      ratio: rr,
      target,
      meetsTarget: meets(ours, rr),
      notes: `Ours/Java per round: ${perRound((r) => [r.produce.ours[c], r.produce.java])}.`,
    };
  };
  const consumeRow = (c: KafkaClientName): Metric => {
    const ours = med((r) => r.consume.ours[c].eps);
    const rr = ratio(ours, java.consume);
    return {
      metric: `consume (decode + no-op handler + commit), ${bus(c)}`,
      value: Math.round(ours),
      unit: 'events/s',
      peer: peer('ConsumerPerformance fetch.nMsg.sec', java.consume, JAVA),
      ratio: rr,
      target,
      meetsTarget: meets(ours, rr),
      notes:
        `Both from partition assignment to the N-th record. Ours/Java per round: ${perRound((r) => [r.consume.ours[c].eps, r.consume.java.eps])}; ` +
        `group join included: ours ${fmt(med((r) => r.consume.ours[c].epsWithJoin))}, Java ${fmt(java.consumeJoin)} (ConsumerPerformance nMsg.sec).`,
    };
  };
  const main0 = CLIENTS.includes(DEFAULT_KAFKA_CLIENT) ? DEFAULT_KAFKA_CLIENT : CLIENTS[0]!;
  const others = CLIENTS.filter((c) => c !== main0);
  const extra: Metric[] = [
    consumeRow(main0),
    ...others.flatMap((c) => [produceRow(c), consumeRow(c)]),
    ...(RAW
      ? CLIENTS.flatMap((c) => [
          against(
            `produce, ${label[c]} alone (pre-encoded, through its driver)`,
            med((r) => r.produce.raw[c]),
            'ProducerPerformance records/sec',
            java.produce,
            JAVA,
            `The same records encoded beforehand, sent with the bus's producer for that client (idempotent, acks=all, Java's partitioner, ` +
              `batch ${BATCH} × ${CONCURRENCY}) but no bus code: the ceiling of the library here. Alone/Java per round: ` +
              `${perRound((r) => [r.produce.raw[c], r.produce.java])}.`,
          ),
          against(
            `consume, ${label[c]} alone (no decoding, through its driver)`,
            med((r) => r.consume.raw[c].eps),
            'ConsumerPerformance fetch.nMsg.sec',
            java.consume,
            JAVA,
            `The bus's consumer for that client (its group and fetch settings), handing each partition batch to a counter, ` +
              `committing every second: the ceiling of the library here. Alone/Java per round: ` +
              `${perRound((r) => [r.consume.raw[c].eps, r.consume.java.eps])}.`,
          ),
        ])
      : []),
    ...(rd
      ? [
          against(
            'produce, node-rdkafka 3.6 (librdkafka 2.12) alone (pre-encoded)',
            rd.produce,
            'ProducerPerformance records/sec',
            java.produce,
            JAVA,
            "enable.idempotence=true, acks=all, murmur2_random partitioner, librdkafka's default batching, every record handed to " +
              `produce() at once, first record to last delivery report. Per round vs Java: ${perRound((r) => [r.produce.rdkafka, r.produce.java])}.`,
          ),
          against(
            'consume, node-rdkafka 3.6 (librdkafka 2.12) alone (no decoding)',
            rd.consume,
            'ConsumerPerformance fetch.nMsg.sec',
            java.consume,
            JAVA,
            'KafkaConsumer, fresh group from the earliest records, consume(10000) in a loop, auto-commit every second; ' +
              `first assignment to the N-th record. Per round vs Java: ${perRound((r) => [r.consume.rdkafka.eps, r.consume.java.eps])}.`,
          ),
        ]
      : []),
    {
      metric: 'decode alone (codec only, no Kafka)',
      value: Math.round(decodeEps),
      unit: 'events/s',
      peer: null,
      ratio: null,
      target: 'report only',
      meetsTarget: null,
      notes:
        `EventCodec.decodeSync (Confluent header + Avro) over the ${fmt(N)} encoded records, best of 3 passes on one core: ` +
        `${(1e9 / decodeEps).toFixed(0)} ns per event. The consume rows above pay this per record on top of the client.`,
    },
    {
      metric: 'mean encoded event size',
      value: Math.round(meanSize * 10) / 10,
      unit: 'bytes',
      peer: null,
      ratio: null,
      target: '~150-200 bytes',
      meetsTarget: meanSize >= 140 && meanSize <= 210,
      notes:
        'Avro body plus the 5-byte Confluent header. Our records also carry a 23-byte key (streamId); ' +
        "the Java tool's records are unkeyed values of this size.",
    },
    {
      metric: 'peak RSS while our producer/consumer ran',
      value: Math.round(oursPeakRss / MiB),
      unit: 'MiB',
      peer: null,
      ratio: null,
      target: 'report only',
      meetsTarget: null,
      notes:
        `Whole process, sampled every 50 ms. ${fmt(baselineRss / MiB)} MiB of it is the process holding the ${fmt(N)} ` +
        `pre-built events before any Kafka work; the process peak over the run is ${fmt(processPeak)} MiB ` +
        '(it includes the pre-encoded copy the client-alone runs send).',
    },
  ];
  const flags = `${CLIENTS.length === KAFKA_CLIENTS.length ? '' : ` --clients ${CLIENTS.join(',')}`}${JAVA ? '' : ' --no-java'}${RAW ? '' : ' --no-raw'}${args.rdkafka ? '' : ' --no-rdkafka'}`;
  const command = `npm run bench -- event-bus --events ${N} --rounds ${ROUNDS} --batch ${BATCH} --concurrency ${CONCURRENCY}${flags}`;
  const first = produceRow(main0);
  const file = writeResult('event-bus', {
    ...first,
    notes: [
      `Median of ${ROUNDS} rounds, each on fresh topics (${spec.partitions} partitions), alternating the order of the sides.`,
      `1-minute load average at each round's start: ${rounds.map((r) => r.load.toFixed(1)).join(', ')} (the machine is shared).`,
      `Ours: EventProducer.publish of ${fmt(N)} ViewerHeartbeat events built in memory beforehand, ${BATCH} per call with`,
      `${CONCURRENCY} calls in flight, from the first send to the last ack, Avro encoding and partitioning included, once per`,
      `client the bus can run on (KAFKA_CLIENT); ${first.notes}`,
      'Java: ProducerPerformance with acks=all, enable.idempotence=true, its default batch.size and linger.ms, --throughput -1;',
      'ConsumerPerformance with its defaults. Both tools run from the broker jars (Kafka',
      `${KAFKA_VERSION}) with the JVM options of the kafka-*-perf-test.sh scripts.`,
      ...(typeof RDKAFKA === 'string' ? [`node-rdkafka: ${RDKAFKA}.`] : []),
    ].join(' '),
    command,
    extra,
  });
  say(`wrote ${file}`);
}

await main();
