import { randomUUID } from 'node:crypto';
import { startOrigin } from '../tests/support/origin.ts';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decimal, integer, parse, tool } from '../platform/cli.ts';
import { Agent } from 'undici';
import type { MediaEvent } from '../schemas/generated/events.ts';
import { EdgeServer } from '../gateways/edge/edge.ts';
import { EventBus } from '../platform/kafka/bus.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { percentile } from '../platform/stats.ts';
import { CdnPrefetcher } from '../processors/cdn-prefetcher/prefetcher.ts';
import { Packager } from '../processors/packager/packager.ts';
import { PackagerStorage } from '../processors/packager/storage.ts';
import { endpoints } from '../tests/support/endpoints.ts';
import { makeSegments, mediaTools } from '../tests/support/hls.ts';
import { freePort } from '../tests/support/ports.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';

/**
 * The edge in front of the origin, with P simulated players on one live stream, against the same
 * players straight at the origin (the peer), in one run on this machine:
 *
 *   - a stream is simulated as a media worker does it: every D seconds one segment per rendition
 *     (real 640x360 H.264/AAC MPEG-TS, made once by ffmpeg) is copied into MEDIA_ROOT and announced
 *     with SegmentReady on Kafka; the real packager builds the playlists from those events, and
 *     (edge run) the real CDN prefetcher warms the edge;
 *   - a player joins at a random moment of the first segment, at the live edge, on one of the
 *     renditions (evenly spread), and behaves like hls.js: it reloads its media playlist every
 *     target duration (half of it when nothing changed) and fetches each new segment in full;
 *   - hit ratio: player requests answered from the cache (X-Cache-Status HIT, UPDATING or STALE)
 *     over all player requests, playlists included; the peer has no cache, so its ratio is 0;
 *   - origin requests per segment: the origin's segment GETs (counted at the origin) over the
 *     distinct segments it was asked for: the players' and, for the edge, every segment produced
 *     (the prefetcher warms them all);
 *   - first fetch HIT: share of segments whose first player request found it at the edge;
 *   - segment fetch time p50/p95 as the players saw it.
 *
 *   The command line: `program`, below (npm run bench -- edge --help).
 */
const program = tool({
  name: 'bench edge',
  command: 'npm run bench -- edge',
  description:
    'Simulated players through the edge cache (with its prefetcher) against the origin alone: origin ' +
    'requests per segment, first-fetch hits and segment fetch times.',
  examples: ['npm run bench -- edge --players 200 --seconds 40 --segment-seconds 2 --renditions 2'],
})
  .option('--players <P>', 'simulated players', integer(1), 200)
  .option('--seconds <S>', 'length of the run', integer(1), 40)
  .option('--segment-seconds <D>', 'segment duration', decimal({ above: 0 }), 2)
  .option('--renditions <R>', 'renditions, 1 to 4', integer(1, 4), 2);
const { options: values } = parse(program);
const PLAYERS = values.players;
const SECONDS = values.seconds;
const SEGMENT_S = values.segmentSeconds;
const RENDITIONS = ['720p', '360p', '480p', '160p'].slice(0, values.renditions);
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = createLogger('bench-edge', process.env.LOG_LEVEL ?? 'error');

interface PlayerRecord {
  kind: 'playlist' | 'segment';
  path: string;
  cache: string | null;
  ms: number;
  at: number;
  ok: boolean;
}

/** A percentile in ms, to a tenth. */
const pct = (xs: number[], p: number): number => Math.round(percentile(xs, p) * 10) / 10;

