import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { decimal, envOption, integer, parse, tool } from '../platform/cli.ts';
import { profiled } from './lib/profile.ts';
import type { StreamLifecycleEvent, ViewerCountChanged } from '../schemas/generated/events.ts';
import { parseSearchQuery } from '../gateways/api/protocol.ts';
import { createElasticsearch, type Elasticsearch } from '../platform/elasticsearch/client.ts';
import { EventBus } from '../platform/kafka/bus.ts';
import { createLogger } from '../platform/logger.ts';
import type { TopicHandle } from '../platform/kafka/producer.ts';
import { Metrics } from '../platform/metrics.ts';
import { median, percentile } from '../platform/stats.ts';
import { type StreamDocument } from '../domain/discovery/document.ts';
import {
  DiscoveryIndexer,
  MAX_CHUNK,
  PARTITIONS_AT_ONCE,
  ROUNDS_IN_FLIGHT,
  WRITTEN_DOCUMENTS,
} from '../processors/discovery-indexer/indexer.ts';
import { project, type IndexedChange } from '../processors/discovery-indexer/project.ts';
import { discoveryIndex } from '../domain/discovery/index-definition.ts';
import { searchBody } from '../domain/discovery/query.ts';
import { deleteIndices, ensureAliasedIndex, indicesOf } from '../platform/elasticsearch/indices.ts';
import { endpoints } from '../tests/support/endpoints.ts';
import { freePort } from '../tests/support/ports.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';
import { REPO_ROOT } from '../platform/paths.ts';

/**
 * Discovery: indexing through the topics and the indexer against a direct `_bulk` load of the same
 * documents, then search latency through our API against the same queries sent to Elasticsearch
 * directly. Everything runs against the real local servers, isolated by a random topic prefix,
 * index names and consumer groups, all deleted at the end.
 *
 *   1. Build N streams in memory: StreamCreated for each, StreamWentLive for a share of them, and
 *      ViewerCountChanged events for the live ones (power-law viewers), on a simulated timeline;
 *      publish them to the lifecycle and counts topics with the bus producer (timed separately).
 *   2. Ours: the DiscoveryIndexer main.ts wires (same class, same consumer settings, fresh group)
 *      into a fresh aliased index with the production mapping, from the first record handed to
 *      the indexer until every event is applied and the index is refreshed.
 *   3. Peer: the same final documents (folded with the indexer's own `project`), loaded with plain
 *      `_bulk` index requests of B documents, one at a time, into a fresh index with the same
 *      mapping; refresh at the end.
 *   4. Search: the API gateway as a child process (gateways/api/main.ts, free ports, this
 *      run's prefix and alias); a mix of discovery queries, each sent through the API (HTTP GET)
 *      and as the equivalent body (the API's own parser and query builder) straight to
 *      Elasticsearch through the client, interleaved, after a warm-up.
 *
 *   The command line: `program`, below (npm run bench -- discovery --help).
 */
const program = tool({
  name: 'bench discovery',
  command: 'npm run bench -- discovery',
  description:
    'Indexing streams through the topics and the discovery indexer against plain _bulk requests of the ' +
    'same documents; then search through the API against the same queries straight to Elasticsearch.',
  examples: ['npm run bench -- discovery --streams 100000 --rounds 3 --bulk 5000 --queries 1000 --warmup 200'],
  notes: 'BENCH_PROFILE=<dir> writes a V8 CPU profile of our indexing (round 1) there.',
})
  .addOption(envOption('--streams <N>', 'streams', 'BENCH_STREAMS', integer(1), 100000))
  .addOption(envOption('--rounds <R>', 'indexing rounds', 'BENCH_ROUNDS', integer(1), 3))
  .addOption(
    envOption(
      '--bulk <B>',
      "documents per peer _bulk request (the indexer's chunk)",
      'BENCH_BULK',
      integer(1),
      MAX_CHUNK,
    ),
  )
  .addOption(envOption('--queries <Q>', 'search queries each way', 'BENCH_QUERIES', integer(1), 1000))
  .addOption(envOption('--warmup <W>', 'warm-up queries', 'BENCH_WARMUP', integer(0), 200))
  .option('--live-share <F>', 'share of streams that go live, 0 to 1', decimal({ atLeast: 0, atMost: 1 }), 0.3)
  .option('--counts-per-live <K>', 'viewer counts per live stream', integer(1), 2)
  .option('--no-search', 'skip the search phase')
  .option('--no-write', 'do not record the result in bench/results');
const { options: args } = parse(program);
const N = args.streams;
const ROUNDS = args.rounds;
const BULK = args.bulk;
const QUERIES = args.queries;
const WARMUP = args.warmup;
const LIVE_SHARE = args.liveShare;
const COUNTS_PER_LIVE = args.countsPerLive;

const TARGET_RATIO = 0.7;
const TARGET_P99_MS = 20;
const ROOT = REPO_ROOT;
const e = endpoints();
const runId = randomBytes(4).toString('hex');
const PREFIX = `bench_disc_${runId}.`;
/** Index names: lower case, no leading dot; everything this run creates starts with it. */
const INDEX_PREFIX = `bench_disc_${runId}`;
const log = createLogger('bench', process.env.BENCH_LOG_LEVEL ?? 'error');
const say = (msg: string): void => console.log(`[discovery] ${msg}`);
const now = (): bigint => process.hrtime.bigint();
const secondsSince = (t: bigint): number => Number(now() - t) / 1e9;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => n.toFixed(2);

