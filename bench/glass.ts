import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../tests/support/browser.ts';
import { mediaTools } from '../tests/support/hls.ts';
import { parseMediaPlaylist } from '../tests/support/media-pipeline.ts';
import { hlsConfig } from '../web/src/lib/format.ts';
import { startProbe, type ProbeState } from './lib/glass-probe.ts';
import {
  BITS,
  HEIGHT,
  loadAverage,
  NMS_PEER,
  now,
  pct,
  sleep,
  STRIP,
  withNodeMediaServer,
  withPlatform,
  type LiveRun,
} from './lib/live-rig.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';

/**
 * Glass to glass: from a frame being made by the publisher to that frame on a viewer's screen,
 * played by hls.js in Chromium, for this platform (the edge's master playlist) and
 * node-media-server (its RTMP -> HLS path), one after the other in the same run on this machine:
 *
 *   - the publisher (bench/lib/live-rig.ts) burns a bar-code clock of each frame's own time into
 *     the picture and gives the wall-clock moment its media time was 0;
 *   - headless Chromium (Debian's, with its H.264 decoder) loads a page served by this process
 *     (so the player is cross-origin to the stream, as the web page is) that plays the stream with
 *     hls.js and the web page's own settings (`hlsConfig` of web/src/lib/format.ts), muted;
 *   - every presented frame (requestVideoFrameCallback) is read back through a canvas
 *     (bench/lib/glass-probe.ts): glass to glass = the moment it is expected on screen - (publisher
 *     start + its bar code). The page and this process read the same machine clock; their offset
 *     (`performance.timeOrigin` differs per process by well under a millisecond) is measured and
 *     taken out anyway;
 *   - two players watch each stream at once, each in its own browser context: the "low" latency
 *     mode's settings (the figure the issue asks for: a player configured for low latency on 2 s
 *     segments) and the "standard" mode's;
 *   - hls.js settles at a fixed distance behind the live edge that depends on the moment it joins,
 *     so each player joins `joins` times (a fresh page each time) and each join is sampled for
 *     `seconds / joins` from `settle` seconds after its first frame (start-up is not the steady
 *     state a viewer lives in). A frame whose code does not match its media time (code - media
 *     time off the join's median by more than 100 ms: a misread) is left out and counted.
 *
 * Nothing here moves the playhead: where it plays is hls.js's own choice (its live sync position,
 * its catch-up playback rate, its seek back when too far behind), and stalls are counted. Each
 * frame's figure splits in two: hls.js's own latency estimate (how far behind the newest media
 * its last playlist listed it plays: its buffer, the settings' doing) and the rest (how old that
 * media already was when the player saw it listed: the server side's doing, plus the playlist
 * reload's phase).
 *
 *   npm run bench -- glass [--seconds S] [--joins J] [--settle S]
 */
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    joins: { type: 'string', default: '6' },
    settle: { type: 'string', default: '10' },
  },
});
const SECONDS = Number(values.seconds);
const JOINS = Number(values.joins);
const SETTLE = Number(values.settle);
const SEGMENT_MS = 2000;
const TARGET_MS = 6000;
const require = createRequire(import.meta.url);
const HLS_JS = (require('hls.js/package.json') as { version: string }).version;
const MISREAD_MS = 100;
/** Segments in a live playlist: the packager's default window, and node-media-server's as set up. */
const WINDOW = 6;
const PLAYERS = { low: hlsConfig('low', true), standard: hlsConfig('standard', true) };
type PlayerName = keyof typeof PLAYERS;
const NAMES = Object.keys(PLAYERS) as PlayerName[];

/** What one player showed, over all its joins. */
interface PlayerResult {
  /** Glass to glass of each sampled frame read right, ms. */
  g2g: number[];
  /** hls.js's own latency estimate at each of those frames (how far behind the newest listed media it plays), ms. */
  holdBack: number[];
  /** Median glass to glass of each join. */
  joinP50: number[];
  frames: number;
  misreads: number;
  stalls: number;
  stalledMs: number;
  seeks: number;
  /** Frames shown while hls.js played faster than 1x to catch up. */
  fast: number;
  /** hls.js's target latency at the end of each join, s (it grows by 1 s per stall). */
  targetLatency: Array<number | null>;
  heights: number[];
  errors: Record<string, number>;
}