/** One hls.js-like player: reload the media playlist, fetch new segments, join at the live edge. */
async function player(
  base: string,
  streamId: string,
  rendition: string,
  until: number,
  dispatcher: Agent,
  out: PlayerRecord[],
): Promise<void> {
  const seen = new Set<string>();
  let joined = false;
  const get = async (kind: PlayerRecord['kind'], path: string): Promise<string> => {
    const t0 = now();
    try {
      const res = await fetch(`${base}${path}`, { dispatcher } as RequestInit);
      const body = kind === 'playlist' ? await res.text() : (await res.arrayBuffer(), '');
      out.push({ kind, path, cache: res.headers.get('x-cache-status'), ms: now() - t0, at: t0, ok: res.ok });
      return res.ok ? body : '';
    } catch {
      out.push({ kind, path, cache: null, ms: now() - t0, at: t0, ok: false });
      return '';
    }
  };
  while (now() < until) {
    const started = now();
    const text = await get('playlist', `/hls/${streamId}/${rendition}.m3u8`);
    const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(text)?.[1] ?? SEGMENT_S);
    const uris = text.split('\n').filter((l) => l.endsWith('.ts'));
    let fresh = uris.filter((u) => !seen.has(u));
    if (!joined && uris.length) {
      // Join at the live edge: the newest segment only.
      for (const u of uris) seen.add(u);
      fresh = uris.slice(-1);
      joined = true;
    }
    for (const u of fresh) {
      seen.add(u);
      await get('segment', `/hls/${streamId}/${u}`);
    }
    const wait = (fresh.length ? target : target / 2) * 1000 - (now() - started);
    await sleep(Math.max(0, wait));
  }
}

