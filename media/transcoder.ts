import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LadderReason, MediaEventPayload } from '../schemas/generated/events.ts';
import type { Logger } from '../platform/logger.ts';
import { buildTranscodePlan, type TranscodeJob } from './ffmpeg-args.ts';
import { commandFor } from '../platform/ffmpeg.ts';
import { advertisedPartTargetMs, type ChosenRendition } from './ladder.ts';
import { highestSequence, highestThumbnail, thumbnailFile } from './files.ts';
import { RenditionOutput } from './cmaf-output.ts';
import { MediaClock } from './media-clock.ts';
import { ProgressReader, type ProgressReport } from './capacity.ts';
import { recoverRendition } from './cmaf-recover.ts';

/**
 * One stream's transcode: prepares its folders, continues its numbering from what is on disk,
 * runs ffmpeg, and turns its fMP4 output into LL-HLS parts and segments, announced in order
 * through `publish` (PartReady for each part, SegmentReady when its segment is complete), and each
 * new thumbnail into a ThumbnailReady.
 *
 * Restart: media already on disk means an earlier run (this worker's or a dead one's) produced
 * this stream; numbering continues after the highest segment any file belongs to (a part of an
 * unfinished segment included: its name may be cached at an edge as immutable), with a new init
 * section, and the first segment of every rung (and its parts) is marked as a discontinuity.
 * Every rendition folder counts, not only this run's rungs: a run with a smaller (or larger)
 * ladder after a capacity change continues the numbering of the rungs it dropped or brings back,
 * so a sequence number is one time span in every rendition of the stream.
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
  /** Threads per video encoder (0: the encoder's choice). */
  threads?: number;
  /** Why this run has this ladder, as its RenditionLadder says (a first run: START, nothing dropped). */
  ladderChange?: { reason: LadderReason; dropped: string[] };
}

export interface TranscoderDeps {
  publish: (payloads: MediaEventPayload[]) => Promise<void>;
  ffmpegPath: string;
  log: Logger;
  pollMs?: number;
  /** Each ffmpeg progress report (about one a second), with the wall clock it arrived at. */
  onProgress?: (report: ProgressReport & { at: number }) => void;
}

export interface TranscodeExit {
  code: number | null;
  error: string | null;
  /** True when ffmpeg ended because it was asked to stop. */
  stopped: boolean;
}

export class StreamTranscoder {
  readonly exited: Promise<TranscodeExit>;
  private resolveExit!: (e: TranscodeExit) => void;
  private command: ReturnType<typeof commandFor> | undefined;
  private outputs: RenditionOutput[] = [];
  private socketDir: string | undefined;
  private lastThumb = -1;
  private timer: NodeJS.Timeout | undefined;
  private thumbs: Promise<void> = Promise.resolve();
  private stopRequested = false;
  private readonly streamDir: string;
  private readonly progress = new ProgressReader();

  constructor(
    readonly spec: TranscoderSpec,
    private readonly deps: TranscoderDeps,
  ) {
    this.exited = new Promise((r) => (this.resolveExit = r));
    this.streamDir = join(spec.mediaRoot, spec.streamId);
  }

  async start(): Promise<void> {
    const { spec, deps } = this;
    await mkdir(join(this.streamDir, 'thumbs'), { recursive: true });
    let highest = -1;
    for (const entry of await readdir(this.streamDir, { withFileTypes: true })) {
      if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'thumbs')
        highest = Math.max(highest, highestSequence(await readdir(join(this.streamDir, entry.name))));
    }
    const recovered: MediaEventPayload[] = [];
    for (const r of spec.ladder) {
      const dir = join(this.streamDir, r.name);
      await mkdir(dir, { recursive: true });
      const files = await readdir(dir);
      // A killed run leaves its half-written file under the temp name: never listed, never served.
      await Promise.all(files.filter((f) => f.endsWith('.tmp')).map((f) => rm(join(dir, f), { force: true })));
      highest = Math.max(highest, highestSequence(files));
      recovered.push(...(await recoverRendition(dir, r.name, files, r.frameRate)));
    }
    if (recovered.length) await deps.publish(recovered);
    const resumed = highest >= 0;
    const startNumber = highest + 1;
    this.lastThumb = highestThumbnail(await readdir(join(this.streamDir, 'thumbs')));

    await deps.publish([
      {
        type: 'RenditionLadder',
        renditions: spec.ladder.map(({ level: _l, gop: _g, partFrames: _p, copy: _c, ...r }) => r),
        segmentDurationMs: spec.segmentDurationMs,
        encoder: spec.encoder,
        partTargetMs: advertisedPartTargetMs(spec.ladder),
        reason: spec.ladderChange?.reason ?? 'START',
        dropped: spec.ladderChange?.dropped ?? [],
      },
    ]);

