import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaEventPayload } from '../schemas/generated/events.ts';
import type { Logger } from '../platform/logger.ts';
import { buildTranscodePlan, type TranscodeJob } from './ffmpeg-args.ts';
import { commandFor } from '../platform/ffmpeg.ts';
import type { ChosenRendition } from './ladder.ts';
import { highestNumber, parseMediaPlaylist, segmentFile, thumbnailFile } from './playlist.ts';

/**
 * One stream's transcode: prepares its folders, continues its numbering from what is on disk,
 * runs ffmpeg, and turns each segment ffmpeg lists as complete into a SegmentReady (and each new
 * thumbnail into a ThumbnailReady), in order, through `publish`.
 *
 * Restart: segments already on disk mean an earlier run (this worker's or a dead one's) produced
 * this stream; numbering continues after the highest one, the first new segment of every rung is
 * marked as a discontinuity, and the previous run's own playlists are announced again first, so a
 * segment renamed into place just before a crash is not lost (the packager de-duplicates on
 * rendition + sequence).
 */
export interface TranscoderSpec {
  streamId: string;
  input: string;
  live: boolean;
  hasAudio: boolean;
  ladder: ChosenRendition[];
  segmentDurationMs: number;
  encoder: TranscodeJob['encoder'];
  decoder: TranscodeJob['decoder'];
  x264Preset: string;
  mediaRoot: string;
  thumbnail: { everySec: number; width: number; height: number } | null;
  stallTimeoutS: number;
}

export interface TranscoderDeps {
  publish: (payloads: MediaEventPayload[]) => Promise<void>;
  ffmpegPath: string;
  log: Logger;
  pollMs?: number;
}

export interface TranscodeExit {
  code: number | null;
  error: string | null;
  /** True when ffmpeg ended because it was asked to stop. */
  stopped: boolean;
}

const WORK = '.work';

export class StreamTranscoder {
  readonly exited: Promise<TranscodeExit>;
  private resolveExit!: (e: TranscodeExit) => void;
  private command: ReturnType<typeof commandFor> | undefined;
  private readonly announced = new Map<string, number>();
  private lastThumb = -1;
  private resumed = false;
  /** Rungs that have announced a segment of this run: the first one of each is the discontinuity. */
  private readonly startedRungs = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private scanQueued = false;
  private scanning: Promise<void> = Promise.resolve();
  private stopRequested = false;
  private readonly streamDir: string;
  private readonly workDir: string;

  constructor(
    readonly spec: TranscoderSpec,
    private readonly deps: TranscoderDeps,
  ) {
    this.exited = new Promise((r) => (this.resolveExit = r));
    this.streamDir = join(spec.mediaRoot, spec.streamId);
    this.workDir = join(this.streamDir, WORK);
  }

