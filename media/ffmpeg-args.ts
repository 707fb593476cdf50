import { join } from 'node:path';
import type { ChosenRendition } from './ladder.ts';
import type { Decoder, Encoder, FfmpegInput, FfmpegOutput, FfmpegPlan } from '../platform/ffmpeg.ts';

/**
 * One ffmpeg per stream: decode once, split, scale each rung, encode, and send every rung as
 * fragmented MP4 (CMAF: H.264 + AAC) to the worker over a local socket, where it is cut into
 * LL-HLS parts and segments (cmaf-chunker.ts). Pure: the argument list is built here and tested as
 * an exact list; the runner only spawns it.
 *
 * Why fragments of one packet (`-frag_duration` 1 ms, plus a cut at every keyframe): the worker
 * then cuts parts at exact frame counts, the moment a part's last frame is encoded. ffmpeg's own
 * HLS muxer cuts no LL-HLS parts, and its fMP4 fragmenting by duration fires on whichever track
 * crosses the duration first (audio, often), so parts came out 9, 10 and 2 frames long. A moof
 * per packet costs about 100 bytes (~45 kbit/s at 48 kHz AAC and 30 fps), about what MPEG-TS
 * packetisation cost before (docs/media.md has both measured).
 *
 * Also written by ffmpeg: <streamDir>/thumbs/<NNNNNN>.jpg, one per `thumbnail.everySec`.
 *
 * Segment boundaries line up across rungs: every rung forces a keyframe at the same multiples of
 * the segment duration (scene-cut keyframes off), and a segment starts at every keyframe, so
 * sequence N covers the same span in every rung.
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
  /** Where each rung's fMP4 goes, by rendition name (`unix:/path/to/socket`). */
  outputs: Record<string, string>;
  thumbnail: { everySec: number; width: number; height: number; startNumber: number } | null;
  /** Seconds without data before a live input counts as gone. */
  stallTimeoutS: number;
  /** Threads per video encoder; absent or 0: the encoder's own choice (about one per core). */
  threads?: number;
}

export function buildTranscodePlan(job: TranscodeJob): FfmpegPlan {
  const gpuFrames = job.decoder === 'cuda';
  const gpuEncode = job.encoder === 'h264_nvenc';
  const segS = job.segmentDurationMs / 1000;
  const remuxOnly = job.ladder.every((r) => r.copy);
  const inputs: FfmpegInput[] = [
    {
      source: job.input,
      options: [
        ...(gpuFrames ? ['-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda'] : []),
        // low_delay turns off the H.264 decoder's frame threads, each of which held a frame back
        // (two at 15 fps on 2 cores: 130 ms); nobuffer skips buffering while the input is probed.
        ...(job.live
          ? ['-rw_timeout', String(job.stallTimeoutS * 1_000_000), '-fflags', 'nobuffer', '-flags', 'low_delay']
          : []),
        // Only remuxed: the decoder works for the thumbnails alone, and keyframes are enough for them.
        ...(remuxOnly && job.thumbnail ? ['-skip_frame', 'nokey'] : []),
      ],
    },
  ];
  if (!job.hasAudio) {
    inputs.push({ source: 'anullsrc=channel_layout=stereo:sample_rate=48000', options: ['-f', 'lavfi'] });
  }
  const audioMap = job.hasAudio ? '0:a:0' : '1:a:0';

  // A remuxed rung (`copy`) takes the source's packets as they are: no decode, no branch of its own.
  const encoded = job.ladder.filter((r) => !r.copy);
  const branches = encoded.length + (job.thumbnail ? 1 : 0);
  const filters = branches
    ? [`[0:v]split=${branches}${Array.from({ length: branches }, (_, i) => `[s${i}]`).join('')}`]
    : [];
  encoded.forEach((r, i) => {
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
    filters.push(`[s${encoded.length}]fps=1/${t.everySec},${scale}[thumb]`);
  }

  const outputs: FfmpegOutput[] = job.ladder.map((r) => {
    const target = job.outputs[r.name];
    if (!target) throw new Error(`no output for rendition ${r.name}`);
    const i = encoded.indexOf(r);
    return {
      target,
      options: [
        '-map',
        r.copy ? '0:v:0' : `[v${i}]`,
        '-map',
        audioMap,
        ...(r.copy
          ? ['-c:v', 'copy']
          : [
              ...videoCodec(job, r),
              ...(job.threads ? ['-threads', String(job.threads)] : []),
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
            ]),
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
        'mp4',
        '-movflags',
        'empty_moov+default_base_moof+frag_keyframe',
        '-frag_duration',
        '1000',
        '-flush_packets',
        '1',
      ],
    };
  });
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
    // -progress on stderr: a key=value block every second (out_time_us, speed), from which the
    // worker measures how fast the transcode runs (capacity.ts); it prints whatever the log level.
    global: ['-hide_banner', '-loglevel', 'warning', '-nostdin', '-progress', 'pipe:2', '-stats_period', '1'],
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
    ...(plan.complexFilter ? ['-filter_complex', plan.complexFilter] : []),
    ...plan.global,
    ...plan.outputs.flatMap((o) => [...o.options, o.target]),
  ];
}