// ---------------------------------------------------------------------------------------------
// The data set

/** A deterministic generator, so runs with the same N index the same data. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(0x5eed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** ~30 categories, most popular first; picked with Zipf-like weights (1 / rank). */
const CATEGORIES = [
  'Just Chatting',
  'Grand Theft Auto V',
  'League of Legends',
  'Valorant',
  'Counter-Strike 2',
  'Fortnite',
  'Minecraft',
  'World of Warcraft',
  'Dota 2',
  'Apex Legends',
  'Elden Ring',
  'Call of Duty: Warzone',
  'Music',
  'Art',
  'Overwatch 2',
  'Rocket League',
  'Dead by Daylight',
  'Teamfight Tactics',
  'Hearthstone',
  'Escape from Tarkov',
  'Baldurs Gate 3',
  'Path of Exile 2',
  'Dark Souls III',
  'Sports',
  'IRL',
  'Software and Game Development',
  'Chess',
  'Retro',
  'Slots',
  'Travel and Outdoors',
] as const;
const NON_GAMES = new Set(['Just Chatting', 'Music', 'Art', 'Sports', 'IRL', 'Software and Game Development', 'Chess']);
const CATEGORY_CDF = ((): number[] => {
  const w = CATEGORIES.map((_, i) => 1 / (i + 1));
  const total = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  return w.map((x) => (acc += x / total));
})();
const pickCategory = (): string => {
  const u = rand();
  const i = CATEGORY_CDF.findIndex((c) => u <= c);
  return CATEGORIES[i < 0 ? CATEGORIES.length - 1 : i]!;
};

const GAME_PHRASES = [
  'first playthrough',
  'ranked grind',
  'speedrun attempts',
  'road to top 500',
  'chill late night session',
  'no commentary',
  'hardcore mode',
  'tournament practice',
  'any% world record pace',
  'viewer games',
  'blind run',
  'day 1',
  'challenge run',
  'coaching and VOD review',
  'new patch first look',
  'duos with friends',
  'solo queue',
  'modded survival',
  'creative building',
  'boss rush',
] as const;
const OTHER_PHRASES = [
  'morning coffee and chat',
  'answering your questions',
  'lofi beats to study to',
  'drawing your characters',
  'live from the city',
  'building a game engine from scratch',
  'late night talk show',
  'guitar covers and requests',
  'watching the match together',
  'cooking stream',
  'chill vibes only',
  'Q&A and giveaways',
] as const;
const EXTRAS = [
  '!drops',
  '!discord',
  '| giveaway',
  '(EU)',
  '(NA)',
  '| 18+',
  '!sub',
  'w/ chat',
  'PART 2',
  'LIVE',
] as const;
const TAGS = [
  'english',
  'german',
  'spanish',
  'french',
  'portuguese',
  'chill',
  'competitive',
  'speedrun',
  'funny',
  'educational',
  'family-friendly',
  'drops',
  'ranked',
  'coop',
  'pvp',
  'roleplay',
  'asmr',
  'music',
  'art',
  'variety',
  'pc',
  'console',
  'mobile',
  'vtuber',
  'lgbtqia',
] as const;
const NAME_A = [
  'dark',
  'shadow',
  'pixel',
  'lucky',
  'frosty',
  'crimson',
  'silent',
  'turbo',
  'cosmic',
  'wild',
  'lazy',
  'mega',
];
const NAME_B = [
  'wolf',
  'fox',
  'ninja',
  'gamer',
  'queen',
  'tiger',
  'panda',
  'knight',
  'viking',
  'sloth',
  'raven',
  'bard',
];
const SYLLABLES = ['ka', 'ro', 'mi', 'zen', 'tor', 'li', 'vex', 'na', 'dra', 'sol', 'qu', 'bel', 'ar', 'os', 'ti'];

function streamerName(i: number): string {
  const style = i % 3;
  if (style === 0) return `${pick(NAME_A)}${pick(NAME_B)}${Math.floor(rand() * 100)}`;
  if (style === 1) return `${pick(SYLLABLES)}${pick(SYLLABLES)}${pick(SYLLABLES)}`;
  return `${pick(NAME_A)}_${pick(SYLLABLES)}${pick(NAME_B)}`;
}

function title(category: string): string {
  const phrase = NON_GAMES.has(category) ? pick(OTHER_PHRASES) : pick(GAME_PHRASES);
  const extra = rand() < 0.4 ? ` ${pick(EXTRAS)}` : '';
  switch (Math.floor(rand() * 3)) {
    case 0:
      return `${category} ${phrase}${extra}`;
    case 1:
      return `${phrase[0]!.toUpperCase()}${phrase.slice(1)} | ${category}${extra}`;
    default:
      return `${phrase}${extra}`;
  }
}

/** Power-law viewers (Pareto, alpha 1.1): most streams have a handful, a few tens of thousands. */
const viewersOf = (): number => Math.min(250_000, Math.floor(Math.pow(1 - rand(), -1 / 1.1)) - 1);

interface DataSet {
  lifecycle: StreamLifecycleEvent[];
  counts: ViewerCountChanged[];
  live: number;
  /** The streams' final documents, folded with the indexer's own `project`. */
  documents: StreamDocument[];
}

