import type { LatencyMode, Rendition } from '../schemas/generated/events.ts';

/**
 * The adaptive ladder (seed: 160p 300 kbps … 1080p60 8 Mbps) and how one is chosen for a source.
 * A rung is kept only if it upscales neither the source's height nor its frame rate; widths follow
 * the source's aspect ratio (even, as H.264 4:2:0 needs). Each rung's H.264 level is fixed here so
 * the CODECS attribute the packager writes is the one the encoder is told to honour.
 */
export interface Rung {
  name: RenditionName;
  height: number;
  frameRate: number;
  videoBitrate: number;
  audioBitrate: number;
  /** H.264 level as ffmpeg takes it ('3.1') and as RFC 6381 writes it (0x1f). */
  level: { name: string; idc: number };
}

export const RENDITION_NAMES = ['160p', '360p', '480p', '720p', '1080p', '1080p60'] as const;
export type RenditionName = (typeof RENDITION_NAMES)[number];

/** Highest first, as RenditionLadder lists them. */
export const LADDER: readonly Rung[] = [
  {
    name: '1080p60',
    height: 1080,
    frameRate: 60,
    videoBitrate: 8_000_000,
    audioBitrate: 128_000,
    level: lv('4.2', 0x2a),
  },
  {
    name: '1080p',
    height: 1080,
    frameRate: 30,
    videoBitrate: 6_000_000,
    audioBitrate: 128_000,
    level: lv('4.0', 0x28),
  },
  { name: '720p', height: 720, frameRate: 30, videoBitrate: 3_000_000, audioBitrate: 128_000, level: lv('3.1', 0x1f) },
  { name: '480p', height: 480, frameRate: 30, videoBitrate: 1_500_000, audioBitrate: 96_000, level: lv('3.1', 0x1f) },
  { name: '360p', height: 360, frameRate: 30, videoBitrate: 700_000, audioBitrate: 96_000, level: lv('3.0', 0x1e) },
  { name: '160p', height: 160, frameRate: 30, videoBitrate: 300_000, audioBitrate: 64_000, level: lv('2.1', 0x15) },
];

function lv(name: string, idc: number): Rung['level'] {
  return { name, idc };
}

export interface SourceInfo {
  width: number;
  height: number;
  frameRate: number;
}

/** A rung as chosen for one source: its Avro record plus what the encoder needs. */
export interface ChosenRendition extends Rendition {
  level: string;
  /** Keyframe interval in frames: one GOP per segment. */
  gop: number;
  /** Video frames per LL-HLS part (the last part of a segment may have fewer). */
  partFrames: number;
  /** The source's own video, remuxed (`-c:v copy`): its size, rate, GOP and codec are the publisher's. */
  copy?: boolean;
}

/** Frame rates like 29.97 count as 30, 59.94 as 60. */
const FPS_TOLERANCE = 0.99;

export function selectLadder(
  source: SourceInfo,
  segmentDurationMs: number,
  names?: readonly string[],
  partTargetMs = segmentDurationMs,
): ChosenRendition[] {
  const chosen: Omit<ChosenRendition, 'gop' | 'partFrames'>[] = [];
  for (const rung of LADDER) {
    if (names && !names.includes(rung.name)) continue;
    if (rung.height > source.height) continue;
    // The 60 fps rung exists only for sources that really have 60 fps; other rungs take the
    // source's rate when it is lower than theirs (a 25 fps source gives 25 fps rungs).
    if (rung.frameRate > 30 && source.frameRate < rung.frameRate * FPS_TOLERANCE) continue;
    chosen.push(fit(rung, rung.height, source));
  }
  if (chosen.length === 0) {
    // A source smaller than the lowest rung still gets one rendition, at its own size.
    const lowest = LADDER[LADDER.length - 1]!;
    if (!names || names.includes(lowest.name)) chosen.push(fit(lowest, even(source.height), source));
  }
  const partsPerSegment = Math.max(1, Math.round(segmentDurationMs / partTargetMs));
  return chosen.map((r) => {
    const gop = Math.max(1, Math.round((r.frameRate * segmentDurationMs) / 1000));
    // Parts split the GOP evenly where they can (60 frames: 6 x 10); otherwise all but the last
    // are one frame longer (25 fps, 2 s: 9 x 5 + 5), never shorter than 85% of the target.
    return { ...r, gop, partFrames: Math.ceil(gop / partsPerSegment) };
  });
}

