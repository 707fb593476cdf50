import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { which } from '../../compose/launcher/debian.ts';
import type { FfmpegPlan } from './ffmpeg-args.ts';

/**
 * The thin runner: fluent-ffmpeg spawns the plan built by ffmpeg-args.ts, parses its stderr and
 * kills it. ffmpeg runs behind a two-line launcher that sets a parent-death signal
 * (`setpriv --pdeathsig KILL`), so a worker killed with SIGKILL takes its ffmpeg with it: an
 * orphan would keep writing a stream's segments beside the worker that took the stream over.
 */
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
  cmd.complexFilter(plan.complexFilter);
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
          frameRate: v ? (rate(v.r_frame_rate) ?? rate(v.avg_frame_rate)) : null,
          videoCodec: v?.codec_name ?? null,
          audioCodec: a?.codec_name ?? null,
        });
      },
    );
  });
}

function rate(r: string | undefined): number | null {
  if (!r) return null;
  const [n, d] = r.split('/').map(Number);
  const v = d ? n! / d : n!;
  return Number.isFinite(v) && v > 0 ? Math.round(v * 1000) / 1000 : null;
}

/**
 * NVENC is used when an NVIDIA GPU answers and this ffmpeg can really encode on it: the encoder
 * being compiled in is not enough (the driver's libnvidia-encode must load), so a 0.1 s test
 * encode decides.
 */
export interface GpuCheck {
  nvidiaSmi: () => boolean;
  hasNvencEncoder: () => boolean;
  testEncode: () => boolean;
}

export function detectEncoder(
  mode: 'auto' | 'libx264' | 'h264_nvenc',
  check: GpuCheck = systemGpuCheck(),
): {
  encoder: 'libx264' | 'h264_nvenc';
  reason: string;
} {
  if (mode === 'libx264') return { encoder: 'libx264', reason: 'MEDIA_ENCODER=libx264' };
  const gpu = check.nvidiaSmi();
  const nvenc = gpu && check.hasNvencEncoder();
  const works = nvenc && check.testEncode();
  if (works) return { encoder: 'h264_nvenc', reason: 'NVIDIA GPU with a working NVENC' };
  const why = !gpu ? 'no NVIDIA GPU' : !nvenc ? 'ffmpeg has no h264_nvenc' : 'h264_nvenc test encode failed';
  if (mode === 'h264_nvenc') throw new Error(`MEDIA_ENCODER=h264_nvenc but ${why}`);
  return { encoder: 'libx264', reason: why };
}

export function systemGpuCheck(ffmpegBin = which('ffmpeg') ?? 'ffmpeg'): GpuCheck {
  const ok = (cmd: string, args: string[]): { ok: boolean; out: string } => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
    return { ok: r.status === 0, out: `${r.stdout ?? ''}` };
  };
  return {
    nvidiaSmi: () => {
      const r = ok('nvidia-smi', ['-L']);
      return r.ok && /GPU \d+:/.test(r.out);
    },
    hasNvencEncoder: () => /\bh264_nvenc\b/.test(ok(ffmpegBin, ['-hide_banner', '-encoders']).out),
    testEncode: () =>
      ok(ffmpegBin, [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=256x144:rate=30',
        '-t',
        '0.1',
        '-c:v',
        'h264_nvenc',
        '-f',
        'null',
        '-',
      ]).ok,
  };
}