/**
 * N streams created over a simulated six hours; a share goes live 10 s to 10 min after creation
 * and gets viewer counts every 30 s after that (the last one its current count). Each topic's
 * events are in time order, as their producers would write them.
 */
function buildDataSet(n: number): DataSet {
  const start = Date.now() - 6 * 3600_000;
  const span = 6 * 3600_000;
  const streamers = Array.from({ length: Math.max(1, Math.round(n * 0.4)) }, (_, i) => ({
    id: `user_${randomBytes(8).toString('hex')}`,
    name: streamerName(i),
  }));
  const lifecycle: Array<{ at: number; e: StreamLifecycleEvent }> = [];
  const counts: Array<{ at: number; e: ViewerCountChanged }> = [];
  let live = 0;
  for (let i = 0; i < n; i++) {
    const streamId = `stream_${randomBytes(8).toString('hex')}`;
    const streamer = streamers[Math.floor(Math.pow(rand(), 1.5) * streamers.length)]!;
    const category = pickCategory();
    const tagCount = Math.floor(rand() * 5);
    const tags = [...new Set(Array.from({ length: tagCount }, () => pick(TAGS)))];
    const createdAt = start + Math.floor((i / n) * span);
    lifecycle.push({
      at: createdAt,
      e: {
        eventId: randomUUID(),
        occurredAt: createdAt,
        streamId,
        payload: {
          type: 'StreamCreated',
          streamerId: streamer.id,
          streamerName: streamer.name,
          title: title(category),
          category,
          tags,
          latencyMode: rand() < 0.8 ? 'STANDARD' : rand() < 0.5 ? 'LOW' : 'ULTRA_LOW',
          recordingEnabled: rand() < 0.7,
          chatEnabled: rand() < 0.95,
          streamKeyHash: randomBytes(32).toString('hex'),
        },
      },
    });
    if (rand() >= LIVE_SHARE) continue;
    live++;
    const liveAt = createdAt + 10_000 + Math.floor(rand() * 590_000);
    lifecycle.push({
      at: liveAt,
      e: {
        eventId: randomUUID(),
        occurredAt: liveAt,
        streamId,
        payload: {
          type: 'StreamWentLive',
          startedAt: liveAt - 500,
          sourceUrl: `rtmp://ingest-eu-1.internal:1935/live/${streamId}`,
          ingestNode: `ingest-eu-1${'abc'[i % 3]}`,
          width: 1920,
          height: 1080,
          frameRate: rand() < 0.6 ? 60 : 30,
          videoCodec: 'h264',
          audioCodec: 'aac',
        },
      },
    });
    const final = viewersOf();
    let peak = 0;
    for (let k = 1; k <= COUNTS_PER_LIVE; k++) {
      const viewers = k === COUNTS_PER_LIVE ? final : Math.floor(final * rand());
      peak = Math.max(peak, viewers);
      const at = liveAt + k * 30_000;
      counts.push({
        at,
        e: {
          eventId: randomUUID(),
          occurredAt: at,
          streamId,
          viewers,
          peakViewers: peak,
          qualities: {},
          bufferingRatio: 0,
        },
      });
    }
  }
  lifecycle.sort((a, b) => a.at - b.at);
  counts.sort((a, b) => a.at - b.at);
  const ds = { lifecycle: lifecycle.map((x) => x.e), counts: counts.map((x) => x.e), live };
  // The documents the indexer will end with. Offsets stand in for the Kafka ones (the position
  // in each topic, which orders one stream's events the same way); only they can differ.
  const docs = new Map<string, StreamDocument>();
  const fold = (c: IndexedChange): void => void docs.set(c.event.streamId, project(docs.get(c.event.streamId), c));
  ds.lifecycle.forEach((event, offset) => fold({ source: 'lifecycle', offset, event }));
  ds.counts.forEach((event, offset) => fold({ source: 'viewers', offset, event }));
  return { ...ds, documents: [...docs.values()] };
}

// ---------------------------------------------------------------------------------------------
// Publishing

