import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import NodeMediaServer from 'node-media-server';
import { testBus } from '../tests/support/bus.ts';
import { freePort, mediaTools } from '../tests/support/hls.ts';
import { MediaPipeline, parseMediaPlaylist } from '../tests/support/media-pipeline.ts';
import { streamEvents } from '../tests/support/stream-events.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';

/**
 * Live latency, from a frame entering ingest to its segment being listed in the playlist players
 * load, for this platform (through the edge) and node-media-server (its RTMP -> HLS path), one
 * after the other in the same run on this machine, with the same publisher:
 *
 *   - the publisher is ffmpeg (-re, 640x360 at 15 fps, a tone, a keyframe every 2 s) whose picture
 *     carries a burnt-in clock: a 24-block bar code of the frame's own time since the publisher
 *     started (ms), drawn by `geq` from the frame's timestamp. The publisher's start on the wall
 *     clock comes from its -progress reports (the smallest wall - media time seen), so a frame's
 *     wall time is that start + the time in its bar code: the moment it was made and sent;
 *   - the playlist players load (the edge's 360p media playlist for us, node-media-server's
 *     index.m3u8 from its own HTTP server) is polled every 100 ms; each new segment's first frame is
 *     decoded afterwards and its bar code read;
 *   - latency of a segment = when it first appeared in the playlist - wall time of its first frame.
 *     A segment cannot be listed before its last frame exists, so the floor is the segment
 *     duration; the target is segment duration + 1 s at p95.
 *
 * node-media-server transmuxes (copies the publisher's H.264 into 2 s segments, no ladder) where
 * this platform transcodes a ladder, packages from events and serves through an nginx edge.
 * No glass-to-glass figure with a real player: that was not built.
 *
 *   npm run bench -- latency [--seconds S]
 */
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const SECONDS = Number(values.seconds);
const SEGMENT_MS = 2000;
const BITS = 24;
const WIDTH = 640;
const STRIP = 48;
const POLL_MS = 100;
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Publisher {
  /** Wall-clock ms at which the publisher's media time was 0 (best estimate so far). */
  startedAt: () => number;
  exited: Promise<number | null>;
  stop: () => void;
}

/** ffmpeg publishing a test pattern under a bar code of each frame's own time (ms), with a tone. */
function publish(url: string, ffmpeg: string): Publisher {
  const bit = `mod(floor(round(T*1000)/pow(2,${BITS - 1}-floor(X*${BITS}/W))),2)`;
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${WIDTH}x${360 - STRIP}:rate=15`,
    '-f',
    'lavfi',
    '-i',
    `color=black:size=${WIDTH}x${STRIP}:rate=15`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-filter_complex',
    `[1:v]format=gray,geq=lum='255*${bit}'[code];[code][0:v]vstack=shortest=1,format=yuv420p[v]`,
    '-map',
    '[v]',
    '-map',
    '2:a',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-g',
    '30',
    '-keyint_min',
    '30',
    '-sc_threshold',
    '0',
    '-b:v',
    '1000k',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
    '-progress',
    'pipe:1',
    '-stats_period',
    '0.2',
    '-f',
    'flv',
    url,
  ];
  const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let best = Infinity;
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    const at = now();
    buf += d.toString();
    for (const m of buf.matchAll(/^out_time_us=(\d+)$/gm)) best = Math.min(best, at - Number(m[1]) / 1000);
    buf = buf.slice(buf.lastIndexOf('\n') + 1);
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      if (code && code !== 255) console.error(`publisher exited ${code}: ${err}`);
      r(code);
    }),
  );
  return { startedAt: () => best, exited, stop: () => child.kill('SIGINT') };
}

/** The bar code of the first video frame of a segment: ms since the publisher started. */
async function readCode(segmentUrl: string, ffmpeg: string): Promise<number> {
  const out = await new Promise<Buffer>((resolve, reject) => {
    const child = spawn(
      ffmpeg,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-i',
        segmentUrl,
        '-frames:v',
        '1',
        '-vf',
        `crop=iw:ih*${STRIP - 8}/360:0:4,scale=${BITS}:1:flags=area,format=gray`,
        '-f',
        'rawvideo',
        '-',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg ${code} on ${segmentUrl}`)),
    );
  });
  if (out.length < BITS) throw new Error(`no frame in ${segmentUrl}`);
  let v = 0;
  for (let k = 0; k < BITS; k++) v = v * 2 + (out[k]! >= 128 ? 1 : 0);
  return v;
}

/**
 * Polls a media playlist until `seconds` have passed; returns when each segment was first listed
 * (absolute URL -> wall ms).
 */
async function watch(playlistUrl: string, seconds: number): Promise<Map<string, number>> {
  const firstSeen = new Map<string, number>();
  const until = now() + seconds * 1000;
  while (now() < until) {
    const res = await fetch(playlistUrl).catch(() => null);
    const at = now();
    if (res?.status === 200) {
      for (const s of parseMediaPlaylist(await res.text()).segments) {
        const url = new URL(s.uri, playlistUrl).href;
        if (!firstSeen.has(url)) firstSeen.set(url, at);
      }
    } else await res?.arrayBuffer();
    await sleep(POLL_MS);
  }
  return firstSeen;
}

