import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Decoder, Encoder } from '../../platform/ffmpeg.ts';
import { selectLadder } from '../../media/ladder.ts';
import { testSourceArgs, type TestSource } from '../../media/test-source.ts';
import { StreamTranscoder } from '../../media/transcoder.ts';
import { createLogger } from '../../platform/logger.ts';

/** What the transcode benchmarks share: the source, the ladder and one run of the worker's path. */
export const LADDER = selectLadder({ width: 1920, height: 1080, frameRate: 30 }, 2000, ['1080p', '720p', '480p']);
export const THUMBNAIL = { everySec: 10, width: 320, height: 180 };

/** A 1080p30 testsrc2 source with a 48 kHz tone, H.264 ultrafast qp 18, as a studio encoder would send. */
export function generateSource(ffmpeg: string, seconds: number, dir: string): string {
  const source = join(dir, 'source-1080p30.mp4');
  const studio: TestSource = {
    size: '1920x1080',
    fps: 30,
    tone: { sampleRate: 48_000 },
    seconds,
    live: false,
    gop: 60,
    video: { qp: 18 },
  };
  const gen = spawnSync(ffmpeg, testSourceArgs(studio, [source]));
  if (gen.status !== 0) throw new Error(`could not generate the source: ${gen.stderr.toString()}`);
  return source;
}

export interface WorkerRun {
  wallS: number;
  segments: number;
}

/**
 * The worker's own path for one stream (StreamTranscoder: the plan from ffmpeg-args.ts,
 * fluent-ffmpeg, the parent-death launcher, playlist polling and an event per segment), read from
 * a file as fast as ffmpeg goes, with SegmentReady counted instead of published.
 */
export async function runWorkerPath(o: {
  source: string;
  mediaRoot: string;
  ffmpegPath: string;
  encoder: Encoder;
  decoder: Decoder;
  x264Preset: string;
}): Promise<WorkerRun> {
  let segments = 0;
  const t = new StreamTranscoder(
    {
      streamId: 'stream',
      input: o.source,
      live: false,
      hasAudio: true,
      ladder: LADDER,
      segmentDurationMs: 2000,
      encoder: o.encoder,
      decoder: o.decoder,
      x264Preset: o.x264Preset,
      mediaRoot: o.mediaRoot,
      thumbnail: THUMBNAIL,
      stallTimeoutS: 10,
    },
    {
      publish: async (payloads) => void (segments += payloads.filter((p) => p.type === 'SegmentReady').length),
      ffmpegPath: o.ffmpegPath,
      log: createLogger('bench-transcode', 'warn'),
    },
  );
  const t0 = performance.now();
  await t.start();
  const exit = await t.exited;
  if (exit.error) throw new Error(`worker path (${o.encoder}, ${o.decoder} decode) failed: ${exit.error}`);
  return { wallS: (performance.now() - t0) / 1000, segments };
}