async function publishAll(bus: EventBus, ds: DataSet): Promise<{ seconds: number; eps: number }> {
  const producer = bus.producer();
  await producer.connect();
  try {
    const t0 = now();
    // One call at a time per topic (calls in flight together could reorder one stream's events);
    // the two topics in parallel.
    const send = async <T>(topic: TopicHandle<T>, events: T[]): Promise<void> => {
      for (let i = 0; i < events.length; i += 5000) await producer.publish(topic, events.slice(i, i + 5000));
    };
    await Promise.all([send(bus.topic('streamLifecycle'), ds.lifecycle), send(bus.topic('viewerCounts'), ds.counts)]);
    const seconds = secondsSince(t0);
    return { seconds, eps: (ds.lifecycle.length + ds.counts.length) / seconds };
  } finally {
    await producer.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Indexing: ours and the direct load

interface OursRun {
  /** First record handed to the indexer -> every event applied and the index refreshed. */
  seconds: number;
  /** indexer.start() (group join, first fetch) -> the same end. */
  secondsWithJoin: number;
  eps: number;
  docs: number;
  applyCalls: number;
  stats: IndexStats;
}

/** The production indexer class, timed at its one entry point for records. */
class TimedIndexer extends DiscoveryIndexer {
  first: bigint | undefined;
  applied = 0;
  calls = 0;
  override async apply(changes: IndexedChange[]): Promise<void> {
    this.first ??= now();
    await super.apply(changes);
    this.applied += changes.length;
    this.calls++;
  }
}

async function indexOurs(
  bus: EventBus,
  es: Elasticsearch,
  alias: string,
  ds: DataSet,
  round: number,
): Promise<OursRun> {
  const total = ds.lifecycle.length + ds.counts.length;
  // What main.ts does: the aliased index with the production definition, then the indexer on it.
  await ensureAliasedIndex(es, alias, discoveryIndex({ shards: 1, replicas: 0 }));
  const indexer = new TimedIndexer(bus, es, {
    groupId: `${PREFIX}discovery-indexer-r${round}`,
    target: alias,
    requireAlias: true,
  });
  return profiled(round === 1 ? 'discovery-indexer' : undefined, async () => {
    const t0 = now();
    await indexer.start();
    try {
      const until = Date.now() + 15 * 60_000;
      while (indexer.applied < total) {
        if (!indexer.healthy && indexer.first) throw new Error('the indexer turned unhealthy');
        if (Date.now() > until) throw new Error(`indexing stalled at ${indexer.applied}/${total} events`);
        await new Promise((r) => setTimeout(r, 5));
      }
      await es.indices.refresh({ index: alias });
      const end = now();
      const docs = (await es.count({ index: alias })).count;
      const seconds = Number(end - indexer.first!) / 1e9;
      return {
        seconds,
        secondsWithJoin: Number(end - t0) / 1e9,
        eps: total / seconds,
        docs,
        applyCalls: indexer.calls,
        stats: await indexStats(es, alias),
      };
    } finally {
      await indexer.stop();
    }
  });
}

interface DirectRun {
  seconds: number;
  dps: number;
  /** Events the same documents stand for, per second. */
  eps: number;
  docs: number;
  stats: IndexStats;
}

async function indexDirect(es: Elasticsearch, index: string, ds: DataSet): Promise<DirectRun> {
  const def = discoveryIndex({ shards: 1, replicas: 0 });
  await es.indices.create({ index, ...def });
  const docs = ds.documents;
  const t0 = now();
  for (let i = 0; i < docs.length; i += BULK) {
    const res = await es.bulk({
      // The response trimmed as our bulk writer trims it (statuses and errors only).
      filter_path: ['errors', 'items.*.status', 'items.*.error.type', 'items.*.error.reason'],
      operations: docs.slice(i, i + BULK).flatMap((d) => [{ index: { _index: index, _id: d.stream_id } }, d]),
    });
    if (res.errors) throw new Error(`direct bulk: ${JSON.stringify(res.items.find((x) => x.index?.error))}`);
  }
  await es.indices.refresh({ index });
  const seconds = secondsSince(t0);
  const count = (await es.count({ index })).count;
  return {
    seconds,
    dps: docs.length / seconds,
    eps: (ds.lifecycle.length + ds.counts.length) / seconds,
    docs: count,
    stats: await indexStats(es, index),
  };
}

/** What Elasticsearch itself spent on an index: writes, reads by id, refreshes, merges. */
interface IndexStats {
  indexed: number;
  indexMs: number;
  gets: number;
  getMs: number;
  refreshMs: number;
  mergeMs: number;
}

async function indexStats(es: Elasticsearch, index: string): Promise<IndexStats> {
  const res = await es.indices.stats({ index, metric: ['indexing', 'get', 'refresh', 'merge'] });
  const t = Object.values(res.indices ?? {})[0]?.total;
  return {
    indexed: t?.indexing?.index_total ?? 0,
    indexMs: t?.indexing?.index_time_in_millis ?? 0,
    gets: t?.get?.total ?? 0,
    getMs: t?.get?.time_in_millis ?? 0,
    refreshMs: t?.refresh?.total_time_in_millis ?? 0,
    mergeMs: t?.merges?.total_time_in_millis ?? 0,
  };
}

const statsLine = (s: IndexStats): string =>
  `ES wrote ${fmt(s.indexed)} docs in ${fmt(s.indexMs)} ms, ${fmt(s.gets)} gets in ${fmt(s.getMs)} ms, ` +
  `refresh ${fmt(s.refreshMs)} ms, merges ${fmt(s.mergeMs)} ms`;

/** Compares a sample of documents in both indices, offsets aside (they stand for different positions). */
async function compareSample(es: Elasticsearch, ours: string, direct: string, ds: DataSet): Promise<string> {
  const ids = Array.from({ length: Math.min(1000, ds.documents.length) }, () => pick(ds.documents).stream_id);
  const strip = (d: StreamDocument | undefined): string =>
    JSON.stringify(d ? { ...d, lifecycle_offset: 0, viewers_offset: 0 } : null);
  const get = async (index: string): Promise<Map<string, string>> => {
    const res = await es.mget<StreamDocument>({ index, ids });
    return new Map(res.docs.map((d) => [d._id, strip('found' in d && d.found ? d._source : undefined)]));
  };
  const [a, b] = await Promise.all([get(ours), get(direct)]);
  const same = ids.filter((id) => a.get(id) === b.get(id) && a.get(id) !== 'null').length;
  return `${same}/${ids.length}`;
}

// ---------------------------------------------------------------------------------------------
// Search latency

interface Api {
  base: string;
  child: ChildProcess;
  output: string[];
  startSeconds: number;
}

/** gateways/api/main.ts as its own process, on this run's prefix and alias, on free ports. */
async function startApi(alias: string): Promise<Api> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const t0 = now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateways/api/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      KAFKA_BROKERS: e.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: e.registryUrl,
      ELASTICSEARCH_URL: e.elasticsearchUrl,
      LIVE_TOPIC_PREFIX: PREFIX,
      DISCOVERY_ALIAS: alias,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      METRICS_PORT: String(metricsPort),
      API_JWT_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (d: Buffer): void => void output.push(...d.toString().split('\n').filter(Boolean).slice(-50));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const api = { base: `http://127.0.0.1:${port}`, child, output, startSeconds: 0 };
  const until = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the API exited (${child.exitCode}):\n${output.slice(-20).join('\n')}`);
    if (Date.now() > until) throw new Error(`the API did not turn healthy:\n${output.slice(-20).join('\n')}`);
    const ok = await fetch(`http://127.0.0.1:${metricsPort}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  api.startSeconds = secondsSince(t0);
  return api;
}

async function stopApi(api: Api): Promise<void> {
  if (api.child.exitCode !== null) return;
  const exited = new Promise<void>((r) => api.child.once('exit', () => r()));
  api.child.kill('SIGTERM');
  const timer = setTimeout(() => api.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

interface QueryCase {
  kind: string;
  qs: string;
}

interface SearchResult {
  api: number[];
  direct: number[];
  took: number[];
  byKind: Map<string, { api: number[]; direct: number[] }>;
  hits: Map<string, number>;
}

/** The typical discovery queries, each a query string the API takes. */
async function queryCases(api: Api): Promise<QueryCase[]> {
  const page1 = async (qs: string): Promise<string> => {
    const res = await fetch(`${api.base}/api/v1/streams/search?${qs}`);
    const body = (await res.json()) as { next_cursor: string | null };
    if (!res.ok || !body.next_cursor) throw new Error(`no next page for ${qs}: ${res.status}`);
    return `${qs}&cursor=${encodeURIComponent(body.next_cursor)}`;
  };
  const cases: QueryCase[] = [
    { kind: 'browse live by viewers', qs: 'status=live' },
    { kind: 'browse live by viewers', qs: 'status=live&limit=40' },
    { kind: 'category filter', qs: 'category=Just%20Chatting' },
    { kind: 'category filter', qs: 'category=minecraft&status=live' },
    { kind: 'category filter', qs: 'category=Chess' },
    { kind: 'text with a typo', qs: 'q=minecrft' },
    { kind: 'text with a typo', qs: 'q=valornt%20rankd' },
    { kind: 'text with a typo', qs: 'q=speedrn' },
    { kind: 'text + min_viewers', qs: 'q=ranked&min_viewers=100' },
    { kind: 'text + min_viewers', qs: 'q=chill%20vibes&min_viewers=20&status=live' },
    { kind: 'page 2 via the cursor', qs: await page1('status=live') },
    { kind: 'page 2 via the cursor', qs: await page1('q=minecraft') },
  ];
  return cases;
}

async function measureSearch(
  es: Elasticsearch,
  api: Api,
  alias: string,
  n: number,
  warmup: number,
): Promise<SearchResult> {
  const cases = await queryCases(api);
  // The direct side sends what the API would: the API's own parser, then its query builder.
  const bodies = cases.map((c) => searchBody(parseSearchQuery(new URLSearchParams(c.qs)).search));
  const viaApi = async (i: number): Promise<[number, number]> => {
    const t0 = now();
    const res = await fetch(`${api.base}/api/v1/streams/search?${cases[i]!.qs}`);
    const body = (await res.json()) as { total_results: number };
    const took = Number(now() - t0) / 1e6;
    if (!res.ok) throw new Error(`API ${res.status} for ${cases[i]!.qs}: ${JSON.stringify(body)}`);
    return [took, body.total_results];
  };
  const direct = async (i: number): Promise<[number, number, number]> => {
    const t0 = now();
    const res = await es.search<StreamDocument>({ index: alias, ...bodies[i]! });
    const took = Number(now() - t0) / 1e6;
    const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
    return [took, total, res.took];
  };
  for (let i = 0; i < warmup; i++) {
    await viaApi(i % cases.length);
    await direct(i % cases.length);
  }
  const out: SearchResult = { api: [], direct: [], took: [], byKind: new Map(), hits: new Map() };
  for (let i = 0; i < n; i++) {
    const c = i % cases.length;
    const kind = cases[c]!.kind;
    // Alternate which side goes first, so neither always meets the warmer cache.
    let a: [number, number];
    let d: [number, number, number];
    if (i % 2 === 0) {
      a = await viaApi(c);
      d = await direct(c);
    } else {
      d = await direct(c);
      a = await viaApi(c);
    }
    if (a[1] !== d[1]) throw new Error(`API and direct disagree on ${cases[c]!.qs}: ${a[1]} vs ${d[1]} hits`);
    out.api.push(a[0]);
    out.direct.push(d[0]);
    out.took.push(d[2]);
    const k = out.byKind.get(kind) ?? { api: [], direct: [] };
    k.api.push(a[0]);
    k.direct.push(d[0]);
    out.byKind.set(kind, k);
    out.hits.set(cases[c]!.qs.replace(/&cursor=.*/, '&cursor=…'), a[1]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Profiling and clean-up

async function cleanUp(bus: EventBus, es: Elasticsearch): Promise<void> {
  const done: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      say(`clean-up of ${what} failed: ${(err as Error).message}`);
    }
  };
  await attempt('indices', async () => {
    const res = await es.indices.get({ index: `${INDEX_PREFIX}*`, expand_wildcards: 'all' });
    const names = Object.keys(res);
    await deleteIndices(es, names);
    done.push(`${names.length} indices`);
  });
  await attempt('kafka', () =>
    bus.withAdmin(async (admin) => {
      const groups = (await admin.listGroups()).filter((g) => g.startsWith(PREFIX));
      await admin.deleteGroups(groups);
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(PREFIX));
      await admin.deleteTopics(topics);
      done.push(`${groups.length} consumer groups`, `${topics.length} topics`);
    }),
  );
  await attempt('subjects', async () => {
    const subjects = ((await (await fetch(`${e.registryUrl}/subjects`)).json()) as string[]).filter((s) =>
      s.startsWith(PREFIX),
    );
    for (const s of subjects) {
      // The registry keeps a deleted subject until it is deleted twice (soft, then permanent).
      for (const q of ['', '?permanent=true']) {
        await fetch(`${e.registryUrl}/subjects/${encodeURIComponent(s)}${q}`, { method: 'DELETE' });
      }
    }
    done.push(`${subjects.length} subjects`);
  });
  say(`cleaned up ${done.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------

interface Round {
  ours: OursRun;
  direct: DirectRun;
  ratio: number;
  same: string;
  load: number;
  oursFirst: boolean;
}

async function main(): Promise<void> {
  const bus = new EventBus(
    { brokers: e.kafkaBrokers, registryUrl: e.registryUrl, clientId: 'bench-discovery', topicPrefix: PREFIX },
    new Metrics('bench', { defaults: false }),
    log,
  );
  const es = createElasticsearch({ url: e.elasticsearchUrl, requestTimeoutMs: 60_000 });
  const loads: string[] = [`start ${loadavg()[0]!.toFixed(2)}`];
  let api: Api | undefined;
  try {
    say(`prefix ${PREFIX}; ${fmt(N)} streams, live share ${LIVE_SHARE}, ${COUNTS_PER_LIVE} counts per live stream`);
    const tBuild = now();
    const ds = buildDataSet(N);
    const events = ds.lifecycle.length + ds.counts.length;
    say(
      `built ${fmt(ds.lifecycle.length)} lifecycle + ${fmt(ds.counts.length)} count events ` +
        `(${fmt(ds.live)} live streams) -> ${fmt(ds.documents.length)} documents in ${secondsSince(tBuild).toFixed(1)} s`,
    );
    await bus.init(['streamLifecycle', 'viewerCounts']);
    const published = await publishAll(bus, ds);
    say(`published ${fmt(events)} events in ${published.seconds.toFixed(1)} s (${fmt(published.eps)} events/s)`);
    loads.push(`after publish ${loadavg()[0]!.toFixed(2)}`);

    const rounds: Round[] = [];
    let alias = '';
    for (let r = 1; r <= ROUNDS; r++) {
      alias = `${INDEX_PREFIX}-streams-r${r}`;
      const directIndex = `${INDEX_PREFIX}-direct-r${r}`;
      const load = loadavg()[0]!;
      // Alternate the order over rounds: the second load meets the merges the first left behind.
      const oursFirst = r % 2 === 1;
      let ours: OursRun | undefined;
      let direct: DirectRun | undefined;
      for (const side of oursFirst ? ['ours', 'direct'] : ['direct', 'ours']) {
        if (side === 'ours') ours = await indexOurs(bus, es, alias, ds, r);
        else direct = await indexDirect(es, directIndex, ds);
      }
      const round: Round = {
        ours: ours!,
        direct: direct!,
        ratio: ours!.eps / direct!.eps,
        same: await compareSample(es, alias, directIndex, ds),
        load,
        oursFirst,
      };
      rounds.push(round);
      say(
        `round ${r}/${ROUNDS} (load ${load.toFixed(2)}, ${oursFirst ? 'ours first' : 'direct first'}): ` +
          `ours ${fmt(round.ours.eps)} events/s (${round.ours.seconds.toFixed(1)} s, ${fmt(round.ours.docs)} docs, ` +
          `${fmt(round.ours.applyCalls)} chunks; ${round.ours.secondsWithJoin.toFixed(1)} s with group join) / ` +
          `direct ${fmt(round.direct.eps)} events-equivalent/s (${fmt(round.direct.dps)} docs/s, ` +
          `${round.direct.seconds.toFixed(1)} s, ${fmt(round.direct.docs)} docs) = ${round.ratio.toFixed(3)}; ` +
          `sampled documents equal: ${round.same}`,
      );
      say(`  ours: ${statsLine(round.ours.stats)}`);
      say(`  direct: ${statsLine(round.direct.stats)}`);
      if (r < ROUNDS) await deleteIndices(es, [...(await indicesOf(es, alias)), directIndex]);
      else await deleteIndices(es, [directIndex]);
    }
    loads.push(`after indexing ${loadavg()[0]!.toFixed(2)}`);

    let search: SearchResult | undefined;
    if (args.search) {
      api = await startApi(alias);
      say(`API up on ${api.base} in ${api.startSeconds.toFixed(1)} s (registry caught up with the lifecycle topic)`);
      loads.push(`before search ${loadavg()[0]!.toFixed(2)}`);
      search = await measureSearch(es, api, alias, QUERIES, WARMUP);
      loads.push(`after search ${loadavg()[0]!.toFixed(2)}`);
    }

    // -- report
    const med = (f: (r: Round) => number): number => median(rounds.map(f));
    const oursEps = med((r) => r.ours.eps);
    const directEps = med((r) => r.direct.eps);
    const directDps = med((r) => r.direct.dps);
    const r0 = ratio(oursEps, directEps);
    say(`median indexing: ours ${fmt(oursEps)} events/s / direct ${fmt(directEps)} events-equivalent/s = ${r0}`);
    let lat: { api: number[]; direct: number[]; took: number[] } | undefined;
    const kindLines: string[] = [];
    if (search) {
      lat = { api: search.api, direct: search.direct, took: search.took };
      for (const p of [50, 95, 99]) {
        say(`search p${p}: API ${ms(percentile(lat.api, p))} ms / direct ${ms(percentile(lat.direct, p))} ms`);
      }
      say(`Elasticsearch's own "took": p50 ${percentile(lat.took, 50)} ms, p99 ${percentile(lat.took, 99)} ms`);
      for (const [kind, v] of search.byKind) {
        const { api: a, direct: d } = v;
        const line =
          `${kind} (${a.length}): API p50 ${ms(percentile(a, 50))} / p99 ${ms(percentile(a, 99))} ms, ` +
          `direct p50 ${ms(percentile(d, 50))} / p99 ${ms(percentile(d, 99))} ms`;
        kindLines.push(line);
        say(`  ${line}`);
      }
      for (const [qs, hits] of search.hits) say(`  ${qs}: ${fmt(hits)} hits`);
    }
    if (!args.write) return;

    const perRound = rounds
      .map(
        (r, i) =>
          `r${i + 1} ${fmt(r.ours.eps)}/${fmt(r.direct.eps)} (${r.ratio.toFixed(2)}, ${r.oursFirst ? 'ours first' : 'direct first'}, load ${r.load.toFixed(1)})`,
      )
      .join(', ');
    const last = rounds[rounds.length - 1]!;
    const extra: Metric[] = [
      {
        metric: 'indexing, documents/s',
        value: Math.round(N / med((r) => r.ours.seconds)),
        unit: 'docs/s',
        peer: { name: 'direct _bulk docs/s', value: Math.round(directDps) },
        ratio: ratio(N / med((r) => r.ours.seconds), directDps),
        target: 'report only',
        meetsTarget: null,
        notes:
          `The same ratio per document: ours ${fmt(N)} final documents in ${med((r) => r.ours.seconds).toFixed(1)} s ` +
          `(a stream's changes fold into one write per round: in the last round ${fmt(last.ours.applyCalls)} chunks handed ` +
          `over, ${fmt(last.ours.stats.indexed)} document writes, ${fmt(last.ours.stats.gets)} documents read back ` +
          `(_mget), ${fmt(last.ours.stats.indexMs)} ms of Elasticsearch indexing time and ${fmt(last.ours.stats.getMs)} ms of gets); ` +
          `direct: ${fmt(BULK)} documents per _bulk, one request at a time, plain index operations with the stream id as _id, the response trimmed to statuses and errors as ours is, ` +
          `refresh at the end (${fmt(last.direct.stats.indexed)} writes, ${fmt(last.direct.stats.indexMs)} ms indexing time). ` +
          `Sampled documents equal (offsets aside) in the last round: ${last.same}.`,
      },
      {
        metric: 'indexing with group join',
        value: Math.round(events / med((r) => r.ours.secondsWithJoin)),
        unit: 'events/s',
        peer: null,
        ratio: null,
        target: 'report only',
        meetsTarget: null,
        notes: 'From indexer.start() (bus.init, group join, first fetch) to the refreshed index.',
      },
      {
        metric: 'publish (lifecycle + counts, not part of indexing)',
        value: Math.round(published.eps),
        unit: 'events/s',
        peer: null,
        ratio: null,
        target: 'report only',
        meetsTarget: null,
        notes: `EventProducer.publish, 5,000 events per call, one call at a time per topic (keeps each stream's events in order), both topics in parallel: ${fmt(events)} events in ${published.seconds.toFixed(1)} s.`,
      },
    ];
    if (search && lat) {
      const target = `API p99 < ${TARGET_P99_MS} ms`;
      for (const p of [50, 95]) {
        extra.push({
          metric: `search p${p} (${fmt(N)} documents)`,
          value: Math.round(percentile(lat.api, p) * 100) / 100,
          unit: 'ms',
          peer: { name: 'Elasticsearch directly', value: Math.round(percentile(lat.direct, p) * 100) / 100 },
          ratio: ratio(percentile(lat.api, p), percentile(lat.direct, p)),
          target: 'report only',
          meetsTarget: null,
        });
      }
      const p99 = percentile(lat.api, 99);
      extra.push({
        metric: `search p99 (${fmt(N)} documents)`,
        value: Math.round(p99 * 100) / 100,
        unit: 'ms',
        peer: { name: 'Elasticsearch directly', value: Math.round(percentile(lat.direct, 99) * 100) / 100 },
        ratio: ratio(p99, percentile(lat.direct, 99)),
        target,
        meetsTarget: p99 < TARGET_P99_MS,
        notes:
          `${fmt(QUERIES)} sequential requests per side after ${fmt(WARMUP)} warm-up each, interleaved (the side that goes first ` +
          'alternates), cycling through 12 queries: browse live by viewers (no text), category filter, text with a typo ' +
          '("minecrft", "valornt rankd", "speedrn"), text + min_viewers, page 2 via the cursor. Ours: HTTP GET ' +
          '/api/v1/streams/search on the API gateway (gateways/api/main.ts as a child process, uWebSockets.js) from ' +
          "Node's fetch, response read and parsed; direct: the same query string through the API's parser and query " +
          'builder (parseSearchQuery + searchBody), sent with the Elasticsearch client, response parsed. Both count the ' +
          `client's time. Per kind: ${kindLines.join('; ')}. Elasticsearch's own "took": p50 ${percentile(lat.took, 50)} ms, ` +
          `p99 ${percentile(lat.took, 99)} ms. Hits per query: ${[...search.hits].map(([q, h]) => `${q} ${fmt(h)}`).join(', ')}.`,
      });
    }
    const command =
      `npm run bench -- discovery --streams ${N} --rounds ${ROUNDS} --bulk ${BULK} --queries ${QUERIES} --warmup ${WARMUP}` +
      (LIVE_SHARE !== 0.3 ? ` --live-share ${LIVE_SHARE}` : '') +
      (COUNTS_PER_LIVE !== 2 ? ` --counts-per-live ${COUNTS_PER_LIVE}` : '') +
      (args.search ? '' : ' --no-search');
    const file = writeResult('discovery', {
      metric: `index ${fmt(N)} streams through the topics and the indexer`,
      value: Math.round(oursEps),
      unit: 'events/s',
      peer: { name: 'direct _bulk of the same documents, events-equivalent/s', value: Math.round(directEps) },
      ratio: r0,
      target: `≥ ${TARGET_RATIO}× direct _bulk (issue #23)`,
      meetsTarget: r0 !== null && r0 >= TARGET_RATIO,
      notes: [
        `${fmt(N)} streams: ${fmt(ds.lifecycle.length)} lifecycle events (StreamCreated for each, StreamWentLive for`,
        `${fmt(ds.live)}) and ${fmt(ds.counts.length)} ViewerCountChanged (${COUNTS_PER_LIVE} per live stream, Pareto viewers),`,
        `${fmt(events)} events in all, ${CATEGORIES.length} Zipf-weighted categories, titles, tags and streamer names from a`,
        'vocabulary, on a simulated six-hour timeline, published beforehand (not timed as indexing) to',
        '6-partition topics under a random prefix.',
        'Ours: the DiscoveryIndexer class main.ts wires (fresh group, from the beginning, into a fresh aliased index with',
        'the production mapping), from the first record handed to it until every event is applied and a refresh returned;',
        `events/s = events / seconds. The indexer's defaults: the runner hands over chunks of at most ${fmt(MAX_CHUNK)}`,
        `records from up to ${PARTITIONS_AT_ONCE} partitions of both topics at once; what is handed over together makes a round`,
        `(cut at ${fmt(MAX_CHUNK)} records), ${ROUNDS_IN_FLIGHT} rounds written at once, each stream written once per round, whole,`,
        `in _bulk requests of at most ${fmt(MAX_CHUNK)} documents. A stream starts from its document in a round still being written,`,
        `else from the last ${fmt(WRITTEN_DOCUMENTS)} documents the indexer wrote while nothing else can write them, else it is read`,
        '(_mget); here the index was new and empty when the indexer started, so a stream it had not written had no document',
        'and nothing was read back except after a 409.',
        'Where the gap comes from: a live stream whose viewer counts arrive in another round than its lifecycle is written',
        `again (${(last.ours.stats.indexed / last.direct.stats.indexed).toFixed(2)}x the document writes of the direct load, whole documents: Elasticsearch has no`,
        'externally versioned partial update), and ours fetches, decodes and folds from Kafka on the same two cores as',
        'Elasticsearch.',
        `Peer: the same ${fmt(ds.documents.length)} final documents, folded beforehand with the indexer's own project(), loaded with`,
        `_bulk (${fmt(BULK)} per request, sequential) into a fresh index with the same mapping, refresh included;`,
        'events-equivalent/s = the same event count / its seconds, so the ratio is direct seconds / our seconds.',
        `${ROUNDS > 1 ? `Median of ${ROUNDS} rounds (fresh indices and group each, alternating which side goes first): ${perRound}.` : `One round, ours first: ${perRound}.`}`,
        `1-minute load average (the 2-core machine is shared; the platform's own API, indexer and other work run beside it): ${loads.join(', ')}.`,
      ].join(' '),
      command,
      extra,
    });
    say(`wrote ${file}`);
  } finally {
    if (api) await stopApi(api).catch((err: unknown) => say(`stopping the API failed: ${(err as Error).message}`));
    await cleanUp(bus, es);
    await es.close();
  }
}

await main();
