import { join } from 'node:path';
import type { ChosenRendition } from './ladder.ts';
import type { Decoder, Encoder, FfmpegInput, FfmpegOutput, FfmpegPlan } from '../platform/ffmpeg.ts';

/**
 * One ffmpeg per stream: decode once, split, scale each rung, encode, and cut every rung into
 * MPEG-TS segments with ffmpeg's HLS muxer. Pure: the argument list is built here and tested as
 * an exact list; the runner only spawns it.
 *
 * Layout it writes (the worker -> packager contract, docs/media.md):
 *   <streamDir>/<rendition>/<NNNNNN>.ts   segments, written as .tmp and renamed when complete
 *   <streamDir>/thumbs/<NNNNNN>.jpg       one thumbnail per `thumbnail.everySec`, renamed likewise
 *   <workDir>/<rendition>.m3u8            ffmpeg's own playlists: how the worker learns a segment
 *                                         is complete, its duration and program date time
 *
 * Segment boundaries line up across rungs: every rung forces a keyframe at the same multiples of
 * the segment duration (scene-cut keyframes off), and the muxer cuts at the first keyframe past
 * each multiple, so sequence N covers the same span in every rung.
 */

export interface TranscodeJob {
  input: string;
  /** A live pull (RTMP): fail when the source stalls instead of waiting forever. */
  live: boolean;
  /** Without source audio a silent track is encoded, so every rung is H.264 + AAC as announced. */
  hasAudio: boolean;
  ladder: ChosenRendition[];
  segmentDurationMs: number;
  encoder: Encoder;
  decoder: Decoder;
  /** libx264 speed/quality trade-off. */
  x264Preset: string;
  streamDir: string;
  workDir: string;
  /** First segment number: continues the stream's sequence after a restart. */
  startNumber: number;
  thumbnail: { everySec: number; width: number; height: number; startNumber: number } | null;
  /** Seconds without data before a live input counts as gone. */
  stallTimeoutS: number;
  /** Entries kept in ffmpeg's own playlists; the worker polls them, so a few segments are enough. */
  playlistWindow: number;
}

export function buildTranscodePlan(job: TranscodeJob): FfmpegPlan {
  const gpuFrames = job.decoder === 'cuda';
  const gpuEncode = job.encoder === 'h264_nvenc';
  const segS = job.segmentDurationMs / 1000;
  const inputs: FfmpegInput[] = [
    {
      source: job.input,
      options: [
        ...(gpuFrames ? ['-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda'] : []),
        ...(job.live ? ['-rw_timeout', String(job.stallTimeoutS * 1_000_000)] : []),
      ],
    },
  ];
  if (!job.hasAudio) {
    inputs.push({ source: 'anullsrc=channel_layout=stereo:sample_rate=48000', options: ['-f', 'lavfi'] });
  }
  const audioMap = job.hasAudio ? '0:a:0' : '1:a:0';

  const branches = job.ladder.length + (job.thumbnail ? 1 : 0);
  const filters = [`[0:v]split=${branches}${Array.from({ length: branches }, (_, i) => `[s${i}]`).join('')}`];
  job.ladder.forEach((r, i) => {
    const scale = !gpuFrames
      ? `scale=${r.width}:${r.height},format=yuv420p`
      : `scale_cuda=${r.width}:${r.height}${gpuEncode ? '' : ',hwdownload,format=nv12'}`;
    filters.push(`[s${i}]fps=${r.frameRate},${scale}[v${i}]`);
  });
  if (job.thumbnail) {
    const t = job.thumbnail;
    const scale = gpuFrames
      ? `scale_cuda=${t.width}:${t.height},hwdownload,format=nv12`
      : `scale=${t.width}:${t.height}`;
    filters.push(`[s${job.ladder.length}]fps=1/${t.everySec},${scale}[thumb]`);
  }

  const outputs: FfmpegOutput[] = job.ladder.map((r, i) => ({
    target: join(job.workDir, `${r.name}.m3u8`),
    options: [
      '-map',
      `[v${i}]`,
      '-map',
      audioMap,
      ...videoCodec(job, r),
      '-g',
      String(r.gop),
      '-keyint_min',
      String(r.gop),
      '-force_key_frames',
      `expr:gte(t,n_forced*${segS})`,
      '-b:v',
      String(r.videoBitrate),
      '-maxrate',
      String(r.videoBitrate),
      '-bufsize',
      String(2 * r.videoBitrate),
      '-c:a',
      'aac',
      '-b:a',
      String(r.audioBitrate),
      '-ar',
      '48000',
      '-ac',
      '2',
      ...(job.hasAudio ? [] : ['-shortest']),
      '-f',
      'hls',
      '-hls_time',
      String(segS),
      '-hls_list_size',
      String(job.playlistWindow),
      '-hls_segment_type',
      'mpegts',
      '-hls_flags',
      'temp_file+independent_segments+program_date_time',
      '-start_number',
      String(job.startNumber),
      '-hls_segment_filename',
      join(job.streamDir, r.name, '%06d.ts'),
    ],
  }));
  if (job.thumbnail) {
    outputs.push({
      target: join(job.streamDir, 'thumbs', '%06d.jpg'),
      options: [
        '-map',
        '[thumb]',
        '-c:v',
        'mjpeg',
        '-q:v',
        '5',
        '-f',
        'image2',
        '-atomic_writing',
        '1',
        '-start_number',
        String(job.thumbnail.startNumber),
      ],
    });
  }
  return {
    inputs,
    global: ['-hide_banner', '-loglevel', 'warning', '-nostdin'],
    complexFilter: filters.join(';'),
    outputs,
  };
}

function videoCodec(job: TranscodeJob, r: ChosenRendition): string[] {
  if (job.encoder === 'h264_nvenc') {
    // p4 = NVENC's balanced preset, ll tuning (no B-frames) for live latency; forced-idr makes
    // the forced keyframes IDRs, so every segment starts decodable.
    return [
      '-c:v',
      'h264_nvenc',
      '-preset',
      'p4',
      '-tune',
      'll',
      '-rc',
      'cbr',
      '-profile:v',
      'high',
      '-level:v',
      r.level,
      '-forced-idr',
      '1',
      '-no-scenecut',
      '1',
    ];
  }
  // zerolatency: no lookahead, no B-frames, sliced threads. Without it x264 holds back about a
  // second of frames at 15-30 fps (lookahead, B-frame reordering, frame threads), and a segment is
  // complete only when the next one's first frame leaves the encoder, so that second went straight
  // into every viewer's delay (npm run bench -- latency: p50 3.3 s with it held back).
  return [
    '-c:v',
    'libx264',
    '-preset',
    job.x264Preset,
    '-tune',
    'zerolatency',
    '-profile:v',
    'high',
    '-level:v',
    r.level,
    '-sc_threshold',
    '0',
  ];
}

/**
 * The argument list in the order fluent-ffmpeg assembles it (inputs, -y, -filter_complex, then
 * the global options, which fluent-ffmpeg can only add ahead of the first output's; ffmpeg takes
 * them as global wherever they stand), so the unit-tested list is exactly what runs.
 */
export function planArgs(plan: FfmpegPlan): string[] {
  return [
    ...plan.inputs.flatMap((i) => [...i.options, '-i', i.source]),
    '-y',
    '-filter_complex',
    plan.complexFilter,
    ...plan.global,
    ...plan.outputs.flatMap((o) => [...o.options, o.target]),
  ];
}