const emptyResult = (): PlayerResult => ({
  g2g: [],
  holdBack: [],
  joinP50: [],
  frames: 0,
  misreads: 0,
  stalls: 0,
  stalledMs: 0,
  seeks: 0,
  fast: 0,
  targetLatency: [],
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
  const at = (t: number) => t - offset;
  const frames = s.frames.filter((f) => at(f.shownAt) >= from && at(f.shownAt) < to);
  if (!frames.length) throw new Error(`no frame presented in the sampling window (${s.frames.length} in all)`);
  // A frame's code and media time move together; a code off that line was misread.
  const skew = frames.map((f) => f.code - f.mediaTime * 1000);
  const median = pct(skew, 50);
  const good = frames.filter((_, i) => Math.abs(skew[i]! - median) <= MISREAD_MS);
  const g2g = good.map((f) => at(f.shownAt) - (startedAt + f.code));
  const stalls = [
    ...s.stalls,
    ...(s.stalledSince === null ? [] : [{ at: s.stalledSince, ms: s.frames.at(-1)!.shownAt - s.stalledSince }]),
  ].filter((x) => at(x.at) >= from && at(x.at) < to);
  r.g2g.push(...g2g);
  r.holdBack.push(...good.map((f) => f.hlsLatency * 1000));
  r.joinP50.push(pct(g2g, 50));
  r.frames += frames.length;
  r.misreads += frames.length - good.length;
  r.stalls += stalls.length;
  r.stalledMs += Math.round(stalls.reduce((sum, x) => sum + x.ms, 0));
  r.seeks += s.seeks.filter((t) => at(t) >= from && at(t) < to).length;
  r.fast += frames.filter((f) => f.playbackRate > 1).length;
  r.targetLatency.push(s.targetLatency);
  r.heights = [...new Set([...r.heights, ...frames.map((f) => f.height)])].sort((a, b) => a - b);
  for (const [k, n] of Object.entries(s.errors)) r.errors[k] = (r.errors[k] ?? 0) + n;
}

/** Until the media playlist lists a full window of segments. */
async function untilWindowFull(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const res = await fetch(url);
    if (res.ok && parseMediaPlaylist(await res.text()).segments.length >= WINDOW) return;
    await sleep(500);
  }
  throw new Error(`${url} never listed ${WINDOW} segments`);
}

/**
 * Both players on one live stream, each joining `JOINS` times in turn (a fresh page and hls.js
 * each time: where a player settles depends on the moment it joins) and sampled from `settle`
 * after each join's first frame. The first join waits until the playlist window is full, as a
 * viewer of a stream that has been live a while finds it: in a stream's first seconds the window
 * is shorter than hls.js's target latency, so it would start nearer the edge than it stays.
 */
async function watch(browser: Browser, pageUrl: string, run: LiveRun): Promise<Record<PlayerName, PlayerResult>> {
  await untilWindowFull(run.media);
  const out = Object.fromEntries(NAMES.map((n) => [n, emptyResult()])) as Record<PlayerName, PlayerResult>;
  const contexts = await Promise.all(NAMES.map(() => browser.newContext({ viewport: { width: 800, height: 450 } })));
  try {
    await Promise.all(
      NAMES.map(async (name, i) => {
        const page = await contexts[i]!.newPage();
        for (let j = 0; j < JOINS; j++) {
          await page.goto(pageUrl);
          await page.evaluate(startProbe, {
            url: run.master,
            config: PLAYERS[name],
            bits: BITS,
            codeLine: STRIP / 2 / HEIGHT,
          });
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
          addJoin(out[name], state, run.pub.startedAt(), offset, from, to);
        }
      }),
    );
    return out;
  } finally {
    for (const c of contexts) await c.close();
  }
}

/** Everything a reader needs about one player's run, in one line. */
const summary = (p: PlayerResult): string => {
  const delivery = p.g2g.map((g, i) => g - p.holdBack[i]!);
  return (
    `${p.g2g.length} frames in ${p.joinP50.length} joins (p50 ${pct(p.g2g, 50)} ms, p95 ${pct(p.g2g, 95)} ms, ` +
    `max ${pct(p.g2g, 100)} ms; each join's p50 ${p.joinP50.join('/')} ms), ${p.misreads} misread; ` +
    `hls.js behind the newest listed media p50 ${pct(p.holdBack, 50)} ms (target ${p.targetLatency.join('/')} s) ` +
    `+ that media's age when the player saw it listed p50 ${pct(delivery, 50)} ms; stalls ${p.stalls} (${p.stalledMs} ms), ` +
    `seeks ${p.seeks}, ${Math.round((p.fast / p.frames) * 100)}% of frames at a catch-up rate above 1x; ` +
    `renditions ${p.heights.join('/')} lines; hls.js errors ${JSON.stringify(p.errors)}`
  );
};

