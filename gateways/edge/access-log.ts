import { resolveMediaPath, type MediaKind } from '../../domain/media/hls-paths.ts';

/**
 * One line of the edge's access log (format: nginx-conf.ts ACCESS_LOG_FORMAT), e.g.
 *   1795600019.512 200 HIT GET /hls/s1/720p/000042.ts 1048576 - s_4f2a9c01
 * `cache` is nginx's $upstream_cache_status ('-' when the cache was not involved); the seventh
 * field is the collapser's role for a request nginx sent it (`follower`: answered with another
 * request's origin response, so a MISS that cost the origin nothing); the last is the player's
 * session (`?vsid=`, '-' when absent), raw as nginx read it: domain/viewers/playback.ts checks it
 * before it names anyone. Pure.
 */
export type CacheStatus = 'HIT' | 'MISS' | 'EXPIRED' | 'STALE' | 'UPDATING' | 'REVALIDATED' | 'BYPASS' | 'NONE';

export interface AccessEntry {
  at: number;
  status: number;
  cache: CacheStatus;
  method: string;
  kind: MediaKind | 'other';
  /** The stream the path names, null for a path that names none. */
  streamId: string | null;
  path: string;
  bytes: number;
  /** A miss the collapser answered with a concurrent request's origin response. */
  collapsed: boolean;
  /** The raw `vsid` query parameter ('-' when absent). */
  session: string;
}

const STATUSES = new Set<string>(['HIT', 'MISS', 'EXPIRED', 'STALE', 'UPDATING', 'REVALIDATED', 'BYPASS']);

/** Answered from the cache without asking the origin. */
export const SERVED_FROM_CACHE = new Set<CacheStatus>(['HIT', 'STALE', 'UPDATING']);
/** Answered after a request to the origin (REVALIDATED: a conditional one, answered 304). */
export const ASKED_ORIGIN = new Set<CacheStatus>(['MISS', 'EXPIRED', 'REVALIDATED', 'BYPASS']);

export function parseAccessLine(line: string): AccessEntry | undefined {
  const f = line.trim().split(' ');
  if (f.length !== 8) return undefined;
  const [at, status, cache, method, path, bytes, role, session] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const resolved = resolveMediaPath(path);
  return {
    at: Number(at),
    status: Number(status),
    cache: STATUSES.has(cache) ? (cache as CacheStatus) : 'NONE',
    method,
    kind: resolved.ok ? resolved.kind : 'other',
    streamId: resolved.ok ? resolved.streamId : null,
    path,
    bytes: Number(bytes),
    collapsed: role === 'follower',
    session,
  };
}
