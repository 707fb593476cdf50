import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { cliArgs, type Tool } from '../platform/cli.ts';
import { profiled } from './lib/profile.ts';
import { launcherConfig } from '../compose/launcher/config.ts';
import { javaBin } from '../compose/launcher/java.ts';
import { KAFKA_VERSION } from '../compose/launcher/servers/kafka.ts';
import type { ViewerHeartbeat } from '../schemas/generated/events.ts';
import { TOPICS, dlqName, subjectOf } from '../schemas/topics.ts';
import type { BusAdmin } from '../platform/kafka/admin.ts';
import { baselineConsumer, baselineProducer } from '../platform/kafka/baseline.ts';
import { EventBus } from '../platform/kafka/bus.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { median } from '../platform/stats.ts';
import { endpoints } from '../tests/support/endpoints.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';

/**
 * The event bus against Kafka's own perf-test tools, through the real broker, in one run. Each
 * round uses fresh topics and runs, alternating which side goes first:
 *
 *   - ours, produce: EventProducer.publish of N ViewerHeartbeat events from memory (Avro, Confluent
 *     wire format, idempotent, acks=all), B events per call, C calls in flight; first send to last ack;
 *   - Java, produce: ProducerPerformance (same jars as the broker), N records of our mean encoded
 *     size, acks=all, idempotent, to a topic with the same partition count;
 *   - ours, consume: EventConsumer (fresh group, from the beginning, production commit behaviour)
 *     decoding every record through the codec into a no-op handler; group join to the N-th event;
 *   - Java, consume: ConsumerPerformance (fresh group); fetch.nMsg.sec covers the same span;
 *   - kafkajs alone (unless --no-raw): the same records pre-encoded, sent and counted with the bus's
 *     kafkajs settings but none of its code, to show how much of the gap is the client library.
 *
 * Figures are medians over the rounds (the machine is shared; see the per-round notes).
 *
 *   The command line: TOOL.usage, below.
 */
const TOOL: Tool = {
  name: 'bench event-bus',
  usage: `usage: npm run bench -- event-bus [--events N] [--rounds R] [--batch B] [--concurrency C] [--no-java] [--no-raw]
         [--no-write]

  --events N        events per run (default 1000000, or BENCH_EVENTS)
  --rounds R        rounds, alternating which side goes first (default 5, or BENCH_ROUNDS)
  --batch B         events per publish call (default 2000, or BENCH_BATCH)
  --concurrency C   publish calls in flight (default 8, or BENCH_CONCURRENCY)
  --no-java         skip Kafka's Java perf-test tools
  --no-raw          skip the kafkajs-alone run
  --no-write        do not record the result in bench/results
  -h, --help        this text

BENCH_PROFILE=<dir> also writes V8 CPU profiles of our phases (round 1) there.`,
};
const { values: args } = cliArgs(TOOL, {
  options: {
    events: { type: 'string', default: process.env.BENCH_EVENTS ?? '1000000' },
    rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '5' },
    batch: { type: 'string', default: process.env.BENCH_BATCH ?? '2000' },
    concurrency: { type: 'string', default: process.env.BENCH_CONCURRENCY ?? '8' },
    'no-java': { type: 'boolean', default: false },
    'no-raw': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});
const N = Number(args.events);
const ROUNDS = Number(args.rounds);
const BATCH = Number(args.batch);
const CONCURRENCY = Number(args.concurrency);
const JAVA = !args['no-java'];
const RAW = !args['no-raw'];
if (![N, ROUNDS, BATCH, CONCURRENCY].every((n) => Number.isInteger(n) && n > 0)) {
  throw new Error('--events, --rounds, --batch and --concurrency are positive integers');
}

