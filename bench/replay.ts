import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { cliArgs, type Tool } from '../platform/cli.ts';
import type { ChatEvent } from '../schemas/generated/events.ts';
import { Cassandra } from '../platform/cassandra.ts';
import { waitForGroupToReachEnd } from '../platform/kafka/groups.ts';
import { EventBus } from '../platform/kafka/bus.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { chatEvents } from '../tests/support/chat-events.ts';
import { endpoints } from '../tests/support/endpoints.ts';
import { ratio, writeResult } from './lib/results.ts';
import { REPO_ROOT } from '../platform/paths.ts';

/**
 * Replay: `npm run replay -- chat --into <keyspace>` as an operator runs it (a child process: the
 * whole tool, start-up and progress reporting included) over N chat events, against the rate at
 * which the same machine merely reads and decodes those N events from Kafka (the platform's
 * consumer runner with a handler that does nothing): how close a rebuild gets to reading the log.
 *
 *   The command line: TOOL.usage, below.
 */
const TOOL: Tool = {
  name: 'bench replay',
  usage: `usage: npm run bench -- replay [--events N] [--streams S]

  --events N    chat events to rebuild from (default 1000000)
  --streams S   streams they belong to (default 200)
  -h, --help    this text`,
};
const { values: args } = cliArgs(TOOL, {
  options: {
    events: { type: 'string', default: '1000000' },
    streams: { type: 'string', default: '200' },
  },
});
const N = Number(args.events);
const STREAMS = Number(args.streams);
if (![N, STREAMS].every((n) => Number.isInteger(n) && n > 0)) throw new Error('--events and --streams are positive');

const ROOT = REPO_ROOT;
const e = endpoints();
const runId = randomBytes(4).toString('hex');
const PREFIX = `bench_replay_${runId}.`;
const KEYSPACE = `bench_replay_${runId}`;
const say = (m: string): void => console.log(`[bench replay] ${m}`);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function bus(clientId: string): EventBus {
  return new EventBus(
    { brokers: e.kafkaBrokers, registryUrl: e.registryUrl, clientId, topicPrefix: PREFIX },
    new Metrics(clientId, { defaults: false }),
    createLogger(clientId, 'warn'),
  );
}

/** Power-law traffic over the streams, timestamps spread over the last hour. */
function* events(): Generator<ChatEvent[]> {
  const start = Date.now() - 3_600_000;
  const chunk = 10_000;
  for (let i = 0; i < N; i += chunk) {
    const out: ChatEvent[] = [];
    for (let j = i; j < Math.min(N, i + chunk); j++) {
      const s = Math.floor(STREAMS * Math.random() ** 3);
      out.push(
        chatEvents.sent(`stream_${s}`, {
          userId: `user_${Math.floor(Math.random() * 50_000)}`,
          content: `message ${j} with a little text in it`,
          at: start + Math.floor((j / N) * 3_500_000),
        }),
      );
    }
    yield out;
  }
}

async function readOnly(b: EventBus): Promise<number> {
  const groupId = `${PREFIX}read-only`;
  const consumer = b.consumer({ groupId, from: 'earliest', maxBatch: 5000 }).on(b.topic('chatMessages'), async () => {
    // Decoded and handed over, nothing else: the floor any rebuild pays.
  });
  const t0 = performance.now();
  await consumer.start();
  await waitForGroupToReachEnd(b, groupId, [b.topicName('chatMessages')], { deadlineMs: 30 * 60_000, pollMs: 50 });
  const seconds = (performance.now() - t0) / 1000;
  await consumer.stop();
  return seconds;
}

async function replayTool(): Promise<{ seconds: number; output: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'tools/replay/cli.ts', 'chat', '--into', KEYSPACE], {
    cwd: ROOT,
    env: {
      ...process.env,
      KAFKA_BROKERS: e.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: e.registryUrl,
      CASSANDRA_CONTACT_POINTS: e.cassandraContactPoints.join(','),
      LIVE_TOPIC_PREFIX: PREFIX,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    process.stdout.write(d);
  });
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`replay exited with ${code}:\n${output}`);
  return { seconds: (performance.now() - t0) / 1000, output };
}

async function main(): Promise<void> {
  const b = bus('bench-replay');
  await b.init(['chatMessages']);
  const db = new Cassandra({
    CASSANDRA_CONTACT_POINTS: e.cassandraContactPoints,
    CASSANDRA_LOCAL_DC: 'datacenter1',
    CASSANDRA_REQUEST_TIMEOUT_MS: 60_000,
  });
  try {
    const producer = b.producer();
    await producer.connect();
    const t0 = performance.now();
    for (const chunk of events()) await producer.publish(b.topic('chatMessages'), chunk);
    await producer.disconnect();
    say(`published ${fmt(N)} chat events over ${STREAMS} streams in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const load0 = loadavg()[0]!;
    const readSeconds = await readOnly(b);
    say(`read-only: ${fmt(N / readSeconds)} events/s (${readSeconds.toFixed(1)} s)`);
    const ours = await replayTool();
    const load1 = loadavg()[0]!;
    const rate = N / ours.seconds;
    say(`replay chat: ${fmt(rate)} events/s (${ours.seconds.toFixed(1)} s, start-up included)`);

    await db.connect();
    const buckets = await db.scan('buckets', `SELECT stream_id FROM ${KEYSPACE}.chat_buckets`);
    const peer = N / readSeconds;
    const r = ratio(rate, peer);
    writeResult('replay', {
      metric: `rebuild the chat archive from ${fmt(N)} events (npm run replay -- chat)`,
      value: Math.round(rate),
      unit: 'events/s',
      peer: {
        name: 'reading and decoding the same events only (consumer runner, no-op handler)',
        value: Math.round(peer),
      },
      ratio: r,
      target: 'none set by the issue: measured and recorded',
      meetsTarget: null,
      notes: [
        `${fmt(N)} ChatMessageSent events on a 12-partition topic under a random prefix, ${STREAMS} streams with a`,
        'power-law share of traffic, 50,000 users, event times over the last hour.',
        'Ours: the replay command as a child process (`npm run replay -- chat --into <keyspace>`), wall time from spawn',
        'to exit: schema creation, a fresh consumer group from the beginning, the archiver planner and writer',
        '(unlogged single-partition batches, per-minute stats), until the group committed the end offsets.',
        `Peer: a fresh group of the platform's consumer runner with a no-op handler over the same records, run first.`,
        `Check: the rebuilt keyspace holds ${new Set(buckets.map((r) => String(r.stream_id))).size} streams' buckets.`,
        `1-minute load average before/after: ${load0.toFixed(2)} / ${load1.toFixed(2)} (shared 2-core machine).`,
      ].join(' '),
      command: `npm run bench -- replay --events ${N} --streams ${STREAMS}`,
    });
  } finally {
    await db.ddl(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`).catch(() => undefined);
    await db.shutdown().catch(() => undefined);
    const admin = b.admin();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(PREFIX));
    await admin.deleteTopics(topics).catch(() => undefined);
    const groups = (await admin.listGroups()).filter((g) => g.startsWith(PREFIX));
    await admin.deleteGroups(groups).catch(() => undefined);
    await admin.close();
  }
}

await main();
