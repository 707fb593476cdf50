import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../platform/logger.ts';
import { testSourceArgs } from '../test-source.ts';

/**
 * The demo broadcast: a streamer that never sleeps. It creates its stream through the public API
 * (once; the id and key are kept in a local file, mode 600), and publishes an ffmpeg test pattern
 * with a burnt-in UTC wall clock (milliseconds) and a tone over RTMP, restarting ffmpeg whenever
 * it dies. A restart within ingest's reconnect grace carries on the same broadcast; one after
 * the stream ended creates a fresh one.
 *
 * The clock: drawtext prints the frame's pts plus the UTC time of day at which ffmpeg started;
 * with -re the pattern is produced in real time, so the clock is the wall clock at which the frame
 * was made (to within ffmpeg's start-up, ~0.1 s) and glass-to-glass latency can be read off a
 * player's picture.
 */
export interface DemoStream {
  streamId: string;
  streamKey: string;
}

export function demoPublisherArgs(o: { size: string; fps: number; url: string; startedAtMs: number }): string[] {
  const secondsIntoDay = ((o.startedAtMs % 86_400_000) / 1000).toFixed(3);
  const clock = `drawtext=text='%{pts\\:hms\\:${secondsIntoDay}} UTC':fontsize=h/12:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8:x=(w-tw)/2:y=h-th-h/10`;
  return testSourceArgs(
    {
      size: o.size,
      fps: o.fps,
      tone: { sampleRate: 48_000, bitrate: '96k' },
      live: true,
      gop: 2 * o.fps,
      video: { bitrate: '1500k' },
      filter: clock,
      logLevel: 'warning',
    },
    ['-f', 'flv', o.url],
  );
}

export interface DemoDeps {
  apiUrl: string;
  rtmpUrl: string;
  stateFile: string;
  title: string;
  size: string;
  fps: number;
  token: () => Promise<string>;
  ffmpegPath: string;
  log: Logger;
  onRun?: (streamId: string) => void;
}

export class DemoBroadcast {
  private stopped = false;
  private child: ReturnType<typeof spawn> | undefined;

  /** Its ffmpeg is running (between a death and the restart after backoff, it is not). */
  get publishing(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly deps: DemoDeps) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.child?.kill('SIGINT');
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const started = Date.now();
      try {
        const stream = await this.ensureStream();
        this.deps.onRun?.(stream.streamId);
        const code = await this.publish(stream);
        if (this.stopped) return;
        this.deps.log.warn({ streamId: stream.streamId, code }, 'demo publisher exited; restarting');
      } catch (err) {
        this.deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'demo broadcast not running yet');
      }
      failures = Date.now() - started > 60_000 ? 0 : failures + 1;
      await this.sleep(Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
    }
  }

  /** The stored stream while it can still go live; otherwise a new one through the API. */
  private async ensureStream(): Promise<DemoStream> {
    const stored = this.read();
    if (stored) {
      const res = await fetch(`${this.deps.apiUrl}/api/v1/streams/${encodeURIComponent(stored.streamId)}/playback`);
      if (res.ok) {
        const body = (await res.json()) as { status?: string };
        if (body.status !== 'ended') return stored;
      } else if (res.status !== 404) {
        throw new Error(`API answered ${res.status} for the demo stream`);
      }
    }
    const res = await fetch(`${this.deps.apiUrl}/api/v1/streams/start`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await this.deps.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: this.deps.title,
        category: 'Just Chatting',
        tags: ['demo'],
        latency_mode: 'standard',
        enable_recording: true,
        enable_chat: true,
      }),
    });
    if (res.status !== 201) throw new Error(`creating the demo stream: API answered ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { stream_id: string; stream_key: string };
    const stream = { streamId: body.stream_id, streamKey: body.stream_key };
    mkdirSync(dirname(this.deps.stateFile), { recursive: true });
    writeFileSync(this.deps.stateFile, `${JSON.stringify(stream)}\n`, { mode: 0o600 });
    this.deps.log.info({ streamId: stream.streamId }, 'demo stream created');
    return stream;
  }

  private read(): DemoStream | undefined {
    try {
      const s = JSON.parse(readFileSync(this.deps.stateFile, 'utf8')) as Partial<DemoStream>;
      return s.streamId && s.streamKey ? { streamId: s.streamId, streamKey: s.streamKey } : undefined;
    } catch {
      return undefined;
    }
  }

  private publish(stream: DemoStream): Promise<number | null> {
    const args = demoPublisherArgs({
      size: this.deps.size,
      fps: this.deps.fps,
      url: `${this.deps.rtmpUrl}/${stream.streamKey}`,
      startedAtMs: Date.now(),
    });
    this.deps.log.info(
      { streamId: stream.streamId, size: this.deps.size, fps: this.deps.fps },
      'demo publisher starting',
    );
    const child = spawn(this.deps.ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      // Never log the URL: it holds the key.
      for (const line of text.split('\n')) {
        const clean = line.trim().replaceAll(stream.streamKey, '[redacted]');
        if (clean) this.deps.log.warn({ ffmpeg: clean }, 'demo ffmpeg');
      }
    });
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