    const log = deps.log.child({ streamId: spec.streamId });
    // Socket paths are limited to about 100 bytes, so they live in a short folder of their own.
    this.socketDir = await mkdtemp(join(tmpdir(), 'live-media-'));
    const clock = new MediaClock();
    this.outputs = spec.ladder.map(
      (r) =>
        new RenditionOutput({
          rendition: r.name,
          dir: join(this.streamDir, r.name),
          uriPrefix: r.name,
          socketPath: join(this.socketDir!, `${r.name}.sock`),
          startNumber,
          partFrames: r.partFrames,
          frameRate: r.frameRate,
          discontinuity: spec.live && resumed,
          clock,
          announce: (payload) => deps.publish([payload]),
          log,
        }),
    );
    await Promise.all(this.outputs.map((o) => o.listen()));

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
      outputs: Object.fromEntries(spec.ladder.map((r) => [r.name, `unix:${join(this.socketDir!, `${r.name}.sock`)}`])),
      thumbnail: spec.thumbnail && { ...spec.thumbnail, startNumber: this.lastThumb + 1 },
      stallTimeoutS: spec.stallTimeoutS,
      ...(spec.threads ? { threads: spec.threads } : {}),
    });
    const cmd = commandFor(plan, deps.ffmpegPath);
    this.command = cmd;
    cmd.on('start', () =>
      log.info(
        {
          startNumber,
          resumed,
          encoder: spec.encoder,
          decoder: spec.decoder,
          ladder: spec.ladder.map((r) => `${r.name}/${r.partFrames}f`),
        },
        'ffmpeg started',
      ),
    );
    cmd.on('stderr', (line: string) => {
      if (ProgressReader.isProgressLine(line)) {
        const report = this.progress.push(line);
        if (report) deps.onProgress?.({ ...report, at: Date.now() });
        return;
      }
      const text = line.trim();
      // swscale's note about JPEG's full-range pixel format is noise, not a problem.
      if (text && !text.includes('deprecated pixel format')) log.warn({ ffmpeg: text }, 'ffmpeg');
    });
    const finish = (error: string | null, code: number | null) => {
      clearInterval(this.timer);
      for (const o of this.outputs) o.close();
      // Everything ffmpeg sent before it exited is written and announced before the run counts as over.
      void Promise.all(this.outputs.map((o) => o.done))
        .then(() => this.scanThumbnailsSoon())
        .catch((err: unknown) => log.error({ err }, 'final announcements failed'))
        .then(() => rm(this.socketDir!, { recursive: true, force: true }))
        .then(() => this.resolveExit({ code, error, stopped: this.stopRequested }));
    };
    cmd.on('end', () => finish(null, 0));
    // fluent-ffmpeg appends ffmpeg's last stderr lines to the error: the progress blocks are not the cause.
    const cause = (message: string) =>
      message
        .split('\n')
        .filter((l) => !ProgressReader.isProgressLine(l))
        .join('\n');
    cmd.on('error', (err: Error) => finish(cause(err.message), exitCode(err.message)));
    cmd.run();
    if (spec.thumbnail) this.timer = setInterval(() => void this.scanThumbnailsSoon(), deps.pollMs ?? 1000);
  }

  /** ffmpeg's process id while it runs (its CPU is measured from /proc). */
  get pid(): number | undefined {
    return (this.command as unknown as { ffmpegProc?: { pid?: number } } | undefined)?.ffmpegProc?.pid;
  }

  /**
   * Graceful: SIGINT makes ffmpeg flush its encoders and send its last (short) segment; after
   * `deadlineMs` it is killed.
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

  /**
   * The broadcast ended: ffmpeg is left to encode what it already received (its input ends when
   * ingest lets the publisher go) and stopped only after `deadlineMs`. Stopping at once lost the
   * media ffmpeg had not caught up with yet, most of a recording when it ran behind real time.
   */
  async finish(deadlineMs: number): Promise<TranscodeExit> {
    // However the run ends now (its input ending, or going silent past -rw_timeout), it was asked to.
    this.stopRequested = true;
    const timer = setTimeout(() => void this.stop(), deadlineMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private scanThumbnailsSoon(): Promise<void> {
    const t = this.spec.thumbnail;
    if (!t) return Promise.resolve();
    this.thumbs = this.thumbs
      .then(() => this.scanThumbnails(t))
      .catch((err: unknown) => this.deps.log.error({ err, streamId: this.spec.streamId }, 'thumbnail scan failed'));
    return this.thumbs;
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
