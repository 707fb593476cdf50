import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { DEBIAN_TOOLS, ensureDebianTools } from '../../platform/debian.ts';
import { testSourceArgs, type TestSource } from '../../media/test-source.ts';

/** HLS test helpers: real tiny MPEG-TS segments, a counting origin relay. */
export function mediaTools(): { ffmpeg: string; ffprobe: string; nginx: string } {
  const quiet = { info: () => undefined, warn: (m: string) => console.error(m) };
  const p = ensureDebianTools([DEBIAN_TOOLS.ffmpeg, DEBIAN_TOOLS.ffprobe, DEBIAN_TOOLS.nginx], quiet);
  return { ffmpeg: p.ffmpeg!, ffprobe: p.ffprobe!, nginx: p.nginx! };
}

/**
 * `count` H.264 + AAC MPEG-TS segments of `seconds` each (a test pattern, 96x64 unless told, a keyframe per
 * segment), named 000000.ts... in `dir`, with continuous timestamps as a worker writes them.
 * Returns each segment's duration in ms.
 */
export function makeSegments(
  dir: string,
  count: number,
  seconds = 1,
  o: { size?: string; videoBitrate?: string } = {},
): number[] {
  const { ffmpeg } = mediaTools();
  mkdirSync(dir, { recursive: true });
  const list = join(dir, 'segments.csv');
  const fps = 10;
  const source: TestSource = {
    size: o.size ?? '96x64',
    fps,
    tone: { sampleRate: 22_050, bitrate: '32k' },
    seconds: count * seconds,
    live: false,
    gop: fps * seconds,
    fixedGop: true,
    video: o.videoBitrate ? { bitrate: o.videoBitrate, capped: true } : undefined,
  };
  const segments = ['-f', 'segment', '-segment_time', String(seconds), '-segment_format', 'mpegts'];
  const csv = ['-segment_list', list, '-segment_list_type', 'csv'];
  const r = spawnSync(ffmpeg, testSourceArgs(source, [...segments, ...csv, join(dir, '%06d.ts')]), {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`ffmpeg could not make test segments: ${r.stderr}`);
  return readFileSync(list, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [, start, end] = line.split(',');
      return Math.round((Number(end) - Number(start)) * 1000);
    });
}

/** Runs a tool without blocking the event loop (the origin under test may be in this process). */
function run(
  bin: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** ffprobe's view of an HLS URL: the streams it found (fails if it cannot play it). */
export async function probe(url: string): Promise<Array<{ codec_type: string; codec_name: string }>> {
  const { ffprobe } = mediaTools();
  const r = await run(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_streams', url], 60_000);
  if (r.code !== 0) throw new Error(`ffprobe ${url} failed (${r.code}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { streams: Array<{ codec_type: string; codec_name: string }> }).streams;
}

/**
 * Decodes an HLS URL to the end with ffmpeg and returns the media time decoded (ms). Fails when a
 * segment cannot be fetched. (Not -xerror: ffmpeg flags the packet cut at every MPEG-TS segment
 * boundary as corrupt, even for its own segmenter's output.)
 */
export async function decodeAll(url: string): Promise<number> {
  const { ffmpeg } = mediaTools();
  const r = await run(
    ffmpeg,
    ['-v', 'warning', '-nostats', '-i', url, '-map', '0', '-f', 'null', '-progress', 'pipe:1', '-'],
    120_000,
  );
  if (r.code !== 0 || /Failed to open segment|Server returned|HTTP error/i.test(r.stderr))
    throw new Error(`ffmpeg could not decode ${url} (${r.code}): ${r.stderr}`);
  const times = [...r.stdout.matchAll(/^out_time_us=(\d+)$/gm)].map((m) => Number(m[1]));
  return Math.round((times[times.length - 1] ?? 0) / 1000);
}

/**
 * An HTTP relay in front of the origin that counts the requests per path and can hold each one
 * for `delayMs` first, so concurrent misses at an edge really overlap.
 */
export class CountingRelay {
  readonly counts = new Map<string, number>();
  private server: Server | undefined;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly delayMs = 0,
  ) {}

  async listen(): Promise<number> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      this.counts.set(path, (this.counts.get(path) ?? 0) + 1);
      setTimeout(() => {
        const up = request({ ...this.target, path: req.url, method: req.method, headers: req.headers }, (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        });
        up.on('error', () => res.destroy());
        req.pipe(up);
      }, this.delayMs);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  count(path: string): number {
    return this.counts.get(path) ?? 0;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
