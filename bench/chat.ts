import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { integer, listOption, parse, tool, usageError } from '../platform/cli.ts';
import { loadArchiverConfig } from '../sinks/chat-archiver/config.ts';
import type { ChatEvent } from '../schemas/generated/events.ts';
import { subjectOf } from '../schemas/topics.ts';
import cassandra from 'cassandra-driver';
import { Cassandra } from '../platform/cassandra.ts';
import { waitForGroupToReachEnd } from '../platform/kafka/groups.ts';
import { EventBus } from '../platform/kafka/bus.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { TimeUuidGenerator, timeOfTimeUuid } from '../platform/timeuuid.ts';
import { chatArchive } from '../sinks/chat-archiver/definition.ts';
import type { StoreWriter } from '../platform/store/definition.ts';
import { BUCKET_MS, bucketOf } from '../domain/chat/schema.ts';
import { dayOf } from '../domain/chat/schema.ts';
import { ensureChatSchema } from '../domain/chat/schema.ts';
import { endpoints } from '../tests/support/endpoints.ts';
import { ServiceProcess } from '../tests/support/process.ts';
import { streamEvents } from '../tests/support/stream-events.ts';
import { ratio, recordedExtra, replaceExtra, writeResult, type Metric } from './lib/results.ts';
import { WsLoadgen } from './lib/ws-loadgen.ts';
import { percentileOfCounts } from '../platform/stats.ts';
import { cpuSecondsOf } from './lib/profile.ts';

/**
 * Chat fan-out and archiving, against a Socket.IO server and a one-insert-per-message baseline,
 * in one run on this machine (everything on loopback, load generators on the same cores):
 *
 *   - ours: ONE real chat gateway process (gateways/chat/main.ts), C anonymous WebSocket readers
 *     over S streams (one hot stream with H of them), opened by L load-generator processes of
 *     bench/lib/ws-loadgen.c, a native epoll reader (first `ws`, then a lean Node reader, cost the
 *     load generators so much of the shared cores that latency measured the clients' queue).
 *     Chat messages are published straight onto the chat topic with the bus producer, as a gateway
 *     does once it accepts a sender's frame; the gateway consumes the topic and fans each out.
 *   - peer: a minimal Socket.IO 4 server (one child process, websocket transport only), the same
 *     readers joined to one room per stream, each message emitted to its room. Its input comes from
 *     this process over IPC, not Kafka. The same load generators speak the Engine.IO/Socket.IO
 *     wire protocol to it, so both sides cost them the same per frame.
 *   - latency: R messages/s in for T seconds (each rate of --rates, lowest first; the first is the
 *     headline), spread evenly over the streams; receive time minus the
 *     send time embedded in the content (one machine clock), over every frame owed (one never
 *     delivered counts as later than the 10 s histogram ceiling); also the server's CPU while
 *     sending and, for ours, its socket writes (live_chat_fanout_writes_total): the cost per write.
 *   - delivered rate: a burst of B messages as fast as they can be sent, spread evenly; frames
 *     received by all readers / (last frame received − first message sent).
 *   - memory: server RSS (/proc) after the readers opened minus before, per connection.
 *   - archiver: N ChatMessageSent events on a fresh topic, the real chat archiver (production batch
 *     settings) into a fresh keyspace, start to every offset committed (rows are written before the
 *     commit; counted afterwards); baseline: the same rows, one prepared INSERT each, P in flight.
 *
 *   The command line: `program`, below (npm run bench -- chat --help).
 *
 *   --only-archive runs the archiver phase alone and replaces only its metric in
 *   bench/results/chat.json (the socket phases' results stay as they were); --no-archive keeps
 *   the archiver metric already recorded there.
 */
const program = tool({
  name: 'bench chat',
  command: 'npm run bench -- chat',
  description:
    'The chat gateway against a Socket.IO peer: fan-out latency at each rate, the delivered rate of a ' +
    'burst, memory per connection; then the chat archiver into Cassandra against plain INSERTs.',
  examples: [
    'npm run bench -- chat --connections 10000 --streams 20 --hot 5000 --loadgens 2 --rates 1000,100 --seconds 10 --burst 6000 --no-archive',
    'npm run bench -- chat --only-archive --streams 20 --archive 500000',
  ],
})
  .option('--connections <C>', 'WebSocket readers', integer(1), 10000)
  .option('--streams <S>', 'streams they read, at least 2', integer(2), 20)
  .option('--hot <H>', 'readers of the one hot stream, at most --connections', integer(1), 5000)
  .option('--loadgens <L>', 'load-generator processes', integer(1), 2)
  .addOption(
    listOption('--rates <R1,R2>', 'messages/s in, each in turn, the first the headline', integer(1), [1000, 100]),
  )
  .option('--seconds <T>', 'seconds at each rate', integer(1), 10)
  .option('--burst <B>', 'messages in the delivered-rate burst', integer(1), 6000)
  .option('--archive <N>', 'events for the archiver phase', integer(1), 100000)
  .option('--no-peer', 'skip the Socket.IO peer')
  .option('--no-archive', 'skip the archiver phase (keeps its recorded metric)')
  .option('--only-archive', 'only the archiver phase (replaces only its metric in bench/results/chat.json)')
  .option('--no-write', 'do not record the result in bench/results');
