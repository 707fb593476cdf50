import type { RefusalCode } from '../schemas/generated/events.ts';
import type { ProbedSource } from '../platform/ffmpeg.ts';

/**
 * Whether a media worker can transcode a source as it is, decided from what the probe (or the
 * StreamWentLive) says about it. Pure. A refused source is not retried: it is announced once, with
 * a sentence the streamer and the operator read, and the next publish is checked afresh.
 */
export interface SourceLimits {
  /** Highest source height (pixels) the worker will decode. */
  maxHeight: number;
  /** Highest source frame rate the worker will decode. */
  maxFrameRate: number;
}

export type SourceVerdict = { ok: true } | { ok: false; code: Exclude<RefusalCode, 'UNKNOWN'>; reason: string };

/** ffprobe's names of the video codecs RTMP (and enhanced RTMP) carries that the ladder is tested with. */
export const SUPPORTED_VIDEO_CODECS: readonly string[] = ['h264', 'hevc'];

const CODEC_NAMES: Record<string, string> = { h264: 'H.264', hevc: 'HEVC' };

export function checkSource(source: ProbedSource, limits: SourceLimits): SourceVerdict {
  const { width, height, frameRate, videoCodec, audioCodec } = source;
  // Audio-only is refused rather than given an audio-only rendition: the players, the ladder,
  // the thumbnails and the VOD of a video platform all need a picture, and #22 allows a clear
  // refusal. Video without audio is fine: the worker encodes a silent track.
  if (videoCodec === null || width === null || height === null) {
    const what =
      audioCodec === null
        ? 'the source carries no media the worker can read'
        : `the source carries only audio (${audioCodec})`;
    return {
      ok: false,
      code: 'NO_VIDEO',
      reason: `the broadcast has no video: ${what}; send a video track (H.264) with it`,
    };
  }
  if (!SUPPORTED_VIDEO_CODECS.includes(videoCodec)) {
    const supported = SUPPORTED_VIDEO_CODECS.map((c) => CODEC_NAMES[c] ?? c).join(' or ');
    return {
      ok: false,
      code: 'UNSUPPORTED_CODEC',
      reason: `the broadcast's video codec is not supported: ${videoCodec}; send ${supported}`,
    };
  }
  if (height > limits.maxHeight) {
    return {
      ok: false,
      code: 'OVER_LIMITS',
      reason: `the broadcast is above the resolution limit: ${width}x${height}, at most ${limits.maxHeight} lines high`,
    };
  }
  if (frameRate !== null && frameRate > limits.maxFrameRate) {
    return {
      ok: false,
      code: 'OVER_LIMITS',
      reason: `the broadcast is above the frame rate limit: ${frameRate} fps, at most ${limits.maxFrameRate}`,
    };
  }
  return { ok: true };
}
