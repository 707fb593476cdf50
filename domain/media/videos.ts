import type { VodDeleted } from '../../schemas/generated/events.ts';
import type { StreamRecord } from '../stream/evolve.ts';
import type { StreamMedia } from './catalog.ts';
import { VideoError } from './video-errors.ts';

/**
 * The video library (issue #26): a video is a broadcast that ended recorded, whose packager
 * announced its VOD (VodRecorded) and whose streamer has not deleted it (VodDeleted). Its id is
 * the stream's id. Pure: built from what the API already folds, the stream registry (title,
 * category, streamer, times), the media catalog (VOD playlist, duration, thumbnail, deletion) and
 * the viewer counter's counts (peak viewers). No I/O.
 */
export interface Video {
  videoId: string;
  streamerId: string;
  streamerName: string;
  title: string;
  category: string;
  tags: string[];
  /** The recording's own length (VodRecorded.durationMs), not ended minus started. */
  durationMs: number;
  /** Broadcast start and end, as the recording says. */
  startedAt: number;
  endedAt: number;
  /** When the packager wrote the VOD. */
  recordedAt: number;
  /** Master playlist, relative to the origin root (as VodRecorded gives it). */
  playlistUri: string;
  /** The thumbnail's path under the stream's folder (as ThumbnailReady gives it), if any. */
  thumbnailUri: string | null;
  /** The broadcast's peak concurrent viewers, from the viewer counter: the platform counts no total views. */
  peakViewers: number;
}

/** The stream's video, or undefined when it has none (not ended, not recorded, not yet packaged, or deleted). */
export function videoOf(
  stream: StreamRecord | undefined,
  media: StreamMedia | undefined,
  peakViewers: number,
): Video | undefined {
  const vod = media?.vod;
  if (!stream || stream.status !== 'ended' || !vod || media.deleted) return undefined;
  return {
    videoId: stream.streamId,
    streamerId: stream.streamerId,
    streamerName: stream.streamerName,
    title: stream.title,
    category: stream.category,
    tags: stream.tags,
    durationMs: vod.durationMs,
    startedAt: vod.startedAt,
    endedAt: vod.endedAt,
    recordedAt: vod.occurredAt,
    playlistUri: vod.playlistUri,
    thumbnailUri: media.thumbnail?.uri ?? null,
    peakViewers,
  };
}

/** Where a page ends: the last video's start and id (ids break ties). */
export interface VideoCursor {
  startedAt: number;
  videoId: string;
}

/** Newest first: later start first, then the greater id. */
const newerFirst = (a: Video, b: Video): number =>
  b.startedAt - a.startedAt || (a.videoId < b.videoId ? 1 : a.videoId > b.videoId ? -1 : 0);

const isAfter = (v: Video, c: VideoCursor): boolean =>
  v.startedAt < c.startedAt || (v.startedAt === c.startedAt && v.videoId < c.videoId);

/**
 * One page of a streamer's videos, newest first, after the cursor if any. A video deleted or
 * added between pages neither repeats nor shifts the others: the cursor is a position in the
 * order, not an offset.
 */
export function pageOfVideos(
  videos: Video[],
  after: VideoCursor | null,
  limit: number,
): { videos: Video[]; next: VideoCursor | null } {
  const sorted = videos.filter((v) => !after || isAfter(v, after)).sort(newerFirst);
  const page = sorted.slice(0, limit);
  const last = page.at(-1);
  return {
    videos: page,
    next: sorted.length > limit && last ? { startedAt: last.startedAt, videoId: last.videoId } : null,
  };
}

/** The cursor as the API hands it out: opaque, URL-safe. */
export function encodeVideoCursor(c: VideoCursor): string {
  return Buffer.from(`${c.startedAt}:${c.videoId}`, 'utf8').toString('base64url');
}

/** A cursor this API issued, or null for anything else. */
export function decodeVideoCursor(s: string): VideoCursor | null {
  const text = Buffer.from(s, 'base64url').toString('utf8');
  if (Buffer.from(text, 'utf8').toString('base64url') !== s) return null;
  const m = /^(\d{1,15}):(.{1,200})$/s.exec(text);
  if (!m) return null;
  return { startedAt: Number(m[1]), videoId: m[2]! };
}

/**
 * The owner deletes a video: the VodDeleted to publish. Only the stream's owner may; a video that
 * is not there (never was, or deleted already) is not found, whoever asks.
 */
export function decideVideoDeletion(
  videoId: string,
  video: Video | undefined,
  userId: string,
  made: { eventId: string; now: number },
): VodDeleted {
  if (!video) throw new VideoError('video_not_found', `no video ${videoId}`);
  if (video.streamerId !== userId) throw new VideoError('not_video_owner', 'only its streamer may delete a video');
  return {
    eventId: made.eventId,
    occurredAt: made.now,
    streamId: video.videoId,
    streamerId: video.streamerId,
    deletedBy: userId,
  };
}
