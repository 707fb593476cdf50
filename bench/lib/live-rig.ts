import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import NodeMediaServer from 'node-media-server';
import type { LatencyMode } from '../../schemas/generated/events.ts';
import { testBus } from '../../tests/support/bus.ts';
import { freePort } from '../../tests/support/ports.ts';
import { MediaPipeline } from '../../tests/support/media-pipeline.ts';
import { streamEvents } from '../../tests/support/stream-events.ts';
import { percentile } from '../../platform/stats.ts';
import { testSourceArgs } from '../../media/test-source.ts';

/**
 * What the latency benchmarks share: an ffmpeg publisher whose picture carries its own clock, and
 * the two live paths it publishes to (this platform end to end, node-media-server's RTMP -> HLS),
 * each up for one measurement and torn down after it.
 *
 * The clock: a 48 px strip at the top of a 640x360 15 fps picture holds a 24-block bar code of the
 * frame's own media time since the publisher started (ms), drawn by `geq` from the frame's
 * timestamp, most significant bit on the left, white = 1. The publisher's start on the wall clock
 * comes from its -progress reports (the smallest wall - media time seen), so a frame's wall time is
 * that start + the time in its bar code: the moment it was made and sent (-re paces it).
 */
export const BITS = 24;
export const WIDTH = 640;
export const HEIGHT = 360;
export const STRIP = 48;
export const FPS = 15;

export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A percentile in whole ms, as the latency reports print them. */
export const pct = (xs: number[], p: number): number => Math.round(percentile(xs, p));

/** The 1-minute load average, for a result's notes. */
export const loadAverage = (): string => loadavg()[0]!.toFixed(2);

export interface Publisher {
  /** Wall-clock ms at which the publisher's media time was 0 (best estimate so far). */
  startedAt: () => number;
  exited: Promise<number | null>;
  stop: () => void;
}

/**
 * ffmpeg publishing a test pattern under the bar-code clock, with a tone, a keyframe every
 * `keyframeMs` (the segment duration: node-media-server copies the video, so its segments can only
 * cut there).
 */
export function publish(
  url: string,
  ffmpeg: string,
  keyframeMs: number,
  o: { fps?: number; videoBitrate?: string } = {},
): Publisher {
  const fps = o.fps ?? FPS;
  const bit = `mod(floor(round(T*1000)/pow(2,${BITS - 1}-floor(X*${BITS}/W))),2)`;
  const code = `color=black:size=${WIDTH}x${STRIP}:rate=${fps},format=gray,geq=lum='255*${bit}'[code]`;
  const args = testSourceArgs(
    {
      size: `${WIDTH}x${HEIGHT - STRIP}`,
      fps,
      tone: { sampleRate: 48_000, bitrate: '96k' },
      live: true,
      gop: Math.round((keyframeMs / 1000) * fps),
      fixedGop: true,
      video: { bitrate: o.videoBitrate ?? '1000k' },
      // The strip's source is inside the graph: the pattern is the only picture input.
      filter: `${code};[code][in]vstack=shortest=1,format=yuv420p`,
    },
    ['-progress', 'pipe:1', '-stats_period', '0.2', '-f', 'flv', url],
  );
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

/** A live stream being published, as a measurement sees it. */
export interface LiveRun {
  pub: Publisher;
  /** The playlist a player starts from: our master playlist, node-media-server's index.m3u8. */
  master: string;
  /** One media playlist: our 360p rendition, node-media-server's index.m3u8. */
  media: string;
  /** That rendition's folder on disk, where the media worker writes it (ours only). */
  mediaDir: string | null;
  /** Our services' process ids, for their CPU cost (ours only). */
  pids: Record<'packager' | 'origin' | 'edge', number> | null;
  /** The stream's WHEP endpoint and the WebRTC gateway's process id, when the gateway runs (ours only). */
  whep?: { url: string; pid: number } | null;
}

export async function untilServed(url: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const res = await fetch(url).catch(() => null);
    await res?.arrayBuffer();
    if (res?.status === 200) return;
    await sleep(100);
  }
  throw new Error(`${url} never appeared`);
}

/** A stream created on this platform's lifecycle topic, with the whole media path up for it. */
export interface PlatformStream {
  pipeline: MediaPipeline;
  streamId: string;
  /** Its stream key (an RTMP publisher's path, a WHIP publisher's bearer token). */
  key: string;
  /** The WebRTC gateway (WHIP and WHEP), when asked for. */
  webrtc: { url: string; pid: number } | null;
  /** Creates another stream on the same topics (a fresh key; a stream ended takes no new publisher). */
  another: (latencyMode: LatencyMode) => Promise<{ streamId: string; key: string }>;
}

/**
 * This platform end to end (ingest -> media worker -> packager -> origin -> nginx edge, with the
 * CDN prefetcher, and the WebRTC gateway on Node 24 when `webrtc` says so, as real processes): a
 * stream of `latencyMode` is created on the lifecycle topic and `measure` runs with it, nothing
 * published yet. Everything stops afterwards.
 */
