import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { segmentDurationMs } from '../media/ladder.ts';
import type { LatencyMode as EventLatencyMode } from '../schemas/generated/events.ts';
import { InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { integer, decimal, listOption, parse, tool, usageError } from '../platform/cli.ts';
import { launchChromium } from '../tests/support/browser.ts';
import { mediaTools } from '../tests/support/hls.ts';
import { parseMediaPlaylist } from '../tests/support/media-pipeline.ts';
import { catchUpRate, followLive, hlsConfig, liveSyncFallback, type HlsTier } from '../web/src/lib/format.ts';
import { startCanvasPublisher, startProbe, type CanvasPublisherState, type ProbeState } from './lib/glass-probe.ts';
import { hopsSummary, watchHops, type Hops } from './lib/hops.ts';
import {
  BITS,
  HEIGHT,
  loadAverage,
  NMS_PEER,
  now,
  pct,
  sleep,
  STRIP,
  untilServed,
  WIDTH,
  withNodeMediaServer,
  withPlatform,
  withStream,
  type LiveRun,
} from './lib/live-rig.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';
import { cpuMeter } from './lib/cpu.ts';

/**
 * Glass to glass per latency tier: from a frame being made by the publisher to that frame on a
 * viewer's screen, played through the edge by hls.js in Chromium with the web page's settings for
 * the tier, for this platform and node-media-server (its RTMP -> HLS path) on the same source, one
 * after the other in the same run on this machine:
 *
 *   - tiers: a "standard" stream (latency_mode standard: 2 s segments) and a "low" one (latency_mode
 *     low: 1 s segments), each its own publish and its own
 *     platform run; node-media-server gets the same publisher with segments of the tier's duration
 *     (it copies the video, so the publisher's keyframes are every segment duration) and is played
 *     with the same tier's settings (a plain HLS playlist: the settings' plain-HLS fallback);
 *   - the WebRTC tiers (issue #21), a stream in latency_mode ultra_low played over WHEP through the
 *     WebRTC gateway by the browser's own RTCPeerConnection, as the web page plays it: "ultra-low",
 *     the same ffmpeg publisher over RTMP, which the gateway's RTMP bridge (ffmpeg pulling from the
 *     ingest, H.264 copied) turns into RTP; "ultra-low-whip", a browser publisher instead: a page
 *     draws the same bar-code clock on a canvas and publishes `captureStream` over WHIP, another
 *     page plays it over WHEP. Their comparison is the HLS tiers of the same run (no peer of their
 *     own); each frame's figure splits at the moment its last packet reached the viewer's browser
 *     (requestVideoFrameCallback's receiveTime): the network side, and the browser's jitter
 *     buffer, decode and presentation;
 *   - the publisher (bench/lib/live-rig.ts) burns a bar-code clock of each frame's own time into
 *     the picture and gives the wall-clock moment its media time was 0;
 *   - headless Chromium (Debian's, with its H.264 decoder) loads a page served by this process
 *     (so the player is cross-origin to the stream, as the web page is) that plays the stream with
 *     hls.js and the web page's own settings (`hlsConfig` of web/src/lib/format.ts, and its
 *     `followLive` run on the instance as the page runs it), muted;
 *   - every presented frame (requestVideoFrameCallback) is read back through a canvas
 *     (bench/lib/glass-probe.ts): glass to glass = the moment it is expected on screen - (publisher
 *     start + its bar code). The page and this process read the same machine clock; their offset
 *     (`performance.timeOrigin` differs per process by well under a millisecond) is measured and
 *     taken out anyway;
 *   - hls.js settles at a distance behind the live edge that depends on the moment it joins, so
 *     the player joins `joins` times (a fresh page each time) and each join is sampled for
 *     `seconds / joins` from `settle` seconds after its first frame (start-up is not the steady
 *     state a viewer lives in). A frame whose code does not match its media time (code - media
 *     time off the join's median by more than 100 ms: a misread) is left out and counted.
 *
 * Nothing here moves the playhead: where it plays is hls.js's own choice (its live sync position,
 * its catch-up playback rate, its seek back when too far behind), and stalls are counted. Each
 * frame's figure splits in two: hls.js's own latency estimate (how far behind the newest media
 * its last playlist listed it plays: its buffer, the settings' doing) and the rest (how old that
 * media already was when the player saw it listed: the server side's doing, plus the playlist
 * reload's phase). For one tier's stream (`--hops`), the server side splits further
 * (bench/lib/hops.ts): capture -> part (or segment) on disk, on disk -> listed in the edge's
 * playlist, and what is left between that and the player.
 *
 *   The command line: `program`, below (npm run bench -- glass --help).
 */
/** The WebRTC tiers: an RTMP publisher through the gateway's bridge, and a browser's WHIP publisher. */
type WebRtcTier = 'ultra-low' | 'ultra-low-whip';
type Tier = HlsTier | WebRtcTier;
const TIER_NAMES = ['standard', 'low', 'ultra-low', 'ultra-low-whip'] as const satisfies readonly Tier[];
const isHls = (t: Tier): t is HlsTier => t === 'standard' || t === 'low';

function tierName(name: string): Tier {
  const tier = TIER_NAMES.find((t) => t === name);
  if (!tier) throw new InvalidArgumentError(`no tier "${name}"; tiers: ${TIER_NAMES.join(', ')}`);
  return tier;
}

const program = tool({
  name: 'bench glass',
  command: 'npm run bench -- glass',
  description:
    'Glass-to-glass latency as a viewer sees it: hls.js in headless Chromium on the web page, per tier, ' +
    'against node-media-server, with a per-hop breakdown of one HLS tier.',
  examples: [
    'npm run bench -- glass --seconds 60 --joins 6 --settle 10 --tiers standard,low,ultra-low,ultra-low-whip --hops low',
    'npm run bench -- glass --tiers ultra-low --no-write',
  ],
})
  .option('--seconds <S>', 'seconds sampled per tier and player', decimal({ above: 0 }), 60)
  .option('--joins <J>', 'fresh page loads per player, sampled in turn', integer(1), 6)
  .option('--settle <S>', "seconds after a join's first frame before sampling", decimal({ atLeast: 0 }), 10)
  .addOption(
    listOption(
      '--tiers <T,...>',
      "latency tiers to measure: standard and low over LL-HLS; ultra-low (RTMP publisher) and ultra-low-whip (a browser's canvas over WHIP) over WebRTC (WHEP)",
      tierName,
      ['standard', 'low'],
    ),
  )
  .addOption(
    new Option('--hops <tier>', 'the HLS tier whose stream gets the per-hop breakdown, or none (default: low)').choices(
      ['standard', 'low', 'none'] as const,
    ),
  )
  .option('--no-write', 'print only; leave bench/results/glass.json as it is');
const { options: values } = parse(program);
const SECONDS = values.seconds;
const JOINS = values.joins;
const SETTLE = values.settle;
const TIERS = values.tiers;
const HLS_TIERS: string[] = TIERS.filter(isHls);
/** The tier whose stream the hops are watched on: low when measured (the tier after 1 s), else the first HLS one. */
const HOPS = values.hops ?? (HLS_TIERS.includes('low') ? 'low' : (HLS_TIERS[0] ?? 'none'));
if (HOPS !== 'none' && !HLS_TIERS.includes(HOPS))
  usageError(program, `--hops ${HOPS}: one of the HLS tiers measured, or none`);
const tiers = TIERS;
/** The stream each tier is measured on: its latency mode as the lifecycle event names it. */
const LATENCY_MODE: Record<HlsTier, EventLatencyMode> = { standard: 'STANDARD', low: 'LOW' };
const ULTRA_LOW_TARGET =
  "< 500 ms p50 (seed: ultra-low tier, under 500 ms glass to glass over WebRTC; issue #21's goal on this machine: <= 300 ms)";
/** The seed's targets, glass to glass: standard p95 < 3 s, low p50 < 1 s. */
const TARGETS: Record<Tier, { p: number; ms: number; text: string }> = {
  standard: { p: 95, ms: 3000, text: '< 3000 ms p95 (seed: standard tier, under 3 s glass to glass)' },
  low: { p: 50, ms: 1000, text: '< 1000 ms p50 (seed: low-latency tier, under 1 s glass to glass)' },
  'ultra-low': { p: 50, ms: 500, text: ULTRA_LOW_TARGET },
  'ultra-low-whip': { p: 50, ms: 500, text: ULTRA_LOW_TARGET },
};
const require = createRequire(import.meta.url);
const HLS_JS = (require('hls.js/package.json') as { version: string }).version;
const MISREAD_MS = 100;
/** Segments in a live playlist: the packager's default window, and node-media-server's as set up. */
const WINDOW = 6;
/** The settings each tier's player runs with: the page's, for a live stream of that mode. */
const player = (tier: HlsTier) => ({
  config: hlsConfig(tier, true),
  followLive: followLive.toString(),
  fallbackSyncDurationCount: liveSyncFallback(tier),
  catchUpRate: catchUpRate(tier),
});

/** What one player showed, over all its joins. */
interface PlayerResult {
  /** Glass to glass of each sampled frame read right, ms. */
  g2g: number[];
  /** hls.js's own latency estimate at each of those frames (how far behind the newest listed media it plays), ms. */
  holdBack: number[];
  /** Median glass to glass of each join. */
  joinP50: number[];
  /** Over WebRTC, per sampled frame: made -> its last packet received by the viewer's browser, ms. */
  network: number[];
  /** Over WebRTC, per sampled frame: last packet received -> expected on screen (jitter buffer, decode, render), ms. */
  browser: number[];
  frames: number;
  misreads: number;
  stalls: number;
  stalledMs: number;
  seeks: number;
  /** Frames shown while hls.js played faster than 1x to catch up. */
  fast: number;
  /** hls.js's target latency at the end of each join, s (it grows with each stall). */
  targetLatency: Array<number | null>;
  /** hls.js's seek-back bound at the end of each join, s. */
  maxLatency: Array<number | null>;
  /** The media playlist as hls.js last read it. */
  playlist: ProbeState['playlist'];
  heights: number[];
  errors: Record<string, number>;
}

const emptyResult = (): PlayerResult => ({
  g2g: [],
  holdBack: [],
  joinP50: [],
  network: [],
  browser: [],
  frames: 0,
  misreads: 0,
  stalls: 0,
  stalledMs: 0,
  seeks: 0,
  fast: 0,
  targetLatency: [],
  maxLatency: [],
  playlist: null,
  heights: [],
  errors: {},
});

/** The page the players load: hls.js, and the helper tsx's compiler expects beside startProbe. */
async function servePage(): Promise<{ url: string; close: () => void }> {
  const hlsJs = readFileSync(require.resolve('hls.js/dist/hls.min.js'));
  // tsx compiles with esbuild's keepNames, which wraps the probe's inner functions in __name();
  // Playwright sends the function's source alone, so the page supplies a no-op __name.
  const html =
    '<!doctype html><meta charset="utf-8"><title>glass</title>' +
    '<script>window.__name = (f) => f;</script><script src="/hls.min.js"></script><body></body>';
  const server = createServer((req, res) => {
    const js = req.url === '/hls.min.js';
    res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html' });
    res.end(js ? hlsJs : html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
}

/** The page's wall clock minus ours (ms), from a round trip's midpoint. */
async function clockOffset(page: Page): Promise<number> {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 10; i++) {
    const before = now();
    const theirs = await page.evaluate(() => performance.timeOrigin + performance.now());
    const after = now();
    if (after - before < best.rtt) best = { rtt: after - before, offset: theirs - (before + after) / 2 };
  }
  return best.offset;
}

/** Adds one join's frames presented in [from, to) (our clock) to `r`. */
function addJoin(r: PlayerResult, s: ProbeState, startedAt: number, offset: number, from: number, to: number): void {
  // Over WebRTC a frame's media time is its RTP timestamp (90 kHz), which moves with its code.
  const at = (t: number) => t - offset;
  const frames = s.frames.filter((f) => at(f.shownAt) >= from && at(f.shownAt) < to);
  if (!frames.length) throw new Error(`no frame presented in the sampling window (${s.frames.length} in all)`);
  // A frame's code and media time move together; a code off that line was misread.
  const skew = frames.map((f) => f.code - (f.rtpTime === null ? f.mediaTime * 1000 : f.rtpTime / 90));
  const median = pct(skew, 50);
  const good = frames.filter((_, i) => Math.abs(skew[i]! - median) <= MISREAD_MS);
  const g2g = good.map((f) => at(f.shownAt) - (startedAt + f.code));
  const stalls = [
    ...s.stalls,
    ...(s.stalledSince === null ? [] : [{ at: s.stalledSince, ms: s.frames.at(-1)!.shownAt - s.stalledSince }]),
  ].filter((x) => at(x.at) >= from && at(x.at) < to);
  r.g2g.push(...g2g);
  r.holdBack.push(...good.map((f) => f.hlsLatency * 1000));
  for (const f of good)
    if (f.receivedAt !== null) {
      r.network.push(at(f.receivedAt) - (startedAt + f.code));
      r.browser.push(f.shownAt - f.receivedAt);
    }
  r.joinP50.push(pct(g2g, 50));
  r.frames += frames.length;
  r.misreads += frames.length - good.length;
  r.stalls += stalls.length;
  r.stalledMs += Math.round(stalls.reduce((sum, x) => sum + x.ms, 0));
  r.seeks += s.seeks.filter((t) => at(t) >= from && at(t) < to).length;
  r.fast += frames.filter((f) => f.playbackRate > 1).length;
  r.targetLatency.push(s.targetLatency);
  r.maxLatency.push(s.maxLatency);
  r.playlist = s.playlist;
  r.heights = [...new Set([...r.heights, ...frames.map((f) => f.height)])].sort((a, b) => a - b);
  for (const [k, n] of Object.entries(s.errors)) r.errors[k] = (r.errors[k] ?? 0) + n;
}

/**
 * Until the media playlist's window is full, as a viewer of a stream that has been live a while
 * finds it: `WINDOW` segments listed, or the first ones already gone (a shorter window). In a
 * stream's first seconds the window is shorter than a plain-HLS player's target latency, so it
 * would start nearer the edge than it stays.
 */
async function untilWindowFull(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const res = await fetch(url);
    if (res.ok) {
      const p = parseMediaPlaylist(await res.text());
      if (p.segments.length >= WINDOW || p.mediaSequence > 0) return;
    } else await res.arrayBuffer();
    await sleep(500);
  }
  throw new Error(`${url} never listed ${WINDOW} segments`);
}

/**
 * One player with `tier`'s settings on one live stream, joining `JOINS` times in turn (a fresh
 * page and hls.js each time: where a player settles depends on the moment it joins), sampled from
 * `SETTLE` after each join's first frame.
 */
async function watch(browser: Browser, pageUrl: string, run: LiveRun, tier: HlsTier): Promise<PlayerResult> {
  await untilWindowFull(run.media);
  const out = emptyResult();
  const context = await browser.newContext({ viewport: { width: 800, height: 450 } });
  try {
    const page = await context.newPage();
    for (let j = 0; j < JOINS; j++) {
      await page.goto(pageUrl);
      await page.evaluate(startProbe, { url: run.master, ...player(tier), bits: BITS, codeLine: STRIP / 2 / HEIGHT });
      await page.waitForFunction(
        () => (window as unknown as { glass: ProbeState }).glass.frames.length > 0,
        undefined,
        { timeout: 120_000, polling: 100 },
      );
      const from = now() + SETTLE * 1000;
      const to = from + (SECONDS * 1000) / JOINS;
      await sleep(to - now() + 300);
      const offset = await clockOffset(page);
      const state = await page.evaluate(() => (window as unknown as { glass: ProbeState }).glass);
      addJoin(out, state, run.pub.startedAt(), offset, from, to);
    }
    return out;
  } finally {
    await context.close();
  }
}

/**
 * One WebRTC player (the browser's RTCPeerConnection over WHEP) on a live ultra-low stream,
 * joining `JOINS` times in turn like `watch`; `startedAt` is the publisher's start on our clock.
 */
async function watchWhep(
  browser: Browser,
  pageUrl: string,
  whep: string,
  startedAt: () => number,
): Promise<PlayerResult> {
  const out = emptyResult();
  const context = await browser.newContext({ viewport: { width: 800, height: 450 } });
  try {
    const page = await context.newPage();
    for (let j = 0; j < JOINS; j++) {
      await page.goto(pageUrl);
      await page.evaluate(startProbe, {
        url: whep,
        whep,
        config: {},
        followLive: '() => undefined',
        catchUpRate: 1,
        fallbackSyncDurationCount: 0,
        bits: BITS,
        codeLine: STRIP / 2 / HEIGHT,
      });
      await page.waitForFunction(
        () => (window as unknown as { glass: ProbeState }).glass.frames.length > 0,
        undefined,
        { timeout: 60_000, polling: 100 },
      );
      const from = now() + SETTLE * 1000;
      const to = from + (SECONDS * 1000) / JOINS;
      await sleep(to - now() + 300);
      const offset = await clockOffset(page);
      const state = await page.evaluate(() => (window as unknown as { glass: ProbeState }).glass);
      addJoin(out, state, startedAt(), offset, from, to);
    }
    return out;
  } finally {
    await context.close();
  }
}

/**
 * The browser publisher's run: a page in its own context publishes the canvas clock over WHIP
 * (startCanvasPublisher) to a fresh ultra-low stream; once the stream is live (its HLS playlist
 * is served), `watchWhep` plays it. The publisher's start is taken to our clock with its page's
 * measured offset.
 */
async function watchWhip(browser: Browser, pageUrl: string): Promise<PlayerResult> {
  return withStream({ latencyMode: 'ULTRA_LOW', webrtc: {} }, async ({ pipeline, streamId, key, webrtc }) => {
    const context = await browser.newContext({ viewport: { width: 800, height: 450 } });
    try {
      const page = await context.newPage();
      await page.goto(pageUrl);
      const pub: CanvasPublisherState = await page.evaluate(startCanvasPublisher, {
        whip: `${webrtc!.url}/whip`,
        key,
        bits: BITS,
        width: WIDTH,
        height: HEIGHT,
        strip: STRIP,
        fps: 30,
      });
      if (pub.status !== 201) throw new Error(`WHIP answered ${pub.status}`);
      await untilServed(pipeline.edgeFile(streamId, '360p.m3u8'));
      const offset = await clockOffset(page);
      return await watchWhep(browser, pageUrl, `${webrtc!.url}/whep/${streamId}`, () => pub.startedAt - offset);
    } finally {
      await context.close();
    }
  });
}

/** Ours, with the hops watched on the same stream while the player plays it, when asked. */
async function watchOurs(
  browser: Browser,
  pageUrl: string,
  run: LiveRun,
  tier: HlsTier,
): Promise<{ player: PlayerResult; hops: Hops | null; cores: Record<string, number> | null }> {
  const meter = run.pids && cpuMeter(run.pids);
  if (HOPS !== tier || !run.mediaDir) {
    const player = await watch(browser, pageUrl, run, tier);
    return { player, hops: null, cores: meter?.stop() ?? null };
  }
  const hops = watchHops({ dir: run.mediaDir, playlist: run.media, ffmpeg }, run.pub.startedAt);
  // Stopped (and the copied files read) while the publisher still runs: the run ends after.
  try {
    const result = await watch(browser, pageUrl, run, tier);
    return { player: result, hops: await hops.stop(), cores: meter?.stop() ?? null };
  } catch (err) {
    await hops.stop().catch(() => undefined);
    throw err;
  }
}

/** Everything a reader needs about one player's run, in one line. */
const summary = (p: PlayerResult): string => {
  const delivery = p.g2g.map((g, i) => g - p.holdBack[i]!);
  const pl = p.playlist;
  const playlist = pl
    ? pl.parts
      ? `LL-HLS playlist (PART-HOLD-BACK ${pl.partHoldBack} s, target duration ${pl.targetDuration} s, ` +
        `blocking reload ${pl.canBlockReload ? 'yes' : 'no'})`
      : `plain HLS playlist (no parts; HOLD-BACK ${pl.holdBack || 'none'}, target duration ${pl.targetDuration} s, ` +
        `blocking reload ${pl.canBlockReload ? 'yes' : 'no'})`
    : 'no playlist read';
  return (
    `${p.g2g.length} frames in ${p.joinP50.length} joins (p50 ${pct(p.g2g, 50)} ms, p95 ${pct(p.g2g, 95)} ms, ` +
    `max ${pct(p.g2g, 100)} ms; each join's p50 ${p.joinP50.join('/')} ms), ${p.misreads} misread; ${playlist}; ` +
    `hls.js behind the newest listed media p50 ${pct(p.holdBack, 50)} ms (target ${p.targetLatency.map(round2).join('/')} s, ` +
    `seek back beyond ${p.maxLatency.map(round2).join('/')} s) + that media's age when the player saw it listed p50 ` +
    `${pct(delivery, 50)} ms; stalls ${p.stalls} (${p.stalledMs} ms), seeks ${p.seeks}, ` +
    `${Math.round((p.fast / p.frames) * 100)}% of frames at a catch-up rate above 1x; ` +
    `renditions ${p.heights.join('/')} lines; hls.js errors ${JSON.stringify(p.errors)}`
  );
};
/** The same for a WebRTC player. */
const webrtcSummary = (p: PlayerResult): string =>
  `${p.g2g.length} frames in ${p.joinP50.length} joins (p50 ${pct(p.g2g, 50)} ms, p95 ${pct(p.g2g, 95)} ms, ` +
  `max ${pct(p.g2g, 100)} ms; each join's p50 ${p.joinP50.join('/')} ms), ${p.misreads} misread; made -> last ` +
  `packet received by the browser p50 ${pct(p.network, 50)} ms (p95 ${pct(p.network, 95)}), received -> on screen ` +
  `p50 ${pct(p.browser, 50)} ms (p95 ${pct(p.browser, 95)}); stalls ${p.stalls} (${p.stalledMs} ms); picture ` +
  `${p.heights.join('/')} lines; errors ${JSON.stringify(p.errors)}`;
const round2 = (x: number | null): string => (x === null ? '?' : String(Math.round(x * 100) / 100));

const { ffmpeg } = mediaTools();
console.log(
  `glass bench: 640x360 15 fps publish, tiers ${tiers.join(', ')}, hls.js ${HLS_JS} in Chromium, ${JOINS} joins ` +
    `per stream, each ${SETTLE} s settle + ${SECONDS / JOINS} s sampled; ours then node-media-server per tier`,
);
const page = await servePage();
const browser = await launchChromium();
const probe = await browser.newPage();
const h264 = await probe.evaluate(() => MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001e,mp4a.40.2"'));
await probe.close();
if (!h264) throw new Error('this Chromium cannot play H.264/AAC through Media Source Extensions');

interface TierResult {
  segmentMs: number;
  ours: PlayerResult;
  peer: PlayerResult;
  hops: Hops | null;
  /** Cores used by the packager, origin and edge (nginx included) while our player watched. */
  cores: Record<string, number> | null;
  /** 1-minute load average as each measurement ended: it covers most of the sampled span. */
  loadOurs: string;
  loadPeer: string;
}
const results = new Map<HlsTier, TierResult>();
const webrtcResults = new Map<WebRtcTier, { ours: PlayerResult; load: string }>();
try {
  for (const tier of tiers) {
    if (!isHls(tier)) {
      const ours =
        tier === 'ultra-low'
          ? await withPlatform(
              ffmpeg,
              { latencyMode: 'ULTRA_LOW', segmentMs: segmentDurationMs('ULTRA_LOW'), webrtc: {} },
              (run) => watchWhep(browser, page.url, run.whep!.url, run.pub.startedAt),
            )
          : await watchWhip(browser, page.url);
      const load = loadAverage();
      console.log(`platform, ${tier} tier over WebRTC (load ${load}): ${webrtcSummary(ours)}`);
      webrtcResults.set(tier, { ours, load });
      continue;
    }
    const segmentMs = segmentDurationMs(LATENCY_MODE[tier]);
    const ours = await withPlatform(ffmpeg, { latencyMode: LATENCY_MODE[tier], segmentMs }, (run) =>
      watchOurs(browser, page.url, run, tier),
    );
    const loadOurs = loadAverage();
    console.log(`platform, ${tier} tier (load ${loadOurs}): ${summary(ours.player)}`);
    if (ours.hops) console.log(`platform, ${tier} tier, hops: ${hopsSummary(ours.hops)}`);
    const peer = await withNodeMediaServer(ffmpeg, { segmentMs }, (run) => watch(browser, page.url, run, tier));
    const loadPeer = loadAverage();
    console.log(`node-media-server, ${tier} tier settings (load ${loadPeer}): ${summary(peer)}`);
    results.set(tier, { segmentMs, ours: ours.player, peer, hops: ours.hops, cores: ours.cores, loadOurs, loadPeer });
  }
} finally {
  await browser.close();
  page.close();
}

const settings = (tier: HlsTier): string =>
  Object.entries(hlsConfig(tier, true))
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ') +
  `; on the instance: plain-HLS target ${liveSyncFallback(tier)} target durations, seek back beyond 2 x target + 1 target duration`;
const peerName = (r: TierResult): string => `${NMS_PEER}, ${r.segmentMs / 1000} s segments`;

/** Glass to glass of one tier at percentile `p`: against the seed's target where it sets one at `p`. */
const g2gMetric = (tier: HlsTier, p: number): Metric => {
  const r = results.get(tier)!;
  const value = pct(r.ours.g2g, p);
  const peer = pct(r.peer.g2g, p);
  const t = TARGETS[tier];
  return {
    metric: `glass to glass, ${tier} tier (latency_mode ${tier}, ${r.segmentMs / 1000} s segments), hls.js with the page's ${tier} settings, p${p}`,
    value,
    unit: 'ms',
    peer: { name: peerName(r), value: peer },
    ratio: ratio(value, peer),
    target: t.p === p ? t.text : `report only (the seed's target for this tier is ${t.text})`,
    meetsTarget: t.p === p ? value < t.ms : null,
  };
};

const WEBRTC_SOURCE: Record<WebRtcTier, string> = {
  'ultra-low': "the rig's ffmpeg publisher over RTMP, through the gateway's RTMP bridge (H.264 copied)",
  'ultra-low-whip': "a browser's canvas clock published over WHIP (Chromium's H.264 encoder)",
};
const LOW_PEER = "this platform's low tier (LL-HLS, hls.js), same run";

/** Glass to glass of one WebRTC tier at percentile `p`, beside the low tier's over LL-HLS when measured. */
const webrtcMetric = (tier: WebRtcTier, p: number): Metric => {
  const r = webrtcResults.get(tier)!;
  const value = pct(r.ours.g2g, p);
  const low = results.get('low');
  const peer = low ? pct(low.ours.g2g, p) : null;
  const t = TARGETS[tier];
  return {
    metric: `glass to glass, ${tier} tier (latency_mode ultra_low; ${WEBRTC_SOURCE[tier]}), WHEP in Chromium, p${p}`,
    value,
    unit: 'ms',
    peer: peer === null ? null : { name: LOW_PEER, value: peer },
    ratio: peer === null ? null : ratio(value, peer),
    target: t.p === p ? t.text : `report only (the seed's target for this tier is ${t.text})`,
    meetsTarget: t.p === p ? value < t.ms : null,
  };
};

/** Where a WebRTC tier's time goes: before and after the frame's last packet reached the browser. */
function webrtcHopMetrics(tier: WebRtcTier): Metric[] {
  const r = webrtcResults.get(tier)!.ours;
  if (!r.network.length) return [];
  const row = (metric: string, xs: number[], notes: string): Metric => ({
    metric: `hop, ${tier} tier: ${metric}, p50`,
    value: pct(xs, 50),
    unit: 'ms',
    peer: null,
    ratio: null,
    target: 'report only (where the glass-to-glass time goes)',
    meetsTarget: null,
    notes: `${notes} p95 ${pct(xs, 95)} ms, ${xs.length} frames.`,
  });
  const path =
    tier === 'ultra-low'
      ? "The publisher's encode and RTMP send, the ingest's relay to the bridge's ffmpeg (its RTMP pull and RTP packetizing), the gateway's forwarding (werift SRTP) and loopback UDP."
      : "Chromium's canvas capture and H.264 encode, WHIP to the gateway (werift), its forwarding to the viewer (SRTP) and loopback UDP.";
  return [
    row(
      "(1) frame made -> its last packet received by the viewer's browser",
      r.network,
      `requestVideoFrameCallback's receiveTime - the frame's code (the publisher's clock). ${path}`,
    ),
    row(
      '(2) last packet received -> expected on screen',
      r.browser,
      "expectedDisplayTime - receiveTime: the browser's jitter buffer (its playout delay), decode and presentation. (1) + (2) = glass to glass per frame.",
    ),
  ];
}

/** The per-hop rows of the stream the hops were watched on: measured figures only, report only. */
/** Renditions each of our streams has (the rig's 640x360 source: 360p and 160p). */
const RENDITIONS = 2;

/** CPU of the packager, origin and edge per stream and rendition, while one player (and the hop watcher) watched. */
function cpuMetrics(tier: HlsTier): Metric[] {
  const r = results.get(tier)!;
  if (!r.cores) return [];
  return Object.entries(r.cores).map(([service, cores]) => ({
    metric: `CPU of the ${service}, ${tier} tier, per stream per rendition`,
    value: Math.round((cores * 1000) / RENDITIONS),
    unit: 'ms of CPU per s',
    peer: null,
    ratio: null,
    target: 'report only (the issue asks for the cost; it sets no target)',
    meetsTarget: null,
    notes:
      `${service} process${service === 'edge' ? ' (Node wrapper, collapser and nginx)' : ''} over the whole watch (every join, settling and sampling) ` +
      `sampled (/proc utime + stime), one stream of ${RENDITIONS} renditions, ${r.segmentMs / 1000} s segments, ` +
      `one hls.js player${HOPS === tier ? ' and the hop watcher' : ''} through one edge; divided by the renditions.`,
  }));
}

function hopMetrics(tier: HlsTier): Metric[] {
  const r = results.get(tier)!;
  const h = r.hops;
  if (!h) return [];
  const what = h.parts ? 'part' : 'segment';
  const row = (metric: string, value: number, notes: string): Metric => ({
    metric: `hop, ${tier} tier: ${metric}, p50`,
    value,
    unit: 'ms',
    peer: null,
    ratio: null,
    target: 'report only (where the glass-to-glass time goes)',
    meetsTarget: null,
    notes,
  });
  const delivery = r.ours.g2g.map((g, i) => g - r.ours.holdBack[i]!);
  const rest = pct(delivery, 50) - pct(h.endToListed, 50);
  return [
    row(
      `(1) frame made -> its ${what} on disk`,
      pct(h.captureToDisk, 50),
      `First frame of each ${h.parts ? 'independent part (part 0 of a segment)' : 'segment (MPEG-TS: no parts yet)'} -> ` +
        `the file's mtime in the worker's 360p folder, ${h.captureToDisk.length} files, p95 ${pct(h.captureToDisk, 95)} ms; ` +
        `includes the ${what}'s own duration (p50 ${pct(h.duration, 50)} ms): its last frame is made that much later.`,
    ),
    row(
      `(2) ${what} on disk -> listed in the edge's playlist`,
      pct(h.diskToListed, 50),
      `Each ${what}'s mtime -> the first answer through the edge that listed it, read with blocking reloads ` +
        `(_HLS_msn${h.parts ? '/_HLS_part' : ''}) as hls.js does; ${h.diskToListed.length} ${what}s, p95 ` +
        `${pct(h.diskToListed, 95)} ms. The packager, the origin's held request and the edge.`,
    ),
    row(
      '(3) hls.js behind the newest listed media (its latency estimate: target + buffer)',
      pct(r.ours.holdBack, 50),
      `hls.latency at each sampled frame, p95 ${pct(r.ours.holdBack, 95)} ms: the player's own hold-back, the ` +
        `settings' doing (target ${r.ours.targetLatency.map(round2).join('/')} s).`,
    ),
    row(
      "(4) the rest: player side outside hls.js's estimate (glass to glass - (3) - ((1) - duration + (2)))",
      rest,
      `p50 of (glass to glass - hls.js latency) per frame, ${pct(delivery, 50)} ms, minus p50 of (last frame of a ` +
        `keyframe ${what} made -> listed at the edge), ${pct(h.endToListed, 50)} ms: a difference of two measured ` +
        `medians, not a percentile of its own. The playlist's trip from the edge to the player and the phase of its ` +
        `reload, and whatever hls.js's estimate leaves out (its media-time edge against the publisher's clock, ` +
        `decode and presentation). (1) - duration + (2) + (3) + (4) add up to about the glass-to-glass median ` +
        `(p50 ${pct(r.ours.g2g, 50)} ms).`,
    ),
  ];
}

const tierNotes = (tier: Tier): string => {
  if (!isHls(tier)) {
    const w = webrtcResults.get(tier)!;
    return (
      `${tier} tier over WebRTC (${WEBRTC_SOURCE[tier]}, played over WHEP by Chromium's RTCPeerConnection into a ` +
      `muted <video>): ${webrtcSummary(w.ours)}. 1-minute load average ${w.load} at its end.`
    );
  }
  const r = results.get(tier)!;
  return (
    `${tier[0]!.toUpperCase()}${tier.slice(1)} tier (settings: ${settings(tier)}), ours: ${summary(r.ours)}. ` +
    `node-media-server: ${summary(r.peer)}. ${r.hops ? `Hops: ${hopsSummary(r.hops)}. ` : ''}1-minute load average ` +
    `${r.loadOurs} at the end of ours, ${r.loadPeer} at the end of node-media-server's.`
  );
};

const rows: Metric[] = [];
for (const tier of tiers) {
  const t = TARGETS[tier];
  const other = t.p === 50 ? 95 : 50;
  if (isHls(tier)) rows.push(g2gMetric(tier, t.p), g2gMetric(tier, other));
  else rows.push(webrtcMetric(tier, t.p), webrtcMetric(tier, other));
}
for (const tier of tiers) rows.push(...(isHls(tier) ? hopMetrics(tier) : webrtcHopMetrics(tier)));
for (const tier of tiers) if (isHls(tier)) rows.push(...cpuMetrics(tier));
const [head, ...extra] = rows;
if (!values.write) {
  for (const r of rows) console.log(JSON.stringify(r));
  process.exit(0);
}
const file = writeResult('glass', {
  ...head!,
  command:
    `npm run bench -- glass --seconds ${SECONDS} --joins ${JOINS} --settle ${SETTLE} --tiers ${tiers.join(',')} ` +
    `--hops ${HOPS}`,
  notes:
    'Per presented frame: when Chromium expects it on screen (requestVideoFrameCallback) minus when the publisher ' +
    'made it (a bar-code clock burnt into the picture, read back through a canvas); the display itself adds ' +
    `nothing here (headless). hls.js ${HLS_JS} in headless Chromium, muted, one player per stream with the web ` +
    "page's settings for the stream's tier. Ours: the edge's master playlist (ingest -> worker ladder 360p+160p " +
    'libx264 ultrafast -> packager -> origin -> nginx edge), one stream per tier, latency_mode standard (2 s ' +
    "segments) and low (1 s). node-media-server: its index.m3u8 (copies the H.264 into segments of the tier's " +
    `duration), played with the same tier's settings. Each player joined ${JOINS} times once the playlist window ` +
    `was full, sampled from ${SETTLE} s after each first frame. ${tiers.map(tierNotes).join(' ')} On this ` +
    `${cpus().length}-core machine shared with the platform's other services.`,
  extra,
});
console.log(`wrote ${file}`);
process.exit(0);