const ROLE = process.env.BENCH_CHAT_ROLE;
const ORIGIN = 'http://bench.example';
const ARCHIVER_METRIC = 'archiver into Cassandra';
const HIST_BUCKETS = 100_001; // ws-loadgen.c's: 0.1 ms buckets up to 10 s, the last one for everything later
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface SioPublish {
  type: 'publish';
  messages: Array<{ stream: string; frame: Record<string, unknown> }>;
}

/** The peer: a minimal Socket.IO server, one room per stream, input over IPC. */
async function sioServerRole(): Promise<void> {
  const { Server } = await import('socket.io');
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'], serveClient: false, cors: { origin: ORIGIN } });
  io.on('connection', (socket) => void socket.join(String(socket.handshake.query.stream)));
  process.on('message', (m: SioPublish) => {
    for (const { stream, frame } of m.messages) io.to(stream).emit('message', frame);
  });
  http.listen(0, '127.0.0.1', () => {
    const addr = http.address();
    process.send!({ type: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 });
  });
}

if (ROLE === 'sio') await sioServerRole();
else await main();

// ---------------------------------------------------------------------------------------------
// The orchestrating process.

async function main(): Promise<void> {
  const { options: args } = parse(program);
  const C = args.connections;
  const S = args.streams;
  const H = args.hot;
  const L = args.loadgens;
  const RATES = args.rates;
  const RATE = RATES[0]!;
  const SECONDS = args.seconds;
  const BURST = args.burst;
  // --archive N and --no-archive are one option to commander: a count, or false.
  const ARCHIVE_N = args.archive === false ? 0 : args.archive;
  if (H > C) usageError(program, '--hot must be at most --connections');
  const PEER = args.peer;
  const ARCHIVE = args.archive !== false;
  const ONLY_ARCHIVE = args.onlyArchive ?? false;
  if (ONLY_ARCHIVE && !ARCHIVE) usageError(program, '--only-archive and --no-archive exclude each other');
  const e = endpoints();
  const runId = randomBytes(4).toString('hex');
  const prefix = `bench_chat_${runId}.`;
  const log = createLogger('bench', process.env.BENCH_LOG_LEVEL ?? 'error');
  const say = (msg: string): void => console.log(`[chat] ${new Date().toISOString().slice(11, 19)} ${msg}`);
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const loads: string[] = [];
  const noteLoad = (when: string): void => void loads.push(`${when} ${loadavg()[0]!.toFixed(1)}`);

  // Streams: stream 0 is hot; reader i watches stream 0 for i < H, else one of the others in turn.
  const streams = Array.from({ length: S }, (_, i) => `bench-${runId}-s${i}`);
  const streamOf = (i: number): number => (i < H ? 0 : 1 + ((i - H) % (S - 1)));
  const viewers = new Array<number>(S).fill(0);
  for (let i = 0; i < C; i++) viewers[streamOf(i)]!++;

  const bus = new EventBus(
    { brokers: e.kafkaBrokers, registryUrl: e.registryUrl, clientId: 'bench-chat', topicPrefix: prefix },
    new Metrics('bench', { defaults: false }),
    log,
  );
  // The archiver reads its own topic, so the fan-out phases' messages are not in it.
  const archBus = new EventBus(
    {
      brokers: e.kafkaBrokers,
      registryUrl: e.registryUrl,
      clientId: 'bench-chat-archiver',
      topicPrefix: `${prefix}arch.`,
    },
    new Metrics('bench', { defaults: false }),
    log,
  );
  const db = new Cassandra({
    CASSANDRA_CONTACT_POINTS: e.cassandraContactPoints,
    CASSANDRA_LOCAL_DC: 'datacenter1',
    CASSANDRA_REQUEST_TIMEOUT_MS: 20_000,
  });
  const ksGateway = `bench_chat_${runId}_gw`;
  const ksArchiver = `bench_chat_${runId}_arch`;
  const ksBaseline = `bench_chat_${runId}_base`;
  const ttlSeconds = 30 * 86_400;
  const children: ChildProcess[] = [];
  let gens: WsLoadgen[] = [];
  let gateway: ServiceProcess | undefined;
  let archiver: StoreWriter | undefined;
  const producer = bus.producer();

  const rssOf = (pid: number): number => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m?.[1] ?? 0) * 1024;
  };
  const forkRole = (role: string): ChildProcess => {
    const child = fork(import.meta.filename, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_CHAT_ROLE: role },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    return child;
  };
  const nextMessage = <T>(child: ChildProcess, type: string, deadlineMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', on);
        reject(new Error(`no "${type}" from a child in ${deadlineMs} ms`));
      }, deadlineMs);
      const on = (m: { type: string }): void => {
        if (m.type !== type) return;
        clearTimeout(timer);
        child.off('message', on);
        resolve(m as T);
      };
      child.on('message', on);
    });

  interface Side {
    name: string;
    pid: number;
    url: (stream: string) => string;
    sio: boolean;
    /** Sends one batch of marked messages (stream index, content). */
    send: (batch: Array<{ s: number; content: string }>) => Promise<void>;
    /** The server's Prometheus text, where it has any: its fan-out counters (socket writes, waits). */
    scrape?: () => Promise<string>;
  }
  interface LatencyResult {
    rate: number;
    sent: number;
    expected: number;
    received: number;
    p50: number;
    p99: number;
    max: number;
    drops: number;
    /** While messages were being sent: the server's CPU (its own, softirq apart) and writes. */
    cpuSeconds: number;
    seconds: number;
    writes: number | null;
    /** The server's own wait per group turn (oldest frame), from its histogram: bucket bounds, ms. */
    gatewayWait: { p50: number; p99: number } | null;
  }
  const CEILING_MS = (HIST_BUCKETS - 1) / 10;
  const ms = (v: number): string => (v >= CEILING_MS ? `≥ ${CEILING_MS} ms` : `${v} ms`);
  interface SideResult {
    connected: number;
    failed: number;
    firstError: string | null;
    connectSeconds: number;
    rssBefore: number;
    rssAfter: number;
    latency: LatencyResult[];
    burst: { sent: number; expected: number; received: number; seconds: number; rate: number; sendSeconds: number };
    drops: number;
  }

  /** A percentile of the frames owed, from ws-loadgen's 0.1 ms buckets; ms. */
  const owedPercentile = (hist: Map<number, number>, owed: number, p: number): number => {
    const byMs = [...hist].map(([i, n]) => [i / 10, n] as const);
    return Math.min(CEILING_MS, percentileOfCounts(byMs, p, owed));
  };

  const fanoutWrites = (text: string): number =>
    Number(/^live_chat_fanout_writes_total(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1]);
  /** The fan-out wait histogram: cumulative count per bucket bound (seconds). */
  const fanoutWaits = (text: string): Map<number, number> =>
    new Map(
      [...text.matchAll(/^live_chat_fanout_wait_seconds_bucket\{[^}]*\ble="([^"]+)"[^}]*\} (\S+)$/gm)].map((m) => [
        m[1] === '+Inf' ? Infinity : Number(m[1]),
        Number(m[2]),
      ]),
    );
  /** Percentiles of what a Prometheus histogram gained between two readings, as bucket upper bounds (ms). */
  const bucketPercentiles = (before: Map<number, number>, after: Map<number, number>) => {
    const bounds = [...after.keys()].sort((a, b) => a - b);
    const gained = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
    // Each bound's own bucket holds what its cumulative count adds to the bound below.
    const counts = bounds.map((le, k) => [le * 1000, gained[k]! - (gained[k - 1] ?? 0)] as const);
    const total = gained.at(-1) ?? 0;
    return total > 0 ? { p50: percentileOfCounts(counts, 50), p99: percentileOfCounts(counts, 99) } : null;
  };

  const counts = async (gens: WsLoadgen[]) => {
    const all = await Promise.all(gens.map((g) => g.count()));
    return {
      received: all.reduce((s, c) => s + c.received, 0),
      lastAt: Math.max(...all.map((c) => c.lastAt)),
      closed: all.reduce((s, c) => s + c.closed, 0),
    };
  };
  /** Until every expected frame arrived, or nothing new came for `quietMs`, or the deadline. */
  const drain = async (gens: WsLoadgen[], expected: number, quietMs: number, deadlineMs: number) => {
    const until = Date.now() + deadlineMs;
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      const c = await counts(gens);
      if (c.received >= expected) return c;
      if (c.received !== last) [last, lastChange] = [c.received, Date.now()];
      if (Date.now() - lastChange > quietMs || Date.now() > until) return c;
      await sleep(200);
    }
  };

  const runSide = async (side: Side, gens: WsLoadgen[]): Promise<SideResult> => {
    await Promise.all(gens.map((g) => g.reset('z')));
    await sleep(2000);
    const rssBefore = rssOf(side.pid);
    const urls = Array.from({ length: C }, (_, i) => side.url(streams[streamOf(i)]!));
    const t0 = Date.now();
    const conn = await Promise.all(
      gens.map((g, k) =>
        g.connect(
          urls.filter((_, i) => i % gens.length === k),
          { sio: side.sio, concurrency: 64, origin: ORIGIN },
          300_000,
        ),
      ),
    );
    const connectSeconds = (Date.now() - t0) / 1000;
    const connected = conn.reduce((s, c) => s + c.ok, 0);
    const failed = conn.reduce((s, c) => s + c.failed, 0);
    const firstError = conn.find((c) => c.firstError)?.firstError ?? null;
    say(
      `${side.name}: ${fmt(connected)} readers open in ${connectSeconds.toFixed(1)} s (${failed} failed${firstError ? `: ${firstError}` : ''})`,
    );
    await sleep(3000);
    const rssAfter = rssOf(side.pid);
    say(`${side.name}: RSS ${fmt(rssBefore / 2 ** 20)} -> ${fmt(rssAfter / 2 ** 20)} MiB`);
    noteLoad(`${side.name} connected`);
    // Only connected readers count towards what is expected.
    const live = new Array<number>(S).fill(0);
    if (connected === C) live.splice(0, S, ...viewers);
    else for (let i = 0; i < C; i++) live[streamOf(i)]! += connected / C; // approximation when some failed

    // Delivered rate: a burst of BURST messages, as fast as they can be sent.
    await Promise.all(gens.map((g) => g.reset('z')));
    let bExpected = 0;
    const bBatches: Array<Array<{ s: number; content: string }>> = [];
    for (let k = 0; k < BURST; k += 500) {
      bBatches.push(
        Array.from({ length: Math.min(500, BURST - k) }, (_, j) => {
          const s = (k + j) % S;
          bExpected += live[s]!;
          return { s, content: '' };
        }),
      );
    }
    const b0 = now();
    await Promise.all(
      bBatches.map((batch) => {
        for (const m of batch) m.content = `t=z:${now().toFixed(3)}`;
        return side.send(batch);
      }),
    );
    const sendSeconds = (now() - b0) / 1000;
    const afterBurst = await drain(gens, Math.floor(bExpected), 5000, 120_000);
    const burstSeconds = (afterBurst.lastAt - b0) / 1000;
    const burst = {
      sent: BURST,
      expected: Math.floor(bExpected),
      received: afterBurst.received,
      seconds: burstSeconds,
      rate: afterBurst.received / burstSeconds,
      sendSeconds,
    };
    say(
      `${side.name}: burst of ${fmt(BURST)} (sent in ${sendSeconds.toFixed(2)} s): ${fmt(burst.received)}/${fmt(bExpected)} frames ` +
        `in ${burstSeconds.toFixed(2)} s = ${fmt(burst.rate)} delivered/s (readers lost ${afterBurst.closed})`,
    );

    noteLoad(`${side.name} after burst`);

    // Latency: `rate` messages/s in for SECONDS, spread evenly over the streams, paced every 10 ms.
    const latencyPhase = async (rate: number, phase: string): Promise<LatencyResult> => {
      await Promise.all(gens.map((g) => g.reset(phase)));
      let sent = 0;
      let expected = 0;
      const inFlight = new Set<Promise<void>>();
      const before = await side.scrape?.();
      const cpu0 = cpuSecondsOf(side.pid);
      const tStart = performance.now();
      while (performance.now() - tStart < SECONDS * 1000) {
        const due = Math.floor(((performance.now() - tStart) / 1000) * rate) - sent;
        if (due > 0) {
          const batch = Array.from({ length: due }, () => {
            const s = sent++ % S;
            expected += live[s]!;
            return { s, content: `t=${phase}:${now().toFixed(3)}` };
          });
          const p = side.send(batch).finally(() => inFlight.delete(p));
          inFlight.add(p);
          if (inFlight.size > 50) await Promise.race(inFlight);
        }
        await sleep(10);
      }
      const seconds = (performance.now() - tStart) / 1000;
      const cpuSeconds = cpuSecondsOf(side.pid) - cpu0;
      const whenSent = await side.scrape?.();
      const writes = before && whenSent ? fanoutWrites(whenSent) - fanoutWrites(before) : null;
      await Promise.all(inFlight);
      const after = await drain(gens, Math.floor(expected), 5000, 60_000);
      const drained = await side.scrape?.();
      const gatewayWait = before && drained ? bucketPercentiles(fanoutWaits(before), fanoutWaits(drained)) : null;
      const stats = await Promise.all(gens.map((g) => g.stats()));
      const hist = new Map<number, number>();
      for (const st of stats) for (const [i, n] of st.hist) hist.set(i, (hist.get(i) ?? 0) + n);
      const received = stats.reduce((s, c) => s + c.received, 0);
      // Frames never delivered count as later than anything seen (percentiles over what was owed).
      const owed = Math.max(received, Math.floor(expected));
      const r: LatencyResult = {
        rate,
        sent,
        expected: Math.floor(expected),
        received,
        p50: owedPercentile(hist, owed, 50),
        p99: owedPercentile(hist, owed, 99),
        max: owedPercentile(hist, owed, 100),
        drops: after.closed,
        cpuSeconds,
        seconds,
        writes,
        gatewayWait,
      };
      say(
        `${side.name}: latency at ${fmt(rate)} msg/s in: ${fmt(received)}/${fmt(expected)} frames, ` +
          `p50 ${ms(r.p50)}, p99 ${ms(r.p99)}, max ${ms(r.max)} (readers lost since connect ${after.closed}); ` +
          `server CPU ${(cpuSeconds / seconds).toFixed(2)} cores` +
          (writes === null
            ? ''
            : `, ${fmt(writes / seconds)} socket writes/s, ${((cpuSeconds / writes) * 1e6).toFixed(1)} µs CPU per write`) +
          (gatewayWait
            ? `; wait in the gateway per group turn p50 ≤ ${gatewayWait.p50} ms, p99 ≤ ${gatewayWait.p99} ms`
            : ''),
      );
      noteLoad(`${side.name} after ${fmt(rate)} msg/s`);
      return r;
    };

    const latency: LatencyResult[] = [];
    // Lowest rate first: a backlog the higher rate leaves cannot then spill into another phase.
    for (const rate of [...RATES].sort((x, y) => x - y))
      latency.push(await latencyPhase(rate, String.fromCharCode(97 + RATES.indexOf(rate))));
    await Promise.all(gens.map((g) => g.closeAll()));
    return {
      connected,
      failed,
      firstError,
      connectSeconds,
      rssBefore,
      rssAfter,
      latency,
      burst,
      drops: Math.max(afterBurst.closed, ...latency.map((l) => l.drops)),
    };
  };

  const frameOf = (content: string) => ({
    type: 'message',
    message_id: randomUUID(),
    user: { user_id: 'user_bench', username: 'BENCH', badges: [] },
    content,
    color: null,
    timestamp: new Date().toISOString(),
  });

  const ids = new TimeUuidGenerator();
  const chatEvent = (streamId: string, content: string, userId = 'user_bench'): ChatEvent => {
    const at = Date.now();
    return {
      eventId: randomUUID(),
      occurredAt: at,
      streamId,
      payload: {
        type: 'ChatMessageSent',
        messageId: ids.next(at),
        userId,
        username: userId.toUpperCase(),
        badges: [],
        content,
        color: null,
      },
    };
  };

  let ours: SideResult | undefined;
  let peer: SideResult | undefined;
  type ArchiveResult = {
    seconds: number;
    rate: number;
    rows: number;
    joinSeconds: number;
    afterJoinRate: number;
    statsTotal: number;
  };
  let arch: ArchiveResult | undefined;
  let base: { seconds: number; rate: number; rows: number } | undefined;
  const BASE_CONCURRENCY = 64;
  const ac = loadArchiverConfig({});
  const archLoads: string[] = [];
  const noteArchLoad = (when: string): void => void archLoads.push(`${when} ${loadavg()[0]!.toFixed(1)}`);

  /** Archiver against one INSERT per message. */
  const runArchive = async (): Promise<void> => {
    const events = Array.from({ length: ARCHIVE_N }, (_, i) =>
      chatEvent(streams[i % S]!, `archived chat line ${i} with some typical length to it`, `user_${i % 997}`),
    );
    await archBus.init(['chatMessages']);
    const archTopic = archBus.topic('chatMessages');
    for (let k = 0; k < events.length; k += 2000) await producer.publish(archTopic, events.slice(k, k + 2000));
    say(`archiver: ${fmt(ARCHIVE_N)} events on the topic`);
    for (const ks of [ksArchiver, ksBaseline]) {
      await ensureChatSchema(db, ks, { replicationFactor: 1, localDc: 'datacenter1', ttlSeconds });
    }
    const groupId = `${prefix}chat-archiver`;
    noteArchLoad('archiver start');
    const a0 = now();
    // The first round committed marks the end of the group join.
    let firstRoundAt = 0;
    const store = chatArchive(loadArchiverConfig({ LIVE_TOPIC_PREFIX: prefix, CHAT_KEYSPACE: ksArchiver }), {
      bus: archBus,
      db,
    });
    archiver = store.writer(ksArchiver, { groupId, live: true });
    await archiver.start();
    await waitForGroupToReachEnd(archBus, groupId, [archTopic.name], {
      deadlineMs: 600_000,
      pollMs: 100,
      onProgress: (p) => void (p.done > 0 && (firstRoundAt ||= now())),
    });
    const a1 = now();
    await archiver.stop();
    archiver = undefined;
    const partitions = new Map<string, [string, number]>();
    for (const ev of events) {
      const p = ev.payload as { messageId: string };
      const b = bucketOf(timeOfTimeUuid(p.messageId));
      partitions.set(`${ev.streamId}/${b}`, [ev.streamId, b]);
    }
    const countRows = async (ks: string): Promise<number> => {
      let n = 0;
      for (const [s, b] of partitions.values()) {
        const r = await db.execute(
          'count',
          `SELECT COUNT(*) AS n FROM ${ks}.chat_messages WHERE stream_id = ? AND bucket = ?`,
          [s, b],
        );
        n += Number(r[0]?.n ?? 0);
      }
      return n;
    };
    // The per-minute stats must count every message once.
    const statsDays = new Map<string, [string, number]>();
    for (const [streamId, b] of partitions.values()) {
      const day = dayOf(b * BUCKET_MS);
      statsDays.set(`${streamId}/${day}`, [streamId, day]);
    }
    let statsTotal = 0;
    for (const [streamId, day] of statsDays.values()) {
      const rows = await db.scan(
        'stats',
        `SELECT messages FROM ${ksArchiver}.chat_stats_by_minute WHERE stream_id = ? AND day = ?`,
        [streamId, day],
      );
      statsTotal += rows.reduce((n, r) => n + Number(r.messages), 0);
    }
    const aSeconds = (a1 - a0) / 1000;
    arch = {
      seconds: aSeconds,
      rate: ARCHIVE_N / aSeconds,
      rows: await countRows(ksArchiver),
      joinSeconds: (firstRoundAt - a0) / 1000,
      afterJoinRate: ARCHIVE_N / ((a1 - firstRoundAt) / 1000),
      statsTotal,
    };
    say(
      `archiver: ${fmt(arch.rows)} rows in ${aSeconds.toFixed(2)} s = ${fmt(arch.rate)} msg/s ` +
        `(join ${arch.joinSeconds.toFixed(2)} s, then ${fmt(arch.afterJoinRate)} msg/s); stats count ${fmt(statsTotal)}`,
    );

    noteArchLoad('baseline start');
    const insert =
      `INSERT INTO ${ksBaseline}.chat_messages (stream_id, bucket, message_id, user_id, username, badges, content, color) ` +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?';
    let bSeconds: number;
    // cassandra-driver itself (the platform wrapper reads rows back), its own executeConcurrent helper.
    const client = new cassandra.Client({
      contactPoints: e.cassandraContactPoints,
      localDataCenter: 'datacenter1',
      socketOptions: { readTimeout: 20_000 },
    });
    await client.connect();
    try {
      const params = events.map((ev) => {
        const p = ev.payload as Extract<ChatEvent['payload'], { type: 'ChatMessageSent' }>;
        return [
          ev.streamId,
          bucketOf(timeOfTimeUuid(p.messageId)),
          p.messageId,
          p.userId,
          p.username,
          p.badges,
          p.content,
          p.color,
          ttlSeconds,
        ];
      });
      await client.execute(insert, params[0], { prepare: true }); // prepared before the clock starts
      const b0 = now();
      await cassandra.concurrent.executeConcurrent(client, insert, params, {
        concurrencyLevel: BASE_CONCURRENCY,
      });
      bSeconds = (now() - b0) / 1000;
    } finally {
      await client.shutdown();
    }
    base = { seconds: bSeconds, rate: ARCHIVE_N / bSeconds, rows: await countRows(ksBaseline) };
    say(`baseline: ${fmt(base.rows)} rows in ${bSeconds.toFixed(2)} s = ${fmt(base.rate)} msg/s`);
    noteArchLoad('baseline done');
  };

  const archiverMetric = (
    a: ArchiveResult,
    b: { seconds: number; rate: number; rows: number },
    command?: string,
  ): Metric => ({
    metric: ARCHIVER_METRIC,
    value: Math.round(a.rate),
    unit: 'msg/s',
    peer: { name: `one prepared INSERT per message, ${BASE_CONCURRENCY} in flight`, value: Math.round(b.rate) },
    ratio: ratio(a.rate, b.rate),
    target: '≥ 40,000 msg/s',
    meetsTarget: a.rate >= 40_000 && a.rows === ARCHIVE_N && a.statsTotal === ARCHIVE_N,
    notes:
      `${fmt(ARCHIVE_N)} ChatMessageSent events (${S} streams, ${fmt(ARCHIVE_N / S)} each, within a minute or two) already on a fresh topic; ` +
      `the real chat archiver (its store definition) with the production settings (rounds of ≤ ${fmt(ac.CHAT_ARCHIVER_MAX_RECORDS)} records from ` +
      `${ac.CHAT_ARCHIVER_PARTITIONS_AT_ONCE} partitions at once, unlogged single-partition batches of ≤ ${ac.CHAT_ARCHIVER_BATCH_ROWS} rows / ` +
      `${fmt(ac.CHAT_ARCHIVER_BATCH_BYTES / 1024)} KiB, ${ac.CHAT_ARCHIVER_CONCURRENCY} in flight per partition) into a fresh keyspace, ` +
      `from start (group join included) to every offset committed: ${fmt(a.rows)} rows, ${a.seconds.toFixed(2)} s, of which ` +
      `${a.joinSeconds.toFixed(2)} s before the first round (group join), then ${fmt(a.afterJoinRate)} msg/s. It also writes the ` +
      `bucket index and the per-minute stats (their message counts add up to ${fmt(a.statsTotal)}). Baseline: the same rows, ` +
      `one prepared INSERT each from memory (no Kafka), ${BASE_CONCURRENCY} in flight, into another fresh keyspace: ${fmt(b.rows)} rows, ` +
      `${b.seconds.toFixed(2)} s. 1-minute load average: ${archLoads.join(', ')}.` +
      (command ? ` Measured ${new Date().toISOString()} apart from the socket phases: ${command}.` : ''),
  });

  try {
    say(`${fmt(C)} readers over ${S} streams (hot: ${fmt(H)}), ${L} load generators; run ${runId}`);
    noteLoad('start');
    await bus.init(['streamLifecycle', 'chatMessages']);
    await producer.connect();
    await producer.publish(
      bus.topic('streamLifecycle'),
      streams.map((id) => streamEvents.created(id, { streamerId: 'owner' })),
    );
    await db.connect();
    await ensureChatSchema(db, ksGateway, { replicationFactor: 1, localDc: 'datacenter1', ttlSeconds });
    if (ONLY_ARCHIVE) {
      await runArchive();
      const command = `npm run bench -- chat --only-archive --streams ${S} --archive ${ARCHIVE_N}`;
      if (args.write && arch && base) say(`wrote ${replaceExtra('chat', archiverMetric(arch, base, command))}`);
      return;
    }

    gens = await Promise.all(Array.from({ length: L }, () => WsLoadgen.start()));

    // Ours.
    gateway = new ServiceProcess('chat-gateway', 'gateways/chat/main.ts', {
      KAFKA_BROKERS: e.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: e.registryUrl,
      CASSANDRA_CONTACT_POINTS: e.cassandraContactPoints.join(','),
      LIVE_TOPIC_PREFIX: prefix,
      CHAT_KEYSPACE: ksGateway,
      CHAT_PORT: '0',
      METRICS_PORT: '0',
      API_JWT_SECRET: randomBytes(32).toString('hex'),
      CHAT_ALLOWED_ORIGINS: ORIGIN,
      // Every reader comes from this machine's address.
      CHAT_MAX_CONNECTIONS_PER_ADDRESS: String(C),
      LOG_LEVEL: 'info',
    });
    const listening = await gateway.waitForLog('listening', (l) => l.msg === 'chat gateway listening', 120_000);
    const port = listening.port as number;
    const metricsPort = (await gateway.waitForLog('metrics', (l) => l.msg === 'metrics listening')).port as number;
    const chatTopic = bus.topic('chatMessages');
    ours = await runSide(
      {
        name: 'gateway',
        pid: gateway.pid,
        sio: false,
        url: (s) => `ws://127.0.0.1:${port}/streams/${s}/chat`,
        send: (batch) =>
          producer.publish(
            chatTopic,
            batch.map((m) => chatEvent(streams[m.s]!, m.content)),
          ),
        scrape: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
      },
      gens,
    );
    await gateway.kill('SIGTERM');
    gateway = undefined;

    // Peer.
    if (PEER) {
      const sio = forkRole('sio');
      const { port: sioPort } = await nextMessage<{ port: number }>(sio, 'listening', 60_000);
      peer = await runSide(
        {
          name: 'socket.io',
          pid: sio.pid!,
          sio: true,
          url: (s) => `ws://127.0.0.1:${sioPort}/socket.io/?EIO=4&transport=websocket&stream=${encodeURIComponent(s)}`,
          send: async (batch) =>
            void sio.send({
              type: 'publish',
              messages: batch.map((m) => ({ stream: streams[m.s]!, frame: frameOf(m.content) })),
            } satisfies SioPublish),
        },
        gens,
      );
      sio.kill('SIGKILL');
    }

    if (ARCHIVE) await runArchive();
  } finally {
    say('cleaning up');
    await archiver?.stop().catch(() => undefined);
    await gateway?.kill('SIGKILL');
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const g of gens) g.stop();
    await producer.disconnect().catch(() => undefined);
    const admin = bus.admin();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    await admin.deleteTopics(topics).catch(() => undefined);
    const groups = (await admin.listGroups()).filter((g) => g.startsWith(prefix));
    await admin.deleteGroups(groups).catch(() => undefined);
    await admin.close();
    for (const t of topics) {
      const subject = `${e.registryUrl}/subjects/${encodeURIComponent(subjectOf(t))}`;
      for (const q of ['', '?permanent=true'])
        await fetch(`${subject}${q}`, { method: 'DELETE' }).catch(() => undefined);
    }
    for (const ks of [ksGateway, ksArchiver, ksBaseline])
      await db.ddl(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => undefined);
    await db.shutdown();
    say(`deleted ${topics.length} topics, ${groups.length} groups, 3 keyspaces`);
  }

  if (!args.write || !ours) return;
  const perConn = (r: SideResult): number => (r.rssAfter - r.rssBefore) / Math.max(1, r.connected);
  const fanoutNote = (r: SideResult): string =>
    `${fmt(r.connected)}/${fmt(C)} readers open in ${r.connectSeconds.toFixed(1)} s; burst ${fmt(r.burst.received)}/${fmt(r.burst.expected)} frames ` +
    `(${fmt(r.burst.sent)} messages sent in ${r.burst.sendSeconds.toFixed(2)} s) over ${r.burst.seconds.toFixed(2)} s; ` +
    `readers dropped: ${r.drops}`;
  const deliveredRatio = peer ? ratio(ours.burst.rate, peer.burst.rate) : null;
  const latencyMetrics = (rate: number): Metric[] => {
    const o = ours.latency.find((l) => l.rate === rate)!;
    const p = peer?.latency.find((l) => l.rate === rate);
    const pair = (name: string, v: number, target: string, meets: boolean, notes?: string): Metric => ({
      metric: `send-to-receive latency ${name} at ${fmt(rate)} msg/s in`,
      value: v,
      unit: 'ms',
      peer: p ? { name: 'Socket.IO, no Kafka', value: name === 'p50' ? p.p50 : p.p99 } : null,
      ratio: p ? ratio(v, name === 'p50' ? p.p50 : p.p99) : null,
      target,
      meetsTarget: meets,
      ...(notes && { notes }),
    });
    const side = (n: string, l: LatencyResult): string =>
      `${n}: ${fmt(l.received)}/${fmt(l.expected)} frames delivered within 60 s of the last send, max ${ms(l.max)}, ` +
      `server CPU ${(l.cpuSeconds / l.seconds).toFixed(2)} cores while sending` +
      (l.writes === null
        ? ''
        : ` for ${fmt(l.writes / l.seconds)} socket writes/s (${((l.cpuSeconds / l.writes) * 1e6).toFixed(1)} µs of the ` +
          `process's CPU each, softirq apart; ${((rate * C) / S / (l.writes / l.seconds)).toFixed(1)} frames per write)`) +
      (l.gatewayWait
        ? `; the oldest frame of each group turn had waited in the gateway p50 ≤ ${l.gatewayWait.p50} ms, ` +
          `p99 ≤ ${l.gatewayWait.p99} ms (live_chat_fanout_wait_seconds buckets, from the last sends' drain included)`
        : '');
    return [
      pair(
        'p50',
        o.p50,
        'report only',
        true,
        `${fmt(rate)} messages/s for ${SECONDS} s, spread evenly over the ${S} streams, so ${fmt((rate * C) / S)} frames/s owed ` +
          'to the readers. Percentiles over every frame owed; a frame never delivered counts as later than the ' +
          `${CEILING_MS} ms histogram ceiling (a value of ${CEILING_MS} means "at least"). Ours: producer -> Kafka -> gateway ` +
          `consumer -> sockets; the peer: IPC -> room emit. ${side('Ours', o)}${p ? `; ${side('Socket.IO', p)}` : ''}.`,
      ),
      pair(
        'p99',
        o.p99,
        rate === RATE ? '< 100 ms (seed: chat delivery under 100 ms)' : 'report only',
        rate !== RATE || (o.p99 < 100 && o.received >= o.expected),
      ),
    ];
  };
  const extra: Metric[] = [
    ...RATES.flatMap(latencyMetrics),
    {
      metric: 'server memory per idle connection',
      value: Math.round(perConn(ours)),
      unit: 'bytes',
      peer: peer ? { name: 'Socket.IO', value: Math.round(perConn(peer)) } : null,
      ratio: peer ? ratio(perConn(ours), perConn(peer)) : null,
      target: '< 20 KB',
      meetsTarget: perConn(ours) < 20_000,
      notes:
        `Server process RSS (/proc VmRSS) 3 s after the readers opened minus before, / readers (kernel socket buffers not included). ` +
        `Gateway ${fmt(ours.rssBefore / 2 ** 20)} -> ${fmt(ours.rssAfter / 2 ** 20)} MiB` +
        (peer ? `; Socket.IO ${fmt(peer.rssBefore / 2 ** 20)} -> ${fmt(peer.rssAfter / 2 ** 20)} MiB.` : '.'),
    },
  ];
  if (arch && base) extra.push(archiverMetric(arch, base));
  else {
    // --no-archive: the archiver's figure recorded by an earlier run stays, with its own date and command.
    const recorded = recordedExtra('chat', ARCHIVER_METRIC);
    if (recorded) extra.push(recorded);
  }
  const command =
    `npm run bench -- chat --connections ${C} --streams ${S} --hot ${H} --loadgens ${L} --rates ${RATES.join(',')} --seconds ${SECONDS} ` +
    `--burst ${BURST}${ARCHIVE ? ` --archive ${ARCHIVE_N}` : ' --no-archive'}${PEER ? '' : ' --no-peer'}`;
  const file = writeResult('chat', {
    metric: 'delivered chat frames/s, one gateway process',
    value: Math.round(ours.burst.rate),
    unit: 'frames/s',
    peer: peer ? { name: 'Socket.IO 4 server, same rooms, no Kafka', value: Math.round(peer.burst.rate) } : null,
    ratio: deliveredRatio,
    target: '≥ 300,000/s and ≥ 5× Socket.IO',
    meetsTarget: ours.burst.rate >= 300_000 && deliveredRatio !== null && deliveredRatio >= 5,
    notes: [
      `One gateway process (gateways/chat/main.ts, default settings) and, after it, one Socket.IO server process, each with`,
      `${fmt(C)} anonymous WebSocket readers over ${S} streams (${fmt(H)} on the hot one, ${fmt(viewers[1]!)} or so on each other), opened`,
      `by ${L} load-generator processes (bench/lib/ws-loadgen.c, a native epoll RFC 6455 reader) on the same ${cpus().length} cores as the server, Kafka, the registry and Cassandra.`,
      `Delivered rate: a burst of ${fmt(BURST)} messages spread evenly over the streams, published as fast as possible (ours: straight`,
      'onto the chat topic with the bus producer, as the gateway publishes an accepted frame; Socket.IO: over IPC to the server,',
      'which emits to the room), frames received by all readers / (last frame received − first message sent).',
      `Ours: ${fanoutNote(ours)}.${peer ? ` Socket.IO: ${fanoutNote(peer)}.` : ''}`,
      `1-minute load average: ${loads.join(', ')} (the machine is shared).`,
    ].join(' '),
    command,
    extra,
  });
  say(`wrote ${file}`);
}