const { ffmpeg } = mediaTools();
console.log(
  `glass bench: 640x360 15 fps publish, 2 s segments, hls.js ${HLS_JS} in Chromium, ${JOINS} joins per player, ` +
    `each ${SETTLE} s settle + ${SECONDS / JOINS} s sampled; each system in turn`,
);
const page = await servePage();
const browser = await launchChromium();
const probe = await browser.newPage();
const h264 = await probe.evaluate(() => MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001e,mp4a.40.2"'));
await probe.close();
if (!h264) throw new Error('this Chromium cannot play H.264/AAC through Media Source Extensions');
let ours: Record<PlayerName, PlayerResult>;
let peer: Record<PlayerName, PlayerResult>;
let loadOurs: string;
let loadPeer: string;
try {
  ours = await withPlatform(ffmpeg, { latencyMode: 'STANDARD', segmentMs: SEGMENT_MS }, (run) =>
    watch(browser, page.url, run),
  );
  // The 1-minute load average as each measurement ends: it covers most of the sampled span.
  loadOurs = loadAverage();
  for (const n of NAMES) console.log(`platform (load ${loadOurs}), ${n} player: ${summary(ours[n])}`);
  peer = await withNodeMediaServer(ffmpeg, { segmentMs: SEGMENT_MS }, (run) => watch(browser, page.url, run));
  loadPeer = loadAverage();
  for (const n of NAMES) console.log(`node-media-server (load ${loadPeer}), ${n} player: ${summary(peer[n])}`);
} finally {
  await browser.close();
  page.close();
}

const settings = (name: PlayerName): string =>
  Object.entries(PLAYERS[name])
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
const metric = (name: PlayerName, p: number): Metric => ({
  metric: `glass to glass, hls.js with the ${name}-latency settings, p${p}`,
  value: pct(ours[name].g2g, p),
  unit: 'ms',
  peer: { name: NMS_PEER, value: pct(peer[name].g2g, p) },
  ratio: ratio(pct(ours[name].g2g, p), pct(peer[name].g2g, p)),
  target:
    name === 'low'
      ? `<= ${TARGET_MS} ms with 2 s segments, player configured for low latency, p95`
      : 'none (the standard mode, for reference)',
  meetsTarget: name === 'low' && p === 95 ? pct(ours[name].g2g, p) <= TARGET_MS : null,
});
const file = writeResult('glass', {
  ...metric('low', 95),
  command: `npm run bench -- glass --seconds ${SECONDS} --joins ${JOINS} --settle ${SETTLE}`,
  notes:
    'Per presented frame: when Chromium expects it on screen (requestVideoFrameCallback) minus when the publisher ' +
    'made it (a bar-code clock burnt into the picture, read back through a canvas); the display itself adds ' +
    `nothing here (headless). hls.js ${HLS_JS} in headless Chromium, muted, with the web page's settings for the ` +
    `"low" mode (${settings('low')}) and, watching at once, for "standard" (${settings('standard')}). Ours: the ` +
    "edge's master playlist (ingest -> worker ladder 360p+160p libx264 ultrafast -> packager -> origin -> nginx " +
    'edge, 2 s segments). node-media-server: its index.m3u8 (copies the H.264 into 2 s segments). Each player ' +
    `joined ${JOINS} times once the 6-segment window was full, sampled from ${SETTLE} s after each first frame. ` +
    `Low-latency player, ours: ${summary(ours.low)}. node-media-server: ${summary(peer.low)}. Standard player, ours: ` +
    `${summary(ours.standard)}. node-media-server: ${summary(peer.standard)}. 1-minute load average ${loadOurs} at ` +
    `the end of ours, ${loadPeer} at the end of node-media-server's, on this 2-core machine shared with the ` +
    "platform's other services.",
  extra: [metric('low', 50), metric('standard', 95), metric('standard', 50)],
});
console.log(`wrote ${file}`);
process.exit(0);
