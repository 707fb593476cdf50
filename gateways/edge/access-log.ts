import { resolveMediaPath, type MediaKind } from '../../domain/media/hls-paths.ts';

/**
 * One line of the edge's access log (format: nginx-conf.ts ACCESS_LOG_FORMAT), e.g.
 *   1795600019.512 200 HIT GET /hls/s1/720p/000042.ts 1048576 -
 * `cache` is nginx's $upstream_cache_status ('-' when the cache was not involved); the last field
 * is the collapser's role for a request nginx sent it (`follower`: answered with another
 * request's origin response, so a MISS that cost the origin nothing). Pure.
 */
export type CacheStatus = 'HIT' | 'MISS' | 'EXPIRED' | 'STALE' | 'UPDATING' | 'REVALIDATED' | 'BYPASS' | 'NONE';

export interface AccessEntry {
  at: number;
  status: number;
  cache: CacheStatus;
  method: string;
  kind: MediaKind | 'other';
  path: string;
  bytes: number;
  /** A miss the collapser answered with a concurrent request's origin response. */
  collapsed: boolean;
}

const STATUSES = new Set<string>(['HIT', 'MISS', 'EXPIRED', 'STALE', 'UPDATING', 'REVALIDATED', 'BYPASS']);

/** Answered from the cache without asking the origin. */
export const SERVED_FROM_CACHE = new Set<CacheStatus>(['HIT', 'STALE', 'UPDATING']);
/** Answered after a request to the origin (REVALIDATED: a conditional one, answered 304). */
export const ASKED_ORIGIN = new Set<CacheStatus>(['MISS', 'EXPIRED', 'REVALIDATED', 'BYPASS']);

export function parseAccessLine(line: string): AccessEntry | undefined {
  const f = line.trim().split(' ');
  if (f.length !== 7) return undefined;
  const [at, status, cache, method, path, bytes, role] = f as [string, string, string, string, string, string, string];
  const resolved = resolveMediaPath(path);
  return {
    at: Number(at),
    status: Number(status),
    cache: STATUSES.has(cache) ? (cache as CacheStatus) : 'NONE',
    method,
    kind: resolved.ok ? resolved.kind : 'other',
    path,
    bytes: Number(bytes),
    collapsed: role === 'follower',
  };
}