async function run(mode: 'edge' | 'origin', source: string[], bus: EventBus): Promise<Metric[] & { length: 5 }> {
  const root = mkdtempSync(join(tmpdir(), `bench-edge-${mode}-`));
  const edgeDir = mkdtempSync(join(tmpdir(), 'bench-edge-nginx-'));
  const originMetrics = new Metrics('origin', { defaults: false });
  const origin = await startOrigin(root, { log, metrics: originMetrics });
  const streamId = `bench_${mode}_${Date.now().toString(36)}`;
  // Topics of its own per run: both consumers read them from the start, with no join race.
  const runBus = new EventBus(
    { ...bus.config, topicPrefix: `${bus.config.topicPrefix}${mode}.` },
    new Metrics(`bench-${mode}`, { defaults: false }),
    log,
  );
  await runBus.init(['mediaSegments', 'streamLifecycle', 'vodRecordings']);
  const packager = new Packager(runBus, new PackagerStorage(root, root), log, {
    groupId: `${bus.config.topicPrefix}packager.${mode}`,
    windowSize: 6,
    announce: false,
    from: 'earliest',
  });
  await packager.start();
  let edge: EdgeServer | undefined;
  let prefetcher: CdnPrefetcher | undefined;
  if (mode === 'edge') {
    edge = new EdgeServer({
      nginx: mediaTools().nginx,
      dir: edgeDir,
      host: '127.0.0.1',
      port: await freePort(),
      name: 'bench-edge',
      origin: { host: '127.0.0.1', port: origin.port },
      workers: 1,
      cacheMaxSize: '1g',
      log,
      metrics: new Metrics('edge', { defaults: false }),
    });
    await edge.start();
    prefetcher = new CdnPrefetcher(runBus, log, {
      groupId: `${bus.config.topicPrefix}prefetch.${mode}`,
      edges: [edge.url],
      timeoutMs: 5000,
      maxAgeMs: 30_000,
      concurrency: 8,
      from: 'earliest',
    });
    await prefetcher.start();
    await prefetcher.joined;
  }
  await packager.joined;
  const producer = runBus.producer();
  await producer.connect();

  // The stream: one segment per rendition every SEGMENT_S seconds, as a worker would.
  const ladder: MediaEvent = {
    eventId: randomUUID(),
    occurredAt: Date.now(),
    streamId,
    workerId: 'bench',
    payload: {
      type: 'RenditionLadder',
      segmentDurationMs: SEGMENT_S * 1000,
      encoder: 'libx264',
      partTargetMs: 0,
      reason: 'START',
      dropped: [],
      renditions: RENDITIONS.map((name) => ({
        name,
        width: 640,
        height: 360,
        frameRate: 10,
        videoBitrate: 800_000,
        audioBitrate: 32_000,
        codecs: 'avc1.64001e,mp4a.40.2',
      })),
    },
  };
  await producer.publish(runBus.topic('mediaSegments'), [ladder]);
  let sequence = 0;
  let broadcasting = true;
  const broadcast = (async () => {
    const t0 = now();
    while (broadcasting) {
      const events: MediaEvent[] = RENDITIONS.map((rendition) => {
        const uri = `${rendition}/${String(sequence).padStart(6, '0')}.ts`;
        const from = source[sequence % source.length]!;
        mkdirSync(join(root, streamId, rendition), { recursive: true });
        copyFileSync(from, join(root, streamId, `${uri}.tmp`));
        copyFileSync(join(root, streamId, `${uri}.tmp`), join(root, streamId, uri));
        rmSync(join(root, streamId, `${uri}.tmp`));
        return {
          eventId: randomUUID(),
          occurredAt: Date.now(),
          streamId,
          workerId: 'bench',
          payload: {
            type: 'SegmentReady',
            rendition,
            sequence,
            durationMs: SEGMENT_S * 1000,
            uri,
            bytes: statSync(from).size,
            programDateTime: Date.now() - SEGMENT_S * 1000,
            discontinuity: false,
            initUri: null,
          },
        };
      });
      await producer.publish(runBus.topic('mediaSegments'), events);
      sequence++;
      await sleep(Math.max(0, t0 + sequence * SEGMENT_S * 1000 - now()));
    }
  })();

  // Players join once the first playlists exist (3 segments, as a player wants before it starts).
  while (sequence < 3) await sleep(100);
  const base = edge ? edge.url : `http://127.0.0.1:${origin.port}`;
  const dispatcher = new Agent({ connections: PLAYERS * 2, keepAliveTimeout: 30_000 });
  const records: PlayerRecord[] = [];
  const until = now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: PLAYERS }, async (_, i) => {
      await sleep(Math.random() * SEGMENT_S * 1000);
      await player(base, streamId, RENDITIONS[i % RENDITIONS.length]!, until, dispatcher, records);
    }),
  );
  broadcasting = false;
  await broadcast;
  await dispatcher.close();

  const segments = records.filter((r) => r.kind === 'segment' && r.ok);
  const fetched = new Set(segments.map((r) => r.path));
  // Objects the origin was asked for: the players' and, through the edge, every segment the
  // prefetcher warmed (all that were produced).
  const asked = new Set(fetched);
  if (mode === 'edge')
    for (let i = 0; i < sequence; i++)
      for (const r of RENDITIONS) asked.add(`/hls/${streamId}/${r}/${String(i).padStart(6, '0')}.ts`);
  const originText = await originMetrics.registry.getSingleMetricAsString('live_origin_requests_total');
  const originSegmentGets = [...originText.matchAll(/kind="segment",status="(?:200|206)"[^\n]*\} (\d+)/g)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
  const served = records.filter((r) => r.ok);
  const hits = served.filter((r) => r.cache === 'HIT' || r.cache === 'UPDATING' || r.cache === 'STALE').length;
  const firstByPath = new Map<string, PlayerRecord>();
  for (const r of [...segments].sort((a, b) => a.at - b.at)) if (!firstByPath.has(r.path)) firstByPath.set(r.path, r);
  const firstHits = [...firstByPath.values()].filter((r) => r.cache === 'HIT').length;
  const failures = records.length - served.length;
  console.log(
    `${mode}: ${records.length} player requests (${failures} failed), ${fetched.size} distinct segments, ` +
      `${asked.size} asked of the origin, ${originSegmentGets} origin segment GETs, hit ratio ${(hits / Math.max(1, served.length)).toFixed(4)}`,
  );

  await producer.disconnect();
  await prefetcher?.stop();
  await packager.stop();
  await edge?.stop();
  await origin.stop();
  rmSync(root, { recursive: true, force: true });
  rmSync(edgeDir, { recursive: true, force: true });

  const segMs = segments.map((r) => r.ms);
  return [
    {
      metric: 'origin requests per segment',
      value: Math.round((originSegmentGets / Math.max(1, asked.size)) * 100) / 100,
      unit: 'req',
      peer: null,
      ratio: null,
      target: '1',
      meetsTarget: false,
    },
    {
      metric: 'player hit ratio',
      value: Math.round((hits / Math.max(1, served.length)) * 10_000) / 100,
      unit: '%',
      peer: null,
      ratio: null,
      target: '>= 95% (seed: CDN cache hit rate over 95%)',
      meetsTarget: false,
    },
    {
      metric: 'first player request per segment a HIT',
      value: Math.round((firstHits / Math.max(1, firstByPath.size)) * 10_000) / 100,
      unit: '%',
      peer: null,
      ratio: null,
      target: '100% (prefetched)',
      meetsTarget: false,
    },
    {
      metric: 'segment fetch p50',
      value: pct(segMs, 50),
      unit: 'ms',
      peer: null,
      ratio: null,
      target: '—',
      meetsTarget: null,
    },
    {
      metric: 'segment fetch p95',
      value: pct(segMs, 95),
      unit: 'ms',
      peer: null,
      ratio: null,
      target: '—',
      meetsTarget: null,
    },
  ] as Metric[] & { length: 5 };
}