/** Latency (ms) of every segment that appeared after the first poll that listed any. */
async function latencies(firstSeen: Map<string, number>, startedAt: number, ffmpeg: string): Promise<number[]> {
  const first = Math.min(...firstSeen.values());
  const out: number[] = [];
  for (const [url, seen] of firstSeen) {
    // Segments already listed at the first successful poll were made before we looked.
    if (seen === first) continue;
    out.push(seen - (startedAt + (await readCode(url, ffmpeg))));
  }
  return out;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!);
};

async function ours(ffmpeg: string): Promise<number[]> {
  const bus = testBus('latency');
  await bus.init(['streamLifecycle', 'mediaSegments', 'vodRecordings']);
  const producer = bus.producer();
  await producer.connect();
  const key = `live_${randomBytes(32).toString('base64url')}`;
  const streamId = `stream_${randomBytes(6).toString('hex')}`;
  await producer.publish(bus.topic('streamLifecycle'), [
    streamEvents.created(streamId, { streamKeyHash: createHash('sha256').update(key).digest('hex') }),
  ]);
  const pipeline = new MediaPipeline({ topicPrefix: bus.config.topicPrefix });
  try {
    await pipeline.start();
    const pub = publish(pipeline.rtmpUrl(key), ffmpeg);
    const playlist = pipeline.edgeFile(streamId, '360p.m3u8');
    // Until the first segments are listed (the worker starts its ffmpeg), then the measured span.
    for (let i = 0; i < 1200 && (await fetch(playlist)).status !== 200; i++) await sleep(100);
    const firstSeen = await watch(playlist, SECONDS);
    pub.stop();
    await pub.exited;
    return await latencies(firstSeen, pub.startedAt(), ffmpeg);
  } finally {
    await pipeline.stop();
    await producer.disconnect();
  }
}

async function nodeMediaServer(ffmpeg: string): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nms-'));
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const nms = new NodeMediaServer({
    logType: 1,
    rtmp: { port: rtmpPort, chunk_size: 60000, gop_cache: true, ping: 30, ping_timeout: 60 },
    http: { port: httpPort, mediaroot: dir, allow_origin: '*' },
    trans: {
      ffmpeg,
      tasks: [{ app: 'live', hls: true, hlsFlags: `[hls_time=${SEGMENT_MS / 1000}:hls_list_size=6]` }],
    },
  });
  // 2.7.4 logs "uncaughtException ReferenceError: version is not defined" at start-up (a bug in its
  // start-up log line, after its HLS hooks are in place): harmless.
  nms.run();
  try {
    const pub = publish(`rtmp://127.0.0.1:${rtmpPort}/live/bench`, ffmpeg);
    const playlist = `http://127.0.0.1:${httpPort}/live/bench/index.m3u8`;
    for (let i = 0; i < 1200 && (await fetch(playlist)).status !== 200; i++) await sleep(100);
    const firstSeen = await watch(playlist, SECONDS);
    // Read before the publisher stops: node-media-server deletes a stream's HLS files when it ends.
    const measured = await latencies(firstSeen, pub.startedAt(), ffmpeg);
    pub.stop();
    await pub.exited;
    return measured;
  } finally {
    nms.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const { ffmpeg } = mediaTools();
console.log(`latency bench: ${SECONDS} s of a 640x360 15 fps publish, 2 s segments, each system in turn`);
const a = await ours(ffmpeg);
console.log(`platform: ${a.length} segments, p50 ${pct(a, 50)} ms, p95 ${pct(a, 95)} ms`);
const b = await nodeMediaServer(ffmpeg);
console.log(`node-media-server: ${b.length} segments, p50 ${pct(b, 50)} ms, p95 ${pct(b, 95)} ms`);

const peerName = 'node-media-server 2.7 (RTMP -> HLS transmux, Debian ffmpeg)';
const target = SEGMENT_MS + 1000;
const metric = (p: number): Metric => ({
  metric: `frame in -> segment listed at the edge, p${p}`,
  value: pct(a, p),
  unit: 'ms',
  peer: { name: peerName, value: pct(b, p) },
  ratio: ratio(pct(a, p), pct(b, p)),
  target: `<= ${target} ms (segment duration + 1 s) at p95`,
  meetsTarget: p === 95 ? pct(a, p) <= target : null,
});
const file = writeResult('latency', {
  ...metric(95),
  command: `npm run bench -- latency --seconds ${SECONDS}`,
  notes:
    `Per segment: when it first appeared in the playlist players load (polled every ${POLL_MS} ms) minus the wall ` +
    'time of its first frame, read from a bar-code clock burnt into the picture by the publisher. ' +
    `${a.length} segments (platform, 360p through the nginx edge: ingest -> worker ladder 360p+160p libx264 ` +
    `ultrafast -> packager -> origin -> edge) vs ${b.length} (node-media-server: copies the H.264 into HLS, no ` +
    'ladder, its own HTTP server). The two ran one after the other on this 2-core machine, which the other ' +
    'services also share. Glass-to-glass with a real player: not measured.',
  extra: [metric(50)],
});
console.log(`wrote ${file}`);
process.exit(0);
