import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { which } from './debian.ts';

/**
 * The thin runner: fluent-ffmpeg spawns the plan built by ffmpeg-args.ts, parses its stderr and
 * kills it. ffmpeg runs behind a two-line launcher that sets a parent-death signal
 * (`setpriv --pdeathsig KILL`), so a worker killed with SIGKILL takes its ffmpeg with it: an
 * orphan would keep writing a stream's segments beside the worker that took the stream over.
 */
/** The H.264 encoder; NVENC where the GPU has it. */
export type Encoder = 'libx264' | 'h264_nvenc';
/**
 * Where the source is decoded and scaled: on the CPU, or on an NVIDIA GPU (NVDEC + scale_cuda).
 * Independent of the encoder: a GPU without NVENC (A100, H100) still takes the decode and the
 * scaling off the CPU, and its frames are downloaded only for libx264.
 */
export type Decoder = 'cpu' | 'cuda';

/** One ffmpeg invocation, as built by the media workers' pure argument builders. */
export interface FfmpegInput {
  source: string;
  options: string[];
}

export interface FfmpegOutput {
  target: string;
  options: string[];
}

export interface FfmpegPlan {
  inputs: FfmpegInput[];
  global: string[];
  complexFilter: string;
  outputs: FfmpegOutput[];
}

let launcher: string | undefined;

export function ffmpegLauncher(ffmpegBin = which('ffmpeg')): string {
  if (!ffmpegBin) throw new Error('ffmpeg is not installed (Debian package ffmpeg)');
  if (launcher) return launcher;
  const setpriv = which('setpriv');
  if (!setpriv) {
    launcher = ffmpegBin;
    return launcher;
  }
  const dir = mkdtempSync(join(tmpdir(), 'live-ffmpeg-'));
  launcher = join(dir, 'ffmpeg');
  writeFileSync(launcher, `#!/bin/sh\nexec ${setpriv} --pdeathsig KILL -- ${ffmpegBin} "$@"\n`);
  chmodSync(launcher, 0o755);
  return launcher;
}

/** A fluent-ffmpeg command holding exactly the plan's arguments (see planArgs). */
export function commandFor(plan: FfmpegPlan, ffmpegPath: string): ffmpeg.FfmpegCommand {
  const cmd = ffmpeg();
  cmd.setFfmpegPath(ffmpegPath);
  for (const input of plan.inputs) {
    cmd.input(input.source);
    // Spread, never one array: fluent-ffmpeg splits a lone array's items at spaces (paths!).
    if (input.options.length) cmd.inputOptions(...input.options);
  }
  cmd.addOptions(...plan.global);
  // A remux-only plan without thumbnails filters nothing.
  if (plan.complexFilter) cmd.complexFilter(plan.complexFilter);
  for (const output of plan.outputs) cmd.output(output.target).outputOptions(...output.options);
  return cmd;
}

/** What fluent-ffmpeg will pass to ffmpeg for a command (its own builder, so tests compare the real thing). */
export function commandArgs(cmd: ffmpeg.FfmpegCommand): string[] {
  return (cmd as unknown as { _getArguments(): string[] })._getArguments();
}

export interface ProbedSource {
  width: number | null;
  height: number | null;
  frameRate: number | null;
  videoCodec: string | null;
  audioCodec: string | null;
  /** Whether the video reorders frames (B-frames): WebRTC carries no decode timestamps, so such a source is re-encoded for it. */
  hasBFrames?: boolean | null;
  /** H.264 profile and level as ffprobe names them ('High', 31): the CODECS of a remuxed source. */
  videoProfile?: string | null;
  videoLevel?: number | null;
}

/** ffprobe through fluent-ffmpeg, bounded so a silent source cannot hang the caller. */
export function probe(url: string, timeoutS: number): Promise<ProbedSource> {
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(
      url,
      ['-rw_timeout', String(timeoutS * 1_000_000), '-analyzeduration', '2000000', '-probesize', '2000000'],
      (err, data) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const v = data.streams.find((s) => s.codec_type === 'video');
        const a = data.streams.find((s) => s.codec_type === 'audio');
        resolve({
          width: v?.width ?? null,
          height: v?.height ?? null,
          frameRate: v ? frameRate(v.r_frame_rate, v.avg_frame_rate) : null,
          videoCodec: v?.codec_name ?? null,
          audioCodec: a?.codec_name ?? null,
          hasBFrames: v ? Number(v.has_b_frames ?? 0) > 0 : null,
          videoProfile: typeof v?.profile === 'string' ? v.profile : null,
          videoLevel: typeof v?.level === 'number' ? v.level : null,
        });
      },
    );
  });
}

/**
 * ffprobe's r_frame_rate (the rate every timestamp fits), unless it is far above the average: a
 * variable-frame-rate source (a browser's canvas or screen over WHIP, bridged to FLV's 1 ms time
 * base) has an r_frame_rate of 1000 however few frames it sends, and its average is the rate.
 */
export function frameRate(r: string | undefined, avg: string | undefined): number | null {
  const real = rate(r);
  const average = rate(avg);
  return average !== null && (real === null || real > average * 2) ? average : real;
}