const sourceDir = mkdtempSync(join(tmpdir(), 'bench-edge-src-'));
const count = makeSegments(sourceDir, 5, SEGMENT_S, { size: '640x360', videoBitrate: '800k' }).length;
const source = Array.from({ length: count }, (_, i) => join(sourceDir, `${String(i).padStart(6, '0')}.ts`));
const e = endpoints();
const bus = new EventBus(
  {
    brokers: e.kafkaBrokers,
    registryUrl: e.registryUrl,
    clientId: 'bench-edge',
    topicPrefix: `bench_edge_${Date.now().toString(36)}.`,
  },
  new Metrics('bench-edge', { defaults: false }),
  log,
);

console.log(
  `edge bench: ${PLAYERS} players, ${SECONDS} s, ${SEGMENT_S} s segments, renditions ${RENDITIONS.join(', ')}`,
);
const ours = await run('edge', source, bus);
const peer = await run('origin', source, bus);
rmSync(sourceDir, { recursive: true, force: true });

const peerName = 'same players straight at the origin';
const merged: Metric[] = ours.map((m, i) => ({
  ...m,
  peer: { name: peerName, value: peer[i]!.value },
  ratio: ratio(m.value, peer[i]!.value),
}));
merged[0]!.meetsTarget = merged[0]!.value <= 1;
merged[1]!.meetsTarget = merged[1]!.value >= 95;
merged[2]!.meetsTarget = merged[2]!.value >= 100;
const [main, ...extra] = merged;
const file = writeResult('edge', {
  ...main!,
  extra,
  command: `npm run bench -- edge --players ${PLAYERS} --seconds ${SECONDS} --segment-seconds ${SEGMENT_S} --renditions ${RENDITIONS.length}`,
  notes:
    `${PLAYERS} simulated hls.js-like players on one live stream (${RENDITIONS.length} renditions, players spread evenly, ` +
    `${SEGMENT_S} s segments of 640x360 H.264/AAC, ${SECONDS} s), through one nginx edge (proxy_cache, request collapser, ` +
    'origin Cache-Control) with the CDN prefetcher warming it from SegmentReady, against the same players straight at ' +
    'the origin. Real packager and Kafka in the loop; players, origin, edge and Kafka share this machine. ' +
    'Origin requests per segment: origin segment GETs (prefetcher included) over the distinct segments the origin was asked for.',
});
console.log(`wrote ${file}`);
process.exit(0);