const TARGET_EPS = 100_000;
const TARGET_RATIO = 0.5;
const e = endpoints();
const runId = randomBytes(4).toString('hex');
const log = createLogger('bench', process.env.BENCH_LOG_LEVEL ?? 'error');
const spec = TOPICS.viewerHeartbeats;
const say = (msg: string): void => console.log(`[event-bus] ${msg}`);
const secondsSince = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e9;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** One round's isolated names: its own topic prefix (so its own topics, subject and groups). */
function roundBus(round: number): EventBus {
  return new EventBus(
    {
      brokers: e.kafkaBrokers,
      registryUrl: e.registryUrl,
      clientId: 'bench-event-bus',
      topicPrefix: `bench_${runId}_r${round}.`,
    },
    new Metrics('bench', { defaults: false }),
    log,
  );
}
const javaTopicOf = (bus: EventBus): string => `${bus.config.topicPrefix}java.heartbeats`;
const rawTopicOf = (bus: EventBus): string => `${bus.config.topicPrefix}kafkajs.heartbeats`;

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

/** kafkajs alone: pre-encoded records, the producer settings of EventBus.producer(), no bus code. */
async function produceRaw(bus: EventBus, topic: string, events: ViewerHeartbeat[]): Promise<number> {
  const codec = bus.topic('viewerHeartbeats').codec;
  const messages = codec.encodeAll(events).map((value, i) => ({ key: events[i]!.streamId, value }));
  const producer = await baselineProducer(bus);
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

/** kafkajs alone: the consumer settings of EventConsumer, records counted but not decoded. */
async function consumeRaw(bus: EventBus, topic: string, n: number): Promise<ConsumeRate> {
  let seen = 0;
  let allSeen!: () => void;
  const done = new Promise<void>((r) => (allSeen = r));
  let joined = 0n;
  const t0 = process.hrtime.bigint();
  const consumer = await baselineConsumer(bus, {
    groupId: `${bus.config.topicPrefix}kafkajs-consumer`,
    topics: [topic],
    commitIntervalMs: 1000,
    onJoin: () => void (joined = process.hrtime.bigint()),
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
  const topics = [ours, dlqName(ours), javaTopicOf(bus), rawTopicOf(bus)].filter((t) => existing.has(t));
  await admin.deleteTopics(topics);
  const p = bus.config.topicPrefix;
  await admin.deleteGroups([`${p}bench-consumer`, `${p}java-consumer`, `${p}kafkajs-consumer`]).catch(() => undefined);
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

interface Round {
  produce: { ours: number; java: number; raw: number };
  consume: { ours: ConsumeRate; java: ConsumeRate; raw: ConsumeRate };
  load: number;
}

async function runRound(round: number, events: ViewerHeartbeat[], recordSize: number): Promise<Round> {
  const bus = roundBus(round);
  const admin = bus.admin();
  const javaTopic = javaTopicOf(bus);
  const rawTopic = rawTopicOf(bus);
  const r: Round = {
    produce: { ours: 0, java: 0, raw: 0 },
    consume: { ours: NONE, java: NONE, raw: NONE },
    load: loadavg()[0]!,
  };
  try {
    await bus.init(['viewerHeartbeats']);
    // Topics shaped like the catalog's heartbeats topic, for the peers.
    if (JAVA) await admin.createTopic(javaTopic, spec);
    if (RAW) await admin.createTopic(rawTopic, spec);
    const prof = round === 1 ? profiled : <R>(_: string, fn: () => Promise<R>): Promise<R> => fn();
    const produce: Array<() => Promise<unknown>> = [
      async () => (r.produce.ours = await prof('produce', () => sampled(() => produceOurs(bus, events)))),
      async () => JAVA && (r.produce.java = await produceJava(javaTopic, N, recordSize)),
      async () => RAW && (r.produce.raw = await produceRaw(bus, rawTopic, events)),
    ];
    const consume: Array<() => Promise<unknown>> = [
      async () => (r.consume.ours = await prof('consume', () => sampled(() => consumeOurs(bus, N)))),
      async () => JAVA && (r.consume.java = await consumeJava(javaTopic, `${bus.config.topicPrefix}java-consumer`, N)),
      async () => RAW && (r.consume.raw = await consumeRaw(bus, rawTopic, N)),
    ];
    // Alternate the order, so no side always meets a warmer (or busier) broker.
    const reversed = round % 2 === 0;
    for (const step of reversed ? [...produce.reverse(), ...consume.reverse()] : [...produce, ...consume]) await step();
    say(
      `round ${round}/${ROUNDS} (load ${r.load.toFixed(1)}${reversed ? ', peers first' : ''}): ` +
        `produce ours ${fmt(r.produce.ours)} / java ${fmt(r.produce.java)} / kafkajs ${fmt(r.produce.raw)}; ` +
        `consume ours ${fmt(r.consume.ours.eps)} / java ${fmt(r.consume.java.eps)} / kafkajs ${fmt(r.consume.raw.eps)} events/s`,
    );
    return r;
  } finally {
    await cleanUp(admin, bus).catch((err: unknown) => say(`clean-up failed: ${(err as Error).message}`));
    await admin.close();
  }
}

/** The mean encoded size of the events (sampled), with a codec registered under a throwaway subject. */
async function meanEncodedSize(events: ViewerHeartbeat[]): Promise<number> {
  const sizing = roundBus(0);
  const admin = sizing.admin();
  try {
    await sizing.init(['viewerHeartbeats']);
    const sample = events.slice(0, 100_000);
    return (
      sizing
        .topic('viewerHeartbeats')
        .codec.encodeAll(sample)
        .reduce((sum, b) => sum + b.length, 0) / sample.length
    );
  } finally {
    await cleanUp(admin, sizing);
    await admin.close();
  }
}

async function main(): Promise<void> {
  say(`${fmt(N)} events x ${ROUNDS} rounds; publish batches of ${BATCH}, ${CONCURRENCY} in flight`);
  const events = buildEvents(N);
  const baselineRss = process.memoryUsage.rss();
  const meanSize = await meanEncodedSize(events);
  const recordSize = Math.round(meanSize);
  say(`mean encoded value ${meanSize.toFixed(1)} bytes (5-byte header included); Java records: ${recordSize} bytes`);

  const rounds: Round[] = [];
  for (let i = 1; i <= ROUNDS; i++) rounds.push(await runRound(i, events, recordSize));

  const med = (pick: (r: Round) => number): number => median(rounds.map(pick));
  const produce = {
    ours: med((r) => r.produce.ours),
    java: med((r) => r.produce.java),
    raw: med((r) => r.produce.raw),
  };
  const consume = {
    ours: med((r) => r.consume.ours.eps),
    java: med((r) => r.consume.java.eps),
    raw: med((r) => r.consume.raw.eps),
    oursJoin: med((r) => r.consume.ours.epsWithJoin),
    javaJoin: med((r) => r.consume.java.epsWithJoin),
  };
  const processPeak = (process.resourceUsage().maxRSS * 1024) / MiB;
  const produceRatio = ratio(produce.ours, produce.java);
  const consumeRatio = ratio(consume.ours, consume.java);
  say(
    `median produce: ours ${fmt(produce.ours)} / java ${fmt(produce.java)} = ${produceRatio ?? '-'} (kafkajs alone ${fmt(produce.raw)})`,
  );
  say(
    `median consume: ours ${fmt(consume.ours)} / java ${fmt(consume.java)} = ${consumeRatio ?? '-'} (kafkajs alone ${fmt(consume.raw)})`,
  );
  say(
    `RSS: ${fmt(baselineRss / MiB)} MiB with the events built, peak ${fmt(oursPeakRss / MiB)} MiB during our phases, ` +
      `${fmt(processPeak)} MiB for the whole process`,
  );
  if (args['no-write']) return;

  const target = `≥ ${fmt(TARGET_EPS)} events/s and ≥ ${TARGET_RATIO}× the Java client`;
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
  const extra: Metric[] = [
    {
      metric: 'consume (decode + no-op handler + commit)',
      value: Math.round(consume.ours),
      unit: 'events/s',
      peer: peer('ConsumerPerformance fetch.nMsg.sec', consume.java, JAVA),
      ratio: consumeRatio,
      target,
      meetsTarget: meets(consume.ours, consumeRatio),
      notes:
        `Median of ${ROUNDS}; both from partition assignment to the N-th record. ` +
        `Ours/Java per round: ${perRound((r) => [r.consume.ours.eps, r.consume.java.eps])}.`,
    },
    {
      metric: 'consume, group join included',
      value: Math.round(consume.oursJoin),
      unit: 'events/s',
      peer: peer('ConsumerPerformance nMsg.sec', consume.javaJoin, JAVA),
      ratio: ratio(consume.oursJoin, consume.javaJoin),
      target: 'report only',
      meetsTarget: null,
    },
    {
      metric: 'produce vs kafkajs alone',
      value: Math.round(produce.ours),
      unit: 'events/s',
      peer: peer('kafkajs send(), pre-encoded', produce.raw, RAW),
      ratio: ratio(produce.ours, produce.raw),
      target: 'report only',
      meetsTarget: null,
      notes:
        'The same records encoded beforehand and sent with the bus producer settings (idempotent, acks=all, same ' +
        `partitioner, batch ${BATCH} × ${CONCURRENCY}) but no bus code: the ceiling of the client library here. ` +
        `Ours/kafkajs per round: ${perRound((r) => [r.produce.ours, r.produce.raw])}.`,
    },
    {
      metric: 'consume vs kafkajs alone',
      value: Math.round(consume.ours),
      unit: 'events/s',
      peer: peer('kafkajs eachBatch, no decoding', consume.raw, RAW),
      ratio: ratio(consume.ours, consume.raw),
      target: 'report only',
      meetsTarget: null,
      notes:
        'A kafkajs consumer with the EventConsumer settings that only counts records and commits: the ceiling of the ' +
        `client library here. Ours/kafkajs per round: ${perRound((r) => [r.consume.ours.eps, r.consume.raw.eps])}.`,
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
        '(it includes the pre-encoded copies the kafkajs-alone comparison sends).',
    },
  ];
  const flags = `${JAVA ? '' : ' --no-java'}${RAW ? '' : ' --no-raw'}`;
  const command = `npm run bench -- event-bus --events ${N} --rounds ${ROUNDS} --batch ${BATCH} --concurrency ${CONCURRENCY}${flags}`;
  const file = writeResult('event-bus', {
    metric: 'produce (encode + publish, idempotent, acks=all)',
    value: Math.round(produce.ours),
    unit: 'events/s',
    peer: peer('ProducerPerformance records/sec', produce.java, JAVA),
    ratio: produceRatio,
    target,
    meetsTarget: meets(produce.ours, produceRatio),
    notes: [
      `Median of ${ROUNDS} rounds, each on fresh topics (${spec.partitions} partitions), alternating which side runs first.`,
      `Produce ours/Java per round: ${perRound((r) => [r.produce.ours, r.produce.java])};`,
      `1-minute load average at each round's start: ${rounds.map((r) => r.load.toFixed(1)).join(', ')} (the machine is shared).`,
      `Ours: EventProducer.publish of ${fmt(N)} ViewerHeartbeat events built in memory beforehand, ${BATCH} per call with`,
      `${CONCURRENCY} calls in flight, from the first send to the last ack, Avro encoding and partitioning included.`,
      'Java: ProducerPerformance with acks=all, enable.idempotence=true, its default batch.size and linger.ms, --throughput -1;',
      'ConsumerPerformance with its defaults. Both tools run from the broker jars (Kafka',
      `${KAFKA_VERSION}) with the JVM options of the kafka-*-perf-test.sh scripts.`,
    ].join(' '),
    command,
    extra,
  });
  say(`wrote ${file}`);
}

await main();