function rate(r: string | undefined): number | null {
  if (!r) return null;
  const [n, d] = r.split('/').map(Number);
  const v = d ? n! / d : n!;
  return Number.isFinite(v) && v > 0 ? Math.round(v * 1000) / 1000 : null;
}

/**
 * The GPU is used for what it can really do: the encoder or filter being compiled into ffmpeg is
 * not enough (the driver's libcuda and libnvidia-encode must load, and datacenter GPUs such as
 * the A100 and H100 have NVDEC but no NVENC), so a tiny test encode and a tiny test decode decide,
 * each on its own.
 */
export interface Probe {
  ok: boolean;
  /** ffmpeg's first error when it failed: goes into the reason an operator reads. */
  detail: string;
}

export interface GpuCheck {
  nvidiaSmi: () => boolean;
  hasNvencEncoder: () => boolean;
  testEncode: () => Probe;
  testCudaDecode: () => Probe;
}

export interface MediaPath {
  encoder: Encoder;
  decoder: Decoder;
  reason: string;
}

export function detectMediaPath(
  modes: { encoder: 'auto' | Encoder; decoder: 'auto' | Decoder },
  check: GpuCheck = systemGpuCheck(),
): MediaPath {
  let gpu: boolean | undefined;
  const hasGpu = (): boolean => (gpu ??= check.nvidiaSmi());
  const failed = (what: string, p: Probe): string => `${what} failed${p.detail ? ` (${p.detail})` : ''}`;

  let encoder: Encoder = 'libx264';
  let encoderWhy = 'MEDIA_ENCODER=libx264';
  if (modes.encoder !== 'libx264') {
    let why: string | null = null;
    if (!hasGpu()) why = 'no NVIDIA GPU';
    else if (!check.hasNvencEncoder()) why = 'ffmpeg has no h264_nvenc';
    else {
      const t = check.testEncode();
      if (!t.ok) why = failed('h264_nvenc test encode', t);
    }
    if (why && modes.encoder === 'h264_nvenc') throw new Error(`MEDIA_ENCODER=h264_nvenc but ${why}`);
    [encoder, encoderWhy] = why ? ['libx264', why] : ['h264_nvenc', 'NVIDIA GPU with a working NVENC'];
  }

  let decoder: Decoder = 'cpu';
  let decoderWhy = 'MEDIA_DECODER=cpu';
  if (modes.decoder !== 'cpu') {
    let why: string | null = null;
    if (!hasGpu()) why = 'no NVIDIA GPU';
    else {
      const t = check.testCudaDecode();
      if (!t.ok) why = failed('CUDA decode + scale_cuda test', t);
    }
    if (why && modes.decoder === 'cuda') throw new Error(`MEDIA_DECODER=cuda but ${why}`);
    [decoder, decoderWhy] = why ? ['cpu', why] : ['cuda', 'NVIDIA GPU with working NVDEC and scale_cuda'];
  }
  return { encoder, decoder, reason: `encoder ${encoder}: ${encoderWhy}; decoder ${decoder}: ${decoderWhy}` };
}

export function systemGpuCheck(ffmpegBin = which('ffmpeg') ?? 'ffmpeg'): GpuCheck {
  const run = (cmd: string, args: string[]): Probe & { out: string } => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
    // The first error is the cause ("Cannot load libcuda.so.1", "OpenEncodeSessionEx failed:
    // unsupported device"); the lines after it only report that the output could not start.
    const first = `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`
      .split('\n')
      .map((l) => l.replace(/^\[[^\]]* @ 0x[0-9a-f]+\]\s*/, '').trim())
      .find(Boolean);
    return {
      ok: r.status === 0,
      out: `${r.stdout ?? ''}`,
      detail: r.status === 0 ? '' : (first ?? `exit ${r.status ?? r.signal}`).slice(0, 200),
    };
  };
  const quiet = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  const tiny = ['-f', 'lavfi', '-i', 'testsrc2=size=256x144:rate=30', '-t', '0.2'];
  return {
    nvidiaSmi: () => {
      const r = run('nvidia-smi', ['-L']);
      return r.ok && /GPU \d+:/.test(r.out);
    },
    hasNvencEncoder: () => /\bh264_nvenc\b/.test(run(ffmpegBin, ['-hide_banner', '-encoders']).out),
    testEncode: () => run(ffmpegBin, [...quiet, ...tiny, '-c:v', 'h264_nvenc', '-f', 'null', '-']),
    testCudaDecode: () => {
      // NVDEC needs a real H.264 stream to decode; without a working decoder ffmpeg would fall
      // back to software frames silently, and scale_cuda then refuses them, so this fails too.
      const dir = mkdtempSync(join(tmpdir(), 'live-cuda-probe-'));
      try {
        const sample = join(dir, 'sample.ts');
        const made = run(ffmpegBin, [...quiet, ...tiny, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', sample]);
        if (!made.ok) return { ok: false, detail: `could not make a test sample: ${made.detail}` };
        return run(ffmpegBin, [
          ...quiet,
          ...['-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda', '-i', sample],
          ...['-vf', 'scale_cuda=128:72,hwdownload,format=nv12', '-f', 'null', '-'],
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
