/**
 * Which origin URLs exist: `/hls/<streamId>/<file>` and nothing else, matched on the raw path
 * against an allowlist of names, so no spelling of a path (`..`, `%2e%2e`, `%2f`, backslashes, a
 * dot file like `.packager/`) can reach outside the stream folders. Pure.
 */
export type MediaKind = 'master' | 'playlist' | 'vod' | 'segment' | 'part' | 'init' | 'thumbnail';

export type Resolved =
  { ok: true; kind: MediaKind; streamId: string; file: string } | { ok: false; status: 400 | 404; reason: string };

const NAME = '[A-Za-z0-9_-]{1,128}';
/** Playlists, segments (`000042.ts`, `000042.m4s`), LL-HLS parts (`000042.3.m4s`), init sections (`init-000040.mp4`), thumbnails. */
const MEDIA_PATH = new RegExp(
  `^/hls/(${NAME})/((?:${NAME}/)?(?:${NAME}(?:\\.vod|\\.dvr)?\\.m3u8|${NAME}\\.(?:ts|m4s|jpg)|init-\\d{6,}\\.mp4|\\d{6,}\\.\\d{1,3}\\.m4s))$`,
);

/** `rawPath` is the request target without its query string, exactly as the client sent it. */
export function resolveMediaPath(rawPath: string): Resolved {
  if (/%|\\|\/\.|\/\/|\0/.test(rawPath)) return { ok: false, status: 400, reason: 'malformed path' };
  const m = MEDIA_PATH.exec(rawPath);
  if (!m) return { ok: false, status: 404, reason: 'no such media' };
  const streamId = m[1]!;
  const file = m[2]!;
  return { ok: true, kind: kindOf(file), streamId, file };
}

function kindOf(file: string): MediaKind {
  if (file.endsWith('.m3u8')) {
    // The DVR playlists change as the live ones do, and are cached as they are.
    if (file === 'master.m3u8' || file === 'dvr.m3u8') return 'master';
    return file === 'vod.m3u8' || file.endsWith('.vod.m3u8') ? 'vod' : 'playlist';
  }
  if (file.endsWith('.jpg')) return 'thumbnail';
  if (file.endsWith('.mp4')) return 'init';
  return PART_FILE.test(file) ? 'part' : 'segment';
}

const PART_FILE = /\d\.\d{1,3}\.m4s$/;

/** Where a segment or part sits in its rendition's live playlist. */
export interface MediaAddress {
  rendition: string;
  msn: number;
  /** The part index, null for a whole segment. */
  part: number | null;
}

const ADDRESS = new RegExp(`^(${NAME})/(\\d{6,})(?:\\.(\\d{1,3}))?\\.(?:m4s|ts)$`);

/**
 * `720p/000043.2.m4s` is part 2 of segment 43 of 720p (the workers' names, contract of issue #20):
 * what a request for a file not yet written is measured against in the rendition's playlist.
 * Null for names that carry no sequence number.
 */
export function mediaAddress(file: string): MediaAddress | null {
  const m = ADDRESS.exec(file);
  if (!m) return null;
  return { rendition: m[1]!, msn: Number(m[2]), part: m[3] === undefined ? null : Number(m[3]) };
}

/**
 * Cache-Control per kind, after the design's CDN strategy: segments never change once written;
 * playlists change with every segment and are revalidated (ETag) when their short life ends; a
 * VOD playlist is final. The live media playlist lives 1 s rather than the design's 4 s: an edge
 * keeping it 4 s would add up to 4 s to the time before a new segment is seen, against a target
 * of segment duration + 1 s.
 */
export interface CachePolicy {
  masterMaxAgeS: number;
  playlistMaxAgeS: number;
  vodMaxAgeS: number;
  /**
   * A VOD playlist written less than this long ago may still be rewritten (segments the worker
   * announces after the stream ended extend it): until then it is revalidated like a live one.
   */
  vodSettleS: number;
  thumbnailMaxAgeS: number;
}

export const DEFAULT_CACHE_POLICY: CachePolicy = {
  masterMaxAgeS: 2,
  playlistMaxAgeS: 1,
  vodMaxAgeS: 86_400,
  vodSettleS: 300,
  thumbnailMaxAgeS: 300,
};

/** `modifiedAgoMs`: how long ago the file was last written (a VOD playlist's lifetime depends on it). */
export function cacheControl(kind: MediaKind, p: CachePolicy, modifiedAgoMs = Infinity): string {
  switch (kind) {
    case 'master':
      return `public, max-age=${p.masterMaxAgeS}, must-revalidate`;
    case 'playlist':
      return `public, max-age=${p.playlistMaxAgeS}, must-revalidate`;
    case 'vod':
      return modifiedAgoMs < p.vodSettleS * 1000
        ? `public, max-age=${p.playlistMaxAgeS}, must-revalidate`
        : `public, max-age=${p.vodMaxAgeS}`;
    case 'segment':
    case 'part':
    case 'init':
      return 'public, max-age=31536000, immutable';
    case 'thumbnail':
      return `public, max-age=${p.thumbnailMaxAgeS}`;
    default: {
      const _exhaustive: never = kind;
      return _exhaustive;
    }
  }
}

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

/** Content-Type of a served file: by kind, and for segments by container (CMAF or MPEG-TS). */
export function contentType(kind: MediaKind, file: string): string {
  switch (kind) {
    case 'master':
    case 'playlist':
    case 'vod':
      return PLAYLIST_TYPE;
    case 'segment':
      return file.endsWith('.ts') ? 'video/mp2t' : 'video/iso.segment';
    case 'part':
      return 'video/iso.segment';
    case 'init':
      return 'video/mp4';
    case 'thumbnail':
      return 'image/jpeg';
    default: {
      const _exhaustive: never = kind;
      return _exhaustive;
    }
  }
}

/** The URL path of a file in a stream's folder, as the origin and every edge serve it. */
export const mediaUrlPath = (streamId: string, file: string): string => `/hls/${streamId}/${file}`;
