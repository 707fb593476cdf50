/**
 * The page's player session (issue #28): one id per watch page, on the presence socket
 * (`?session=`) and on every HLS request (`?vsid=`), so the viewer counter can count this page
 * only while it fetches media (domain/viewers/playback.ts). The edge leaves `vsid` out of its
 * cache key, so every viewer still shares the cached segments.
 */
export const PLAYBACK_SESSION_PARAM = 'vsid';

/** A fresh session id: `p_` and 24 hex digits (the gateway takes 8-64 of [A-Za-z0-9_-]). */
export function newPlaybackSession(bytes: ArrayLike<number> = crypto.getRandomValues(new Uint8Array(12))): string {
  return `p_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * `url` with the session added to its query, the rest of it byte for byte (re-serialising the
 * query could re-spell a delivery directive, which the edge refuses).
 */
export function withPlaybackSession(url: string, session: string): string {
  const hash = url.indexOf('#');
  const [base, fragment] = hash < 0 ? [url, ''] : [url.slice(0, hash), url.slice(hash)];
  const sep = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${sep}${PLAYBACK_SESSION_PARAM}=${encodeURIComponent(session)}${fragment}`;
}