  async start(): Promise<void> {
    const { spec, deps } = this;
    await mkdir(this.workDir, { recursive: true });
    await mkdir(join(this.streamDir, 'thumbs'), { recursive: true });
    let highest = -1;
    for (const r of spec.ladder) {
      const dir = join(this.streamDir, r.name);
      await mkdir(dir, { recursive: true });
      const files = await readdir(dir);
      // A killed ffmpeg leaves its half-written segment under the temp name: never listed, never served.
      await Promise.all(files.filter((f) => f.endsWith('.tmp')).map((f) => rm(join(dir, f), { force: true })));
      highest = Math.max(highest, highestNumber(files, 'ts'));
    }
    this.resumed = highest >= 0;
    const thumbs = await readdir(join(this.streamDir, 'thumbs'));
    this.lastThumb = highestNumber(thumbs, 'jpg');
    if (this.resumed) await this.reannouncePreviousRun();
    for (const r of spec.ladder) this.announced.set(r.name, highest);
    await rm(this.workDir, { recursive: true, force: true });
    await mkdir(this.workDir, { recursive: true });

    await deps.publish([
      {
        type: 'RenditionLadder',
        renditions: spec.ladder.map(({ level: _l, gop: _g, ...r }) => r),
        segmentDurationMs: spec.segmentDurationMs,
        encoder: spec.encoder,
        partTargetMs: 0,
      },
    ]);

    const plan = buildTranscodePlan({
      input: spec.input,
      live: spec.live,
      hasAudio: spec.hasAudio,
      ladder: spec.ladder,
      segmentDurationMs: spec.segmentDurationMs,
      encoder: spec.encoder,
      decoder: spec.decoder,
      x264Preset: spec.x264Preset,
      streamDir: this.streamDir,
      workDir: this.workDir,
      startNumber: highest + 1,
      thumbnail: spec.thumbnail && { ...spec.thumbnail, startNumber: this.lastThumb + 1 },
      stallTimeoutS: spec.stallTimeoutS,
      playlistWindow: 10,
    });
    const log = deps.log.child({ streamId: spec.streamId });
    const cmd = commandFor(plan, deps.ffmpegPath);
    this.command = cmd;
    cmd.on('start', () =>
      log.info(
        {
          startNumber: highest + 1,
          resumed: this.resumed,
          encoder: spec.encoder,
          decoder: spec.decoder,
          ladder: spec.ladder.map((r) => r.name),
        },
        'ffmpeg started',
      ),
    );
    cmd.on('stderr', (line: string) => {
      const text = line.trim();
      // swscale's note about JPEG's full-range pixel format is noise, not a problem.
      if (text && !text.includes('deprecated pixel format')) log.warn({ ffmpeg: text }, 'ffmpeg');
    });
    const finish = (error: string | null, code: number | null) => {
      clearInterval(this.timer);
      this.watcher?.close();
      // One last look: the final segments are listed just before ffmpeg exits.
      this.scanning = this.scanning
        .then(() => this.scan())
        .catch((err: unknown) => log.error({ err }, 'final scan failed'));
      void this.scanning.then(() => this.resolveExit({ code, error, stopped: this.stopRequested }));
    };
    cmd.on('end', () => finish(null, 0));
    cmd.on('error', (err: Error) => finish(err.message, exitCode(err.message)));
    cmd.run();
    // ffmpeg renames each playlist into place as it lists a segment: scanning on that event rather
    // than on the next poll took up to a poll interval off every segment's way to the viewers. The
    // poll stays as the fallback for filesystems without notifications.
    try {
      this.watcher = watch(this.workDir, { persistent: false }, (_event, file) => {
        if (file === null || String(file).endsWith('.m3u8')) this.scanSoon();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      this.watcher = undefined;
    }
    this.timer = setInterval(() => this.scanSoon(), deps.pollMs ?? 250);
  }

  /** Queues one scan after the running one; events arriving meanwhile share it. */
  private scanSoon(): void {
    if (this.scanQueued) return;
    this.scanQueued = true;
    this.scanning = this.scanning
      .then(() => {
        this.scanQueued = false;
        return this.scan();
      })
      .catch((err: unknown) => this.deps.log.error({ err, streamId: this.spec.streamId }, 'segment scan failed'));
  }

  /**
   * Graceful: SIGINT makes ffmpeg flush its encoders and write the last (short) segment and the
   * trailers; after `deadlineMs` it is killed.
   */
  async stop(deadlineMs = 10_000): Promise<TranscodeExit> {
    this.stopRequested = true;
    this.command?.kill('SIGINT');
    const timer = setTimeout(() => this.command?.kill('SIGKILL'), deadlineMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private async reannouncePreviousRun(): Promise<void> {
    for (const r of this.spec.ladder) {
      const text = await readFile(join(this.workDir, `${r.name}.m3u8`), 'utf8').catch(() => '');
      await this.announce(r, parseMediaPlaylist(text).entries, false);
    }
  }

  private async scan(): Promise<void> {
    for (const r of this.spec.ladder) {
      const text = await readFile(join(this.workDir, `${r.name}.m3u8`), 'utf8').catch(() => '');
      const last = this.announced.get(r.name) ?? -1;
      const fresh = parseMediaPlaylist(text).entries.filter((e) => e.sequence > last);
      if (fresh.length) await this.announce(r, fresh, true);
    }
    if (this.spec.thumbnail) await this.scanThumbnails(this.spec.thumbnail);
  }

  /**
   * Publishes SegmentReady for entries whose file is on disk. Live entries count as announced only
   * once Kafka acknowledged them, so a failed publish is retried by the next scan.
   */
  private async announce(
    r: ChosenRendition,
    entries: ReturnType<typeof parseMediaPlaylist>['entries'],
    live: boolean,
  ): Promise<void> {
    const payloads: Array<MediaEventPayload & { type: 'SegmentReady' }> = [];
    for (const e of entries) {
      const uri = `${r.name}/${segmentFile(e.sequence)}`;
      const bytes = await stat(join(this.streamDir, uri)).then(
        (s) => s.size,
        () => null,
      );
      if (bytes === null) continue;
      payloads.push({
        type: 'SegmentReady',
        rendition: r.name,
        sequence: e.sequence,
        durationMs: e.durationMs,
        uri,
        bytes,
        programDateTime: e.programDateTime ?? Date.now() - e.durationMs,
        discontinuity: live && this.resumed && !this.startedRungs.has(r.name) && payloads.length === 0,
        initUri: null,
      });
    }
    if (!payloads.length) return;
    await this.deps.publish(payloads);
    if (!live) return;
    this.startedRungs.add(r.name);
    this.markAnnounced(r.name, payloads[payloads.length - 1]!.sequence);
  }

  private markAnnounced(rendition: string, sequence: number): void {
    this.announced.set(rendition, Math.max(this.announced.get(rendition) ?? -1, sequence));
  }

  private async scanThumbnails(t: NonNullable<TranscoderSpec['thumbnail']>): Promise<void> {
    const files = await readdir(join(this.streamDir, 'thumbs')).catch(() => [] as string[]);
    const fresh = files
      .map((f) => /^(\d{6,})\.jpg$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .filter((n) => n > this.lastThumb)
      .sort((a, b) => a - b);
    if (!fresh.length) return;
    this.lastThumb = fresh[fresh.length - 1]!;
    await this.deps.publish(
      fresh.map((n) => ({
        type: 'ThumbnailReady',
        uri: `thumbs/${thumbnailFile(n)}`,
        width: t.width,
        height: t.height,
      })),
    );
  }
}

function exitCode(message: string): number | null {
  const m = /exited with code (\d+)/.exec(message);
  return m ? Number(m[1]) : null;
}
