import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { integer, parse, tool } from '../platform/cli.ts';
import type { ChatEvent, FollowEvent } from '../schemas/generated/events.ts';
import { Cassandra } from '../platform/cassandra.ts';
import { waitForGroupToReachEnd } from '../platform/kafka/groups.ts';
import { EventBus } from '../platform/kafka/bus.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { chatEvents } from '../tests/support/chat-events.ts';
import { endpoints } from '../tests/support/endpoints.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';
import { BUCKET_MS } from '../domain/chat/schema.ts';
import { dayOf } from '../domain/chat/schema.ts';
import { REPO_ROOT } from '../platform/paths.ts';

/**
 * Replay: `npm run replay -- chat --into <keyspace>` as an operator runs it (a child process: the
 * whole tool, start-up and progress reporting included) over N chat events, against the rate at
 * which the same machine merely reads and decodes those N events from Kafka (the platform's
 * consumer runner with a handler that does nothing): how close a rebuild gets to reading the log.
 * The same for the follower graph (`replay -- follows`) over F follow events, and the ETA the
 * chat rebuild's progress lines showed a quarter of the way in against the time it then took.
 *
 *   The command line: `program`, below (npm run bench -- replay --help).
 */
const program = tool({
  name: 'bench replay',
  command: 'npm run bench -- replay',
  description:
    'npm run replay -- chat and -- follows as an operator runs them, against reading and decoding the ' +
    'same events only; and the ETA its progress shows against the time it took.',
  examples: ['npm run bench -- replay --events 1000000 --streams 200 --follows 300000'],
})
  .option('--events <N>', 'chat events to rebuild from', integer(1), 1000000)
  .option('--streams <S>', 'streams they belong to', integer(1), 200)
  .option('--follows <F>', 'follow events to rebuild the follower graph from (0: skip)', integer(0), 300000);
const { options: args } = parse(program);
const N = args.events;
const STREAMS = args.streams;
const FOLLOWS = args.follows;

const ROOT = REPO_ROOT;
const e = endpoints();
const runId = randomBytes(4).toString('hex');
const PREFIX = `bench_replay_${runId}.`;
const KEYSPACE = `bench_replay_${runId}`;
const FOLLOWS_KEYSPACE = `bench_replay_${runId}_follows`;
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

/** Follows and unfollows (one in ten) of 1,000 streamers with a power-law share, by 100,000 users. */
function* followEvents(): Generator<FollowEvent[]> {
  const start = Date.now() - 3_600_000;
  for (let i = 0; i < FOLLOWS; i += 10_000) {
    const out: FollowEvent[] = [];
    for (let j = i; j < Math.min(FOLLOWS, i + 10_000); j++) {
      const followerId = `user_${Math.floor(Math.random() * 100_000)}`;
      out.push({
        eventId: randomUUID(),
        occurredAt: start + Math.floor((j / FOLLOWS) * 3_500_000),
        streamerId: `streamer_${Math.floor(1000 * Math.random() ** 3)}`,
        payload: Math.random() < 0.1 ? { type: 'Unfollowed', followerId } : { type: 'Followed', followerId },
      });
    }
    yield out;
  }
}

async function readOnly(b: EventBus, key: 'chatMessages' | 'userFollows'): Promise<number> {
  const groupId = `${PREFIX}read-only-${key}`;
  const consumer = b.consumer({ groupId, from: 'earliest', maxBatch: 5000 }).on(b.topic(key), async () => {
    // Decoded and handed over, nothing else: the floor any rebuild pays.
  });
  const t0 = performance.now();
  await consumer.start();
  await waitForGroupToReachEnd(b, groupId, [b.topicName(key)], { deadlineMs: 30 * 60_000, pollMs: 50 });
  const seconds = (performance.now() - t0) / 1000;
  await consumer.stop();
  return seconds;
}

/** A progress line of the replay command, and when (ms since spawn) it came. */
interface Shown {
  at: number;
  pct: number;
  etaSeconds: number | undefined;
}

async function replayTool(store: string, into: string): Promise<{ seconds: number; output: string; shown: Shown[] }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'tools/replay/cli.ts', store, '--into', into], {
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
  const shown: Shown[] = [];
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    const at = performance.now() - t0;
    output += d.toString();
    process.stdout.write(d);
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      // progress.ts: "replay chat: 250,000/1,000,000 events (25%), 52,000 ev/s, ETA 15 s"
      const m = /events \((\d+)%\), [\d,]+ ev\/s, ETA (\d+ s|\?)/.exec(line);
      if (m) shown.push({ at, pct: Number(m[1]), etaSeconds: m[2] === '?' ? undefined : parseInt(m[2]!, 10) });
    }
  });
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`replay exited with ${code}:\n${output}`);
  return { seconds: (performance.now() - t0) / 1000, output, shown };
}

/**
 * The ETA the command showed on its first progress line a quarter of the way or more (that shows
 * one: the first line after the start-up has no pace yet), against the time it then took to show
 * every event done.
 */
