import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpoints } from './endpoints.ts';
import { mediaTools } from './hls.ts';
import { freePort } from './ports.ts';
import { ServiceProcess } from './process.ts';
import type { Runtime } from '../../platform/runtime.ts';

/**
 * The whole media path as real processes on free ports over a temporary MEDIA_ROOT: RTMP ingest,
 * media worker(s), packager, origin, one nginx edge and the CDN prefetcher, all on the topics of
 * `topicPrefix`. Used by the end-to-end spec and the latency benchmark.
 */
export interface PipelineOptions {
  topicPrefix: string;
  /** Rungs the workers may produce (a 2-core box keeps it small). */
  ladder?: string;
  /** Extra environment of the ingest (its reconnect grace, say). */
  ingestEnv?: Record<string, string>;
  x264Preset?: string;
  logLevel?: string;
}

export class MediaPipeline {
  readonly mediaRoot = mkdtempSync(join(tmpdir(), 'media-e2e-'));
  readonly edgeDir = mkdtempSync(join(tmpdir(), 'media-e2e-edge-'));
  readonly workers: ServiceProcess[] = [];
  ingest!: ServiceProcess;
  webrtc: ServiceProcess | null = null;
  webrtcPort = 0;
  packager!: ServiceProcess;
  origin!: ServiceProcess;
  edge!: ServiceProcess;
  prefetcher!: ServiceProcess;
  rtmpPort = 0;
  originPort = 0;
  edgePort = 0;
  private readonly all: ServiceProcess[] = [];

  constructor(private readonly o: PipelineOptions) {}

  get edgeUrl(): string {
    return `http://127.0.0.1:${this.edgePort}`;
  }

  /** Publish URL for a stream key. */
  rtmpUrl(key: string): string {
    return `rtmp://127.0.0.1:${this.rtmpPort}/live/${key}`;
  }

  /** A file of a stream through the edge, as players see it. */
  edgeFile(streamId: string, file: string): string {
    return `${this.edgeUrl}/hls/${streamId}/${file}`;
  }

  private env(): Record<string, string> {
    const e = endpoints();
    return {
      KAFKA_BROKERS: e.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: e.registryUrl,
      LIVE_TOPIC_PREFIX: this.o.topicPrefix,
      METRICS_PORT: '0',
      LOG_LEVEL: this.o.logLevel ?? 'info',
      MEDIA_ROOT: this.mediaRoot,
    };
  }

  get webrtcUrl(): string {
    return `http://127.0.0.1:${this.webrtcPort}`;
  }

  private spawn(label: string, entry: string, env: Record<string, string>, runtime?: Runtime): ServiceProcess {
    const p = new ServiceProcess(label, entry, { ...this.env(), ...env }, runtime);
    this.all.push(p);
    return p;
  }

  /** Origin, edge, packager, prefetcher and ingest up and listening; then one worker. */
  async start(): Promise<void> {
    this.originPort = await freePort();
    this.edgePort = await freePort();
    this.origin = this.spawn('origin', 'gateways/origin/main.ts', {
      ORIGIN_HOST: '127.0.0.1',
      ORIGIN_PORT: String(this.originPort),
      METRICS_PORT: String(await freePort()),
    });
    this.edge = this.spawn('edge', 'gateways/edge/main.ts', {
      EDGE_HOST: '127.0.0.1',
      EDGE_PORT: String(this.edgePort),
      EDGE_NAME: 'edge-e2e',
      EDGE_DIR: this.edgeDir,
      EDGE_CACHE_MAX_SIZE: '256m',
      ORIGIN_HOST: '127.0.0.1',
      ORIGIN_PORT: String(this.originPort),
      METRICS_PORT: String(await freePort()),
    });
    this.packager = this.spawn('packager', 'processors/packager/main.ts', {
      METRICS_PORT: String(await freePort()),
    });
    this.prefetcher = this.spawn('cdn-prefetcher', 'processors/cdn-prefetcher/main.ts', {
      EDGE_URLS: this.edgeUrl,
      METRICS_PORT: String(await freePort()),
    });
    this.ingest = this.spawn('ingest', 'producers/ingest/main.ts', {
      INGEST_RTMP_HOST: '127.0.0.1',
      INGEST_RTMP_PORT: '0',
      INGEST_NODE_ID: 'ingest-e2e',
      NODE_OPTIONS: '--openssl-legacy-provider',
      ...this.o.ingestEnv,
    });
    await this.origin.waitForLog('origin listening', (l) => l.msg === 'origin listening', 90_000);
    await this.edge.waitForLog('edge listening', (l) => l.msg === 'edge listening', 90_000);
    await this.packager.waitForLog('packager up', (l) => l.msg === 'packaging into media root', 90_000);
    await this.prefetcher.waitForLog('prefetcher up', (l) => l.msg === 'warming edges', 90_000);
    this.rtmpPort = (await this.ingest.waitForLog('rtmp listening', (l) => l.msg === 'rtmp listening', 90_000))
      .port as number;
    await this.startWorker('worker-a');
  }

