import { z } from 'zod';
import type { LatencyMode, ViewerCountChanged } from '../../schemas/generated/events.ts';
import { ValidationError, parseOrReject } from '../../platform/validation.ts';
import type { StreamDocument } from '../../domain/discovery/document.ts';
import type { StreamMedia } from '../../domain/media/catalog.ts';
import type { StreamRecord, StreamStatus } from '../../domain/stream/evolve.ts';
import type { StreamSearch } from '../../domain/discovery/query.ts';
import type { CategoryRank, SearchPage } from '../../domain/discovery/search.ts';
import { decodeCursor, encodeCursor, fingerprintOf } from '../../domain/discovery/search-cursor.ts';
import { cdnThumbnailUrl, cdnVodUrl, playbackMedia } from '../../domain/media/playback.ts';
import type { Video } from '../../domain/media/videos.ts';

/**
 * The HTTP API's wire shapes (snake_case JSON, timestamps as ISO 8601 UTC) and query parsing.
 * Fields that later parts of the platform fill (avatar, thumbnail, qualities, dash) are present
 * from the start, as null or empty, so clients never see the shape change.
 */
export interface Links {
  publicBaseUrl: string;
  cdnBaseUrl: string;
  wsBaseUrl: string;
  ingest: { rtmp: string; rtmps: string | null; webrtc: string | null };
  /** The WebRTC gateway's WHEP base (<base>/<streamId>), or null where it does not run. */
  whepBaseUrl: string | null;
}

const LATENCY_WIRE: Record<LatencyMode, string> = { STANDARD: 'standard', LOW: 'low', ULTRA_LOW: 'ultra-low' };
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const base = (url: string): string => url.replace(/\/+$/, '');
const enc = encodeURIComponent;

export function startedResponse(s: StreamRecord, streamKey: string, links: Links) {
  return {
    stream_id: s.streamId,
    stream_key: streamKey,
    ingest_urls: links.ingest,
    playback_url: `${base(links.publicBaseUrl)}/streams/${enc(s.streamId)}`,
    status: s.status,
    latency_mode: LATENCY_WIRE[s.latencyMode],
    created_at: iso(s.createdAt),
  };
}

/** The fields every stream representation starts with. */
const streamSummary = (s: StreamRecord) => ({
  stream_id: s.streamId,
  status: s.status,
  title: s.title,
  category: s.category,
  tags: s.tags,
  latency_mode: LATENCY_WIRE[s.latencyMode],
});

/** The stream as its owner sees it after a change (never the key or its hash). */
export function streamResponse(s: StreamRecord) {
  return {
    ...streamSummary(s),
    enable_recording: s.recordingEnabled,
    enable_chat: s.chatEnabled,
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
    started_at: iso(s.startedAt),
    ended_at: iso(s.endedAt),
  };
}

export function playbackResponse(
  s: StreamRecord,
  viewerCount: number,
  links: Links,
  viewers: Pick<ViewerCountChanged, 'peakViewers' | 'qualities' | 'bufferingRatio'> | undefined = undefined,
  media: StreamMedia | undefined = undefined,
) {
  const m = playbackMedia(s, media, links.cdnBaseUrl);
  return {
    ...streamSummary(s),
    streamer: { user_id: s.streamerId, username: s.streamerName, avatar: null },
    viewer_count: viewerCount,
    // From the viewer counter's latest count: peak of this broadcast, players per rendition, and
    // the share of their latest heartbeat intervals spent buffering (0..1).
    peak_viewer_count: viewers?.peakViewers ?? 0,
    viewers_by_quality: viewers?.qualities ?? {},
    buffering_ratio: viewers?.bufferingRatio ?? 0,
    started_at: iso(s.startedAt),
    ended_at: iso(s.endedAt),
    // WHEP for a live stream in ultra-low mode; its player falls back to `hls` when WebRTC fails.
    playback_urls: {
      hls: m.hls,
      dvr: m.dvr,
      dash: null,
      webrtc:
        links.whepBaseUrl && s.latencyMode === 'ULTRA_LOW' && s.status === 'live'
          ? `${base(links.whepBaseUrl)}/${enc(s.streamId)}`
          : null,
    },
    // The rendition ladder and thumbnails arrive with media (live.media.segments); empty until then.
    qualities: m.qualities,
    thumbnail: m.thumbnail,
    // Why a live stream has no qualities: the media worker refused its source ({code, reason}).
    media_error: m.media_error,
    chat_url: s.chatEnabled ? `${base(links.wsBaseUrl)}/streams/${enc(s.streamId)}/chat` : null,
  };
}