export async function withStream<T>(
  o: { latencyMode: LatencyMode; ladder?: string; webrtc?: Record<string, string> },
  measure: (s: PlatformStream) => Promise<T>,
): Promise<T> {
  const bus = testBus('latency');
  await bus.init(['streamLifecycle', 'mediaSegments', 'vodRecordings']);
  const producer = bus.producer();
  await producer.connect();
  const another = async (latencyMode: LatencyMode): Promise<{ streamId: string; key: string }> => {
    const key = `live_${randomBytes(32).toString('base64url')}`;
    const streamId = `stream_${randomBytes(6).toString('hex')}`;
    await producer.publish(bus.topic('streamLifecycle'), [
      streamEvents.created(streamId, {
        streamKeyHash: createHash('sha256').update(key).digest('hex'),
        latencyMode,
      }),
    ]);
    return { streamId, key };
  };
  const { streamId, key } = await another(o.latencyMode);
  const pipeline = new MediaPipeline({ topicPrefix: bus.config.topicPrefix, ...(o.ladder && { ladder: o.ladder }) });
  try {
    await pipeline.start();
    // Every publisher and viewer of a benchmark comes from 127.0.0.1, which the gateway's
    // per-address limits (offers a minute, sessions held) exist to stop: lifted here.
    const gateway = o.webrtc
      ? await pipeline.startWebRtc({
          WEBRTC_OFFERS_PER_ADDRESS_PER_MIN: '1000000',
          WEBRTC_SESSIONS_PER_ADDRESS: '100000',
          ...o.webrtc,
        })
      : null;
    return await measure({
      pipeline,
      streamId,
      key,
      webrtc: gateway && { url: gateway.url, pid: gateway.proc.pid },
      another,
    });
  } finally {
    await pipeline.stop();
    await producer.disconnect();
  }
}

/**
 * This platform end to end (withStream) with the rig's ffmpeg publisher on the stream over RTMP:
 * `measure` runs once its 360p playlist is served by the edge. The publisher stops afterwards.
 */
export async function withPlatform<T>(
  ffmpeg: string,
  o: { latencyMode: LatencyMode; segmentMs: number; webrtc?: Record<string, string> },
  measure: (run: LiveRun) => Promise<T>,
): Promise<T> {
  return withStream(o, async ({ pipeline, streamId, key, webrtc }) => {
    const pub = publish(pipeline.rtmpUrl(key), ffmpeg, o.segmentMs);
    const media = pipeline.edgeFile(streamId, '360p.m3u8');
    try {
      // Until the first segments are listed (the worker starts its ffmpeg).
      await untilServed(media);
      return await measure({
        pub,
        master: pipeline.edgeFile(streamId, 'master.m3u8'),
        media,
        mediaDir: join(pipeline.mediaRoot, streamId, '360p'),
        pids: { packager: pipeline.packager.pid, origin: pipeline.origin.pid, edge: pipeline.edge.pid },
        whep: webrtc && { url: `${webrtc.url}/whep/${streamId}`, pid: webrtc.pid },
      });
    } finally {
      pub.stop();
      await pub.exited;
    }
  });
}

/**
 * node-media-server 2.7 (its RTMP server, ffmpeg copying the stream into HLS, its own HTTP server)
 * with `segmentMs` segments and a 6-segment window; `measure` runs once its playlist is served.
 * node-media-server deletes a stream's HLS files when the publisher stops, so whatever reads
 * segments must do it inside `measure`.
 */
export async function withNodeMediaServer<T>(
  ffmpeg: string,
  o: { segmentMs: number },
  measure: (run: LiveRun) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nms-'));
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const nms = new NodeMediaServer({
    logType: 1,
    rtmp: { port: rtmpPort, chunk_size: 60000, gop_cache: true, ping: 30, ping_timeout: 60 },
    http: { port: httpPort, mediaroot: dir, allow_origin: '*' },
    trans: {
      ffmpeg,
      tasks: [{ app: 'live', hls: true, hlsFlags: `[hls_time=${o.segmentMs / 1000}:hls_list_size=6]` }],
    },
  });
  // 2.7.4 logs "uncaughtException ReferenceError: version is not defined" at start-up (a bug in its
  // start-up log line, after its HLS hooks are in place): harmless.
  nms.run();
  try {
    const pub = publish(`rtmp://127.0.0.1:${rtmpPort}/live/bench`, ffmpeg, o.segmentMs);
    const playlist = `http://127.0.0.1:${httpPort}/live/bench/index.m3u8`;
    try {
      await untilServed(playlist);
      return await measure({ pub, master: playlist, media: playlist, mediaDir: null, pids: null });
    } finally {
      pub.stop();
      await pub.exited;
    }
  } finally {
    nms.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const NMS_PEER = 'node-media-server 2.7 (RTMP -> HLS transmux, Debian ffmpeg)';