function etaCheck(shown: Shown[]): Metric | undefined {
  const quarter = shown.find((s) => s.pct >= 25 && s.pct < 100 && s.etaSeconds !== undefined);
  const end = shown.find((s) => s.pct >= 100);
  if (!quarter || !end) {
    say('no progress line with an ETA between 25% and 100%: the ETA is not checked');
    return undefined;
  }
  const actual = (end.at - quarter.at) / 1000;
  const shownEta = quarter.etaSeconds!;
  say(`ETA shown at ${quarter.pct}%: ${shownEta} s; it took ${actual.toFixed(1)} s`);
  const r = ratio(shownEta, actual);
  return {
    metric: `replay progress: the ETA shown ${quarter.pct}% of the way through`,
    value: shownEta,
    unit: 's',
    peer: { name: 'the time it then took until every event was done', value: Math.round(actual * 10) / 10 },
    ratio: r,
    target: 'within 20% of the actual remaining time (issue #23)',
    meetsTarget: r !== null && Math.abs(r - 1) <= 0.2,
    notes:
      'From the progress lines the replay command prints off a terminal (platform/store/progress.ts: every 5 s and ' +
      'at each quarter of the way), each timed as it reached the benchmark; the ETA is shown to the nearest second.',
  };
}

/** The follower graph's rebuild against reading and decoding the same follow events, measured alike. */
async function followsRow(b: EventBus): Promise<Metric> {
  await b.init(['userFollows']);
  const producer = b.producer();
  await producer.connect();
  for (const chunk of followEvents()) await producer.publish(b.topic('userFollows'), chunk);
  await producer.disconnect();
  const readSeconds = await readOnly(b, 'userFollows');
  const peer = FOLLOWS / readSeconds;
  say(`follows read-only: ${fmt(peer)} events/s (${readSeconds.toFixed(1)} s)`);
  const ours = await replayTool('follows', FOLLOWS_KEYSPACE);
  const rate = FOLLOWS / ours.seconds;
  say(`replay follows: ${fmt(rate)} events/s (${ours.seconds.toFixed(1)} s, start-up included)`);
  const r = ratio(rate, peer);
  return {
    metric: `rebuild the follower graph from ${fmt(FOLLOWS)} events (npm run replay -- follows)`,
    value: Math.round(rate),
    unit: 'events/s',
    peer: { name: 'reading and decoding the same events only', value: Math.round(peer) },
    ratio: r,
    target: '≥ 0.5× reading and decoding the same events (issue #23)',
    meetsTarget: (r ?? 0) >= 0.5,
    notes:
      `${fmt(FOLLOWS)} Followed (9 in 10) and Unfollowed events on live.user.follows under the same prefix, 1,000 ` +
      'streamers with a power-law share, 100,000 users; measured like the chat row, after it.',
  };
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
    const readSeconds = await readOnly(b, 'chatMessages');
    say(`read-only: ${fmt(N / readSeconds)} events/s (${readSeconds.toFixed(1)} s)`);
    const ours = await replayTool('chat', KEYSPACE);
    const load1 = loadavg()[0]!;
    const rate = N / ours.seconds;
    say(`replay chat: ${fmt(rate)} events/s (${ours.seconds.toFixed(1)} s, start-up included)`);

    await db.connect();
    const buckets = await db.scan('buckets', `SELECT stream_id, bucket FROM ${KEYSPACE}.chat_buckets`);
    // Every message counted once in the per-minute stats: the rebuild applied every event.
    const days = new Set(buckets.map((r) => `${String(r.stream_id)}\u0000${dayOf(Number(r.bucket) * BUCKET_MS)}`));
    let counted = 0;
    for (const k of days) {
      const [streamId, day] = k.split('\u0000');
      const rows = await db.scan(
        'stats',
        `SELECT messages FROM ${KEYSPACE}.chat_stats_by_minute WHERE stream_id = ? AND day = ?`,
        [streamId, Number(day)],
      );
      counted += rows.reduce((n, r) => n + Number(r.messages), 0);
    }
    say(`the rebuilt per-minute stats count ${fmt(counted)} messages`);
    const peer = N / readSeconds;
    const r = ratio(rate, peer);
    const eta = etaCheck(ours.shown);
    const follows = FOLLOWS ? await followsRow(b) : undefined;
    writeResult('replay', {
      metric: `rebuild the chat archive from ${fmt(N)} events (npm run replay -- chat)`,
      value: Math.round(rate),
      unit: 'events/s',
      peer: {
        name: 'reading and decoding the same events only (consumer runner, no-op handler)',
        value: Math.round(peer),
      },
      ratio: r,
      target: '≥ 50,000 events/s and ≥ 0.5× reading and decoding the same events (issue #23)',
      meetsTarget: rate >= 50_000 && (r ?? 0) >= 0.5 && counted === N,
      extra: [...(eta ? [eta] : []), ...(follows ? [follows] : [])],
      notes: [
        `${fmt(N)} ChatMessageSent events on a 12-partition topic under a random prefix, ${STREAMS} streams with a`,
        'power-law share of traffic, 50,000 users, event times over the last hour.',
        'Ours: the replay command as a child process (`npm run replay -- chat --into <keyspace>`), wall time from spawn',
        'to exit: schema creation, a fresh consumer group from the beginning, the archiver planner and writer',
        '(unlogged single-partition batches, per-minute stats), until the group committed the end offsets.',
        `Peer: a fresh group of the platform's consumer runner with a no-op handler over the same records, run first.`,
        `Check: the rebuilt keyspace holds ${new Set(buckets.map((r) => String(r.stream_id))).size} streams' buckets, and its`,
        `per-minute stats count ${fmt(counted)} messages (met only if every one of the ${fmt(N)}).`,
        `1-minute load average before/after: ${load0.toFixed(2)} / ${load1.toFixed(2)} (shared 2-core machine).`,
      ].join(' '),
      command: `npm run bench -- replay --events ${N} --streams ${STREAMS} --follows ${FOLLOWS}`,
    });
  } finally {
    await db.ddl(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`).catch(() => undefined);
    await db.ddl(`DROP KEYSPACE IF EXISTS ${FOLLOWS_KEYSPACE}`).catch(() => undefined);
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