/** The copy rendition's name: the source as published, not re-encoded. */
export const SOURCE_RENDITION = 'source';

/**
 * The source remuxed without re-encoding, the last step down when even the lowest rung cannot be
 * encoded in real time (what large platforms give channels without transcoding). Its segments cut
 * at the source's own keyframes, so their length is the publisher's GOP, not the segment target
 * (docs/media.md). `codecs` comes from the source (sourceCodecs); the bitrate is the publisher's,
 * unknown here, so the master advertises the seed's bitrate for a rung of the source's height.
 */
export function sourceRendition(
  source: SourceInfo,
  segmentDurationMs: number,
  codecs: string,
  partTargetMs = segmentDurationMs,
): ChosenRendition {
  const rung = LADDER.find((r) => r.height <= source.height) ?? LADDER[LADDER.length - 1]!;
  const frameRate = roundFps(source.frameRate);
  const gop = Math.max(1, Math.round((frameRate * segmentDurationMs) / 1000));
  const partsPerSegment = Math.max(1, Math.round(segmentDurationMs / partTargetMs));
  return {
    name: SOURCE_RENDITION,
    width: source.width,
    height: source.height,
    frameRate,
    videoBitrate: rung.videoBitrate,
    audioBitrate: rung.audioBitrate,
    codecs,
    level: '',
    gop,
    partFrames: Math.ceil(gop / partsPerSegment),
    copy: true,
  };
}

const H264_PROFILES: Record<string, string> = {
  Baseline: '4200',
  'Constrained Baseline': '42e0',
  Main: '4d40',
  Extended: '5800',
  High: '6400',
};

/**
 * RFC 6381 CODECS of a source as ffprobe names its H.264 profile and level (`High`, 31 ->
 * `avc1.64001f,mp4a.40.2`; the audio is always re-encoded to AAC-LC). A profile or codec it does
 * not know gets High 5.1, which every player that plays the source also accepts as a label.
 */
export function sourceCodecs(videoCodec: string | null, profile: string | null, level: number | null): string {
  const p = videoCodec === 'h264' && profile ? H264_PROFILES[profile] : undefined;
  const l = p && level && level > 0 && level < 256 ? level : null;
  return p && l ? `avc1.${p}${l.toString(16).padStart(2, '0')},mp4a.40.2` : 'avc1.640033,mp4a.40.2';
}

function fit(rung: Rung, height: number, source: SourceInfo): Omit<ChosenRendition, 'gop' | 'partFrames'> {
  const frameRate = Math.min(rung.frameRate, roundFps(source.frameRate));
  return {
    name: rung.name,
    width: Math.min(even((height * source.width) / source.height), even(source.width)),
    height,
    frameRate,
    videoBitrate: rung.videoBitrate,
    audioBitrate: rung.audioBitrate,
    codecs: `avc1.6400${rung.level.idc.toString(16).padStart(2, '0')},mp4a.40.2`,
    level: rung.level.name,
  };
}

const even = (n: number): number => Math.max(2, 2 * Math.round(n / 2));

/** 29.97 -> 29.97 but 30.0001 -> 30: keeps ffprobe's rational noise out of filter arguments. */
const roundFps = (fps: number): number => Math.round(fps * 1000) / 1000;

/** Seed: 2 s segments for standard latency, 1 s for low latency (ULTRA_LOW is WebRTC, not built: 1 s too). */
export function segmentDurationMs(mode: LatencyMode): number {
  return mode === 'STANDARD' ? 2000 : 1000;
}

/** LL-HLS part targets per tier (MEDIA_PART_MS_STANDARD, MEDIA_PART_MS_LOW). */
export interface PartTargets {
  standardMs: number;
  lowMs: number;
}

export const DEFAULT_PART_TARGETS: PartTargets = { standardMs: 333, lowMs: 200 };

export function partTargetMs(mode: LatencyMode, targets: PartTargets = DEFAULT_PART_TARGETS): number {
  return mode === 'STANDARD' ? targets.standardMs : targets.lowMs;
}

/**
 * EXT-X-PART-INF's PART-TARGET for a ladder: the longest part any rung cuts (whole frames, so
 * 10 frames at 30 fps give 334 ms, never less than the parts really last).
 */
export function advertisedPartTargetMs(ladder: readonly ChosenRendition[]): number {
  return Math.max(0, ...ladder.map((r) => Math.ceil((r.partFrames * 1000) / r.frameRate)));
}
