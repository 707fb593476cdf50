import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { mediaTools } from '../tests/support/hls.ts';
import { parseMediaPlaylist } from '../tests/support/media-pipeline.ts';
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
} from './lib/live-rig.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';

/**
 * Live latency, from a frame entering ingest to its segment being listed in the playlist players
 * load, for this platform (through the edge) and node-media-server (its RTMP -> HLS path), one
 * after the other in the same run on this machine, with the same publisher (bench/lib/live-rig.ts:
 * 640x360 at 15 fps, a tone, a keyframe every 2 s, a burnt-in bar-code clock of each frame's own
 * time):
 *
 *   - the playlist players load (the edge's 360p media playlist for us, node-media-server's
 *     index.m3u8 from its own HTTP server) is polled every 100 ms; each new segment's first frame is
 *     decoded afterwards and its bar code read;
 *   - latency of a segment = when it first appeared in the playlist - wall time of its first frame.
 *     A segment cannot be listed before its last frame exists, so the floor is the segment
 *     duration; the target is segment duration + 1 s at p95.
 *
 * node-media-server transmuxes (copies the publisher's H.264 into 2 s segments, no ladder) where
 * this platform transcodes a ladder, packages from events and serves through an nginx edge.
 * What a viewer sees, glass to glass through hls.js in Chromium, is bench/glass.ts.
 *
 *   npm run bench -- latency [--seconds S]
 */
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const SECONDS = Number(values.seconds);
const SEGMENT_MS = 2000;
const POLL_MS = 100;

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
        `crop=iw:ih*${STRIP - 8}/${HEIGHT}:0:4,scale=${BITS}:1:flags=area,format=gray`,
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

const ours = (ffmpeg: string): Promise<number[]> =>
  withPlatform(ffmpeg, { latencyMode: 'STANDARD', segmentMs: SEGMENT_MS }, async ({ pub, media }) => {
    const firstSeen = await watch(media, SECONDS);
    return latencies(firstSeen, pub.startedAt(), ffmpeg);
  });

// Read inside the run: node-media-server deletes a stream's HLS files when it ends.
const nodeMediaServer = (ffmpeg: string): Promise<number[]> =>
  withNodeMediaServer(ffmpeg, { segmentMs: SEGMENT_MS }, async ({ pub, media }) => {
    const firstSeen = await watch(media, SECONDS);
    return latencies(firstSeen, pub.startedAt(), ffmpeg);
  });

const { ffmpeg } = mediaTools();
console.log(`latency bench: ${SECONDS} s of a 640x360 15 fps publish, 2 s segments, each system in turn`);
const a = await ours(ffmpeg);
// The 1-minute load average as each measurement ends: it covers most of the measured span.
const loadA = loadAverage();
console.log(`platform: ${a.length} segments, p50 ${pct(a, 50)} ms, p95 ${pct(a, 95)} ms`);
const b = await nodeMediaServer(ffmpeg);
const loadB = loadAverage();
console.log(`node-media-server: ${b.length} segments, p50 ${pct(b, 50)} ms, p95 ${pct(b, 95)} ms`);

const target = SEGMENT_MS + 1000;
const metric = (p: number): Metric => ({
  metric: `frame in -> segment listed at the edge, p${p}`,
  value: pct(a, p),
  unit: 'ms',
  peer: { name: NMS_PEER, value: pct(b, p) },
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
    `services also share (1-minute load average ${loadA} at the end of ours, ${loadB} of node-media-server's). ` +
    'Glass to glass through a real player: see glass.',
  extra: [metric(50)],
});
console.log(`wrote ${file}`);
process.exit(0);
