import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { integer, parse, tool } from '../platform/cli.ts';
import { mediaTools } from '../tests/support/hls.ts';
import { parseMediaPlaylist } from '../tests/support/media-pipeline.ts';
import { readCode } from './lib/bar-code.ts';
import { loadAverage, NMS_PEER, now, pct, sleep, withNodeMediaServer, withPlatform } from './lib/live-rig.ts';
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
 *   - ours is also watched as a low-latency player does (hls.js in `lowLatencyMode`): blocking
 *     reloads, `?_HLS_msn=<next>`, each answered through the edge as soon as the segment is listed.
 *     That is the headline figure; the plain poll, what a standard player's reload sees (the edge
 *     keeps a plain playlist up to its 1 s max-age), is reported beside it. node-media-server has
 *     no blocking reloads, so it is polled;
 *   - latency of a segment = when it first appeared in the playlist - wall time of its first frame.
 *     A segment cannot be listed before its last frame exists, so the floor is the segment
 *     duration; the target is segment duration + 1 s at p95.
 *
 * node-media-server transmuxes (copies the publisher's H.264 into 2 s segments, no ladder) where
 * this platform transcodes a ladder, packages from events and serves through an nginx edge.
 * What a viewer sees, glass to glass through hls.js in Chromium, is bench/glass.ts.
 *
 *   The command line: `program`, below (npm run bench -- latency --help).
 */
const program = tool({
  name: 'bench latency',
  command: 'npm run bench -- latency',
  description:
    'Frame-to-playlist latency: when each segment is first listed, through the edge, against ' +
    'node-media-server with the same publisher.',
  examples: ['npm run bench -- latency --seconds 60'],
}).option('--seconds <S>', "length of each side's run", integer(1), 60);
const SECONDS = parse(program).options.seconds;
const SEGMENT_MS = 2000;
const POLL_MS = 100;

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

/**
 * Blocking reloads until `seconds` have passed, as hls.js does in low-latency mode: ask for the
 * segment after the last one listed and wait for the answer; returns when each segment was first
 * listed (absolute URL -> wall ms).
 */
async function watchBlocking(playlistUrl: string, seconds: number): Promise<Map<string, number>> {
  const firstSeen = new Map<string, number>();
  const until = now() + seconds * 1000;
  let next: number | null = null;
  while (now() < until) {
    const url: string = next === null ? playlistUrl : `${playlistUrl}?_HLS_msn=${next}`;
    const res: Response | null = await fetch(url, { signal: AbortSignal.timeout(10_000) }).catch(() => null);
    const at = now();
    if (res?.status !== 200) {
      await res?.arrayBuffer();
      if (res?.status === 400) next = null;
      await sleep(POLL_MS);
      continue;
    }
    const text: string = await res.text();
    const listed = parseMediaPlaylist(text).segments;
    for (const s of listed) {
      const abs = new URL(s.uri, playlistUrl).href;
      if (!firstSeen.has(abs)) firstSeen.set(abs, at);
    }
    const sequence: number = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
    next = sequence + listed.length;
  }
  return firstSeen;
}

/** Latency (ms) of every segment that appeared after the first poll that listed any. */
async function latencies(firstSeen: Map<string, number>, startedAt: number, code: (url: string) => Promise<number>) {
  const first = Math.min(...firstSeen.values());
  const out: number[] = [];
  for (const [url, seen] of firstSeen) {
    // Segments already listed at the first successful poll were made before we looked.
    if (seen === first) continue;
    out.push(seen - (startedAt + (await code(url))));
  }
  return out;
}

/**
 * Each segment's bar code read once, however many watchers saw it. A CMAF segment decodes only
 * after its init section (the EXT-X-MAP of `playlist`), so the two are joined in a file first.
 */
function codeReader(ffmpeg: string, playlist?: string): (url: string) => Promise<number> {
  const codes = new Map<string, Promise<number>>();
  const dir = mkdtempSync(join(tmpdir(), 'bench-latency-'));
  const withInit = async (url: string): Promise<number> => {
    if (!url.endsWith('.m4s') || !playlist) return readCode(url, ffmpeg);
    const text = await (await fetch(playlist)).text();
    const map = /^#EXT-X-MAP:URI="([^"]+)"/m.exec(text)?.[1];
    if (!map) throw new Error(`no EXT-X-MAP in ${playlist}`);
    const [init, media] = await Promise.all(
      [new URL(map, playlist).href, url].map(async (u) => Buffer.from(await (await fetch(u)).arrayBuffer())),
    );
    const file = join(dir, `${codes.size}.mp4`);
    writeFileSync(file, Buffer.concat([init!, media!]));
    return readCode(file, ffmpeg);
  };
  return (url) => {
    let c = codes.get(url);
    if (!c) codes.set(url, (c = withInit(url)));
    return c;
  };
}

const ours = (ffmpeg: string): Promise<{ blocking: number[]; polled: number[] }> =>
  withPlatform(ffmpeg, { latencyMode: 'STANDARD', segmentMs: SEGMENT_MS }, async ({ pub, media }) => {
    const [blocking, polled] = await Promise.all([watchBlocking(media, SECONDS), watch(media, SECONDS)]);
    const code = codeReader(ffmpeg, media);
    return {
      blocking: await latencies(blocking, pub.startedAt(), code),
      polled: await latencies(polled, pub.startedAt(), code),
    };
  });

// Read inside the run: node-media-server deletes a stream's HLS files when it ends.
const nodeMediaServer = (ffmpeg: string): Promise<number[]> =>
  withNodeMediaServer(ffmpeg, { segmentMs: SEGMENT_MS }, async ({ pub, media }) => {
    const firstSeen = await watch(media, SECONDS);
    return latencies(firstSeen, pub.startedAt(), codeReader(ffmpeg));
  });

const { ffmpeg } = mediaTools();
console.log(`latency bench: ${SECONDS} s of a 640x360 15 fps publish, 2 s segments, each system in turn`);
const { blocking: a, polled } = await ours(ffmpeg);
// The 1-minute load average as each measurement ends: it covers most of the measured span.
const loadA = loadAverage();
console.log(`platform, blocking reloads: ${a.length} segments, p50 ${pct(a, 50)} ms, p95 ${pct(a, 95)} ms`);
console.log(`platform, polled: ${polled.length} segments, p50 ${pct(polled, 50)} ms, p95 ${pct(polled, 95)} ms`);
const b = await nodeMediaServer(ffmpeg);
const loadB = loadAverage();
console.log(`node-media-server: ${b.length} segments, p50 ${pct(b, 50)} ms, p95 ${pct(b, 95)} ms`);

const target = SEGMENT_MS + 1000;
const metric = (p: number, xs = a, how = 'blocking reloads, as a low-latency player'): Metric => ({
  metric: `frame in -> segment listed at the edge (${how}), p${p}`,
  value: pct(xs, p),
  unit: 'ms',
  peer: { name: `${NMS_PEER}, polled`, value: pct(b, p) },
  ratio: ratio(pct(xs, p), pct(b, p)),
  target: `<= ${target} ms (segment duration + 1 s) at p95`,
  meetsTarget: p === 95 ? pct(xs, p) <= target : null,
});
const plain = 'polled every 100 ms, as a standard player';
const file = writeResult('latency', {
  ...metric(95),
  command: `npm run bench -- latency --seconds ${SECONDS}`,
  notes:
    'Per segment: when it first appeared in the playlist players load minus the wall ' +
    'time of its first frame, read from a bar-code clock burnt into the picture by the publisher. ' +
    `${a.length} segments (platform, 360p through the nginx edge: ingest -> worker ladder 360p+160p libx264 ` +
    `ultrafast -> packager -> origin -> edge) vs ${b.length} (node-media-server: copies the H.264 into HLS, no ` +
    'ladder, its own HTTP server). The two ran one after the other on this 2-core machine, which the other ' +
    `services also share (1-minute load average ${loadA} at the end of ours, ${loadB} of node-media-server's). ` +
    'Ours was watched both ways at once: blocking reloads (?_HLS_msn=<next>, answered as soon as the segment is ' +
    `listed) and a plain poll every ${POLL_MS} ms, which also sees the edge's copy of the plain playlist (max-age 1 s). ` +
    'Glass to glass through a real player: see glass.',
  extra: [metric(50), metric(95, polled, plain), metric(50, polled, plain)],
});
console.log(`wrote ${file}`);
process.exit(0);