  /**
   * A WebRTC gateway (WHIP into this pipeline's ingest, WHEP out), on Node 24 as it runs in
   * production. The first one started is `webrtc` / `webrtcUrl`.
   */
  async startWebRtc(env: Record<string, string> = {}): Promise<{ proc: ServiceProcess; url: string }> {
    const proc = this.spawn(
      'webrtc',
      'gateways/webrtc/main.ts',
      {
        WEBRTC_HOST: '127.0.0.1',
        WEBRTC_PORT: '0',
        WEBRTC_INGEST_RTMP_URL: `rtmp://127.0.0.1:${this.rtmpPort}/live`,
        WEBRTC_INGEST_PULL_URL: `rtmp://127.0.0.1:${this.rtmpPort}/live`,
        METRICS_PORT: String(await freePort()),
        ...env,
      },
      'node24',
    );
    const port = (await proc.waitForLog('webrtc listening', (l) => l.msg === 'webrtc listening', 90_000))
      .port as number;
    if (!this.webrtc) {
      this.webrtc = proc;
      this.webrtcPort = port;
    }
    return { proc, url: `http://127.0.0.1:${port}` };
  }

  async startWorker(id: string): Promise<ServiceProcess> {
    const w = this.spawn(id, 'media/worker/main.ts', {
      MEDIA_WORKER_GROUP_ID: 'media-worker',
      MEDIA_WORKER_ID: id,
      MEDIA_ENCODER: 'libx264',
      MEDIA_X264_PRESET: this.o.x264Preset ?? 'ultrafast',
      ...(this.o.ladder && { MEDIA_LADDER: this.o.ladder }),
    });
    this.workers.push(w);
    await w.waitForLog('started', (l) => l.msg === 'media worker started', 120_000);
    return w;
  }

  /** Stops everything (workers first, so no ffmpeg outlives the run) and removes the folders. */
  async stop(): Promise<void> {
    for (const w of this.workers) await w.kill('SIGTERM');
    for (const p of [...this.all].reverse()) await p.kill('SIGTERM');
    rmSync(this.mediaRoot, { recursive: true, force: true });
    rmSync(this.edgeDir, { recursive: true, force: true });
  }

  /** Logs of every process, for a failure message. */
  tail(): string {
    return this.all.map((p) => `--- ${p.label}\n${p.tail(8)}`).join('\n');
  }
}

/** A media playlist, parsed as a player reads it. */
export interface MediaPlaylist {
  mediaSequence: number;
  discontinuitySequence: number;
  targetDuration: number;
  endList: boolean;
  segments: Array<{ uri: string; sequence: number; duration: number; discontinuity: boolean; pdt: number | null }>;
}

export function parseMediaPlaylist(text: string): MediaPlaylist {
  const tag = (name: string): number => Number(new RegExp(`^#${name}:(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  const mediaSequence = tag('EXT-X-MEDIA-SEQUENCE');
  const segments: MediaPlaylist['segments'] = [];
  let duration = 0;
  let discontinuity = false;
  let pdt: number | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXTINF:')) duration = Number(line.slice(8).split(',')[0]);
    else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
    else if (line && !line.startsWith('#')) {
      segments.push({ uri: line, sequence: mediaSequence + segments.length, duration, discontinuity, pdt });
      discontinuity = false;
      pdt = null;
    }
  }
  return {
    mediaSequence,
    discontinuitySequence: tag('EXT-X-DISCONTINUITY-SEQUENCE'),
    targetDuration: tag('EXT-X-TARGETDURATION'),
    endList: /^#EXT-X-ENDLIST$/m.test(text),
    segments,
  };
}

/** The variant playlists a master lists, in its order. */
export function masterVariants(text: string): string[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#'));
}

/**
 * Decodes the first `seconds` of an HLS URL (live or not) with ffmpeg and returns the media time
 * decoded (ms) and the streams seen. Fails when ffmpeg cannot open or fetch it.
 */
export async function decodeFor(
  url: string,
  seconds: number,
): Promise<{ decodedMs: number; video: boolean; audio: boolean }> {
  const { ffmpeg } = mediaTools();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(
        ffmpeg,
        [
          '-hide_banner',
          '-nostats',
          '-i',
          url,
          '-t',
          String(seconds),
          '-map',
          '0',
          '-f',
          'null',
          '-progress',
          'pipe:1',
          '-',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-16_000)));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    },
  );
  if (code !== 0 || /Failed to open segment|Server returned|HTTP error/i.test(stderr))
    throw new Error(`ffmpeg could not decode ${url} (${code}): ${stderr}`);
  const times = [...stdout.matchAll(/^out_time_us=(\d+)$/gm)].map((m) => Number(m[1]));
  return {
    decodedMs: Math.round((times[times.length - 1] ?? 0) / 1000),
    video: /Stream #\d+:\d+.*: Video: h264/.test(stderr),
    audio: /Stream #\d+:\d+.*: Audio: aac/.test(stderr),
  };
}