export function searchResponse(
  page: SearchPage,
  nextCursor: string | null,
  thumbnailOf: (doc: StreamDocument) => string | null = () => null,
) {
  return {
    streams: page.streams.map((d: StreamDocument) => ({
      stream_id: d.stream_id,
      title: d.title,
      streamer: { user_id: d.streamer_id, username: d.streamer_name, avatar: null },
      thumbnail: thumbnailOf(d),
      status: d.status,
      viewer_count: d.viewer_count,
      category: d.category,
      tags: d.tags,
      started_at: iso(d.started_at),
      created_at: iso(d.created_at),
    })),
    total_results: page.total,
    next_cursor: nextCursor,
  };
}

/**
 * A video (domain/media/videos.ts). `view_count` is the broadcast's peak concurrent viewers, from
 * the viewer counter: the platform counts no total views. `playback_url` is the VOD master through
 * the CDN; `watch_url` the page that plays it.
 */
export function videoResponse(v: Video, links: Links) {
  return {
    video_id: v.videoId,
    stream_id: v.videoId,
    title: v.title,
    category: v.category,
    tags: v.tags,
    streamer: { user_id: v.streamerId, username: v.streamerName, avatar: null },
    duration_seconds: Math.round(v.durationMs / 1000),
    thumbnail: v.thumbnailUri === null ? null : cdnThumbnailUrl(links.cdnBaseUrl, v.videoId, v.thumbnailUri),
    view_count: v.peakViewers,
    started_at: iso(v.startedAt),
    ended_at: iso(v.endedAt),
    created_at: iso(v.recordedAt),
    playback_url: cdnVodUrl(links.cdnBaseUrl, v.playlistUri),
    watch_url: `${base(links.publicBaseUrl)}/streams/${enc(v.videoId)}`,
  };
}

export function videosResponse(videos: Video[], nextCursor: string | null, links: Links) {
  return { videos: videos.map((v) => videoResponse(v, links)), next_cursor: nextCursor };
}

export function categoriesResponse(ranks: CategoryRank[]) {
  return { categories: ranks.map((c) => ({ name: c.name, viewer_count: c.viewers, live_streams: c.liveStreams })) };
}

/** Query strings as objects; a parameter given twice is an error rather than a silent pick. */
function queryObject(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  const repeated: Record<string, string> = {};
  for (const [k, v] of query) {
    if (k in out) repeated[k] = 'given more than once';
    out[k] = v;
  }
  if (Object.keys(repeated).length) throw new ValidationError(repeated);
  return out;
}

const STATUSES = ['live', 'ready', 'ended'] as const;
const count = (field: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `${field} must be a whole number`)
    .transform(Number)
    .pipe(z.number().min(min, `${field} must be at least ${min}`).max(max, `${field} must be at most ${max}`));

const searchQuery = z.strictObject({
  q: z
    .string()
    .transform((s) => s.normalize('NFC').trim())
    .refine((s) => [...s].length <= 100, 'q must be at most 100 characters')
    .optional(),
  category: z
    .string()
    .transform((s) => s.trim())
    .refine((s) => s.length >= 1 && s.length <= 50, 'category must be 1-50 characters')
    .optional(),
  min_viewers: count('min_viewers', 0, 1_000_000_000).optional(),
  status: z
    .string()
    .transform((s) => [...new Set(s.split(',').map((x) => x.trim()))])
    .refine(
      (list): list is StreamStatus[] => list.every((x) => (STATUSES as readonly string[]).includes(x)),
      `status must be a comma-separated list of ${STATUSES.join(', ')}`,
    )
    .default(['live', 'ready']),
  limit: count('limit', 1, 100).default(20),
  cursor: z.string().max(4000, 'cursor is too long').optional(),
});

/** A search request: the query for the index (resumed after the cursor, if any) and how to make the next cursor. */
export function parseSearchQuery(query: URLSearchParams): {
  search: StreamSearch;
  nextCursor: (page: SearchPage) => string | null;
} {
  const q = parseOrReject(searchQuery, queryObject(query), '(query)');
  const filters = {
    text: q.q || undefined,
    category: q.category?.toLowerCase(),
    minViewers: q.min_viewers,
    statuses: [...q.status].sort(),
  };
  const fingerprint = fingerprintOf([filters.text, filters.category, filters.minViewers, filters.statuses]);
  const search: StreamSearch = {
    ...(filters.text !== undefined && { text: filters.text }),
    ...(filters.category !== undefined && { category: filters.category }),
    ...(filters.minViewers !== undefined && { minViewers: filters.minViewers }),
    statuses: filters.statuses,
    limit: q.limit,
    ...(q.cursor !== undefined && decodeCursor(q.cursor, fingerprint)),
  };
  return { search, nextCursor: (page) => (page.next ? encodeCursor(page.next, fingerprint) : null) };
}

const categoriesQuery = z.strictObject({ limit: count('limit', 1, 100).default(20) });

export function parseCategoriesQuery(query: URLSearchParams): { limit: number } {
  return parseOrReject(categoriesQuery, queryObject(query), '(query)');
}
