/**
 * Blocking playlist reload (RFC 8216bis §6.2.5.2): a player that read a live playlist ending at
 * media sequence N asks for `?_HLS_msn=N+1`, and the origin answers as soon as the playlist lists
 * that segment instead of the player polling on a timer. Polling every target duration put up to
 * one segment (2 s) of random delay between a segment being listed and a player seeing it, fixed
 * for the whole session by the phase of its first load. Pure: the origin's transport waits.
 */
export interface PlaylistPosition {
  /** Media sequence number of the last listed segment; MEDIA-SEQUENCE - 1 when none is listed. */
  lastMsn: number;
  ended: boolean;
  targetDurationS: number;
}

/** Where a media playlist stands, or null when the text is not a media playlist. */
export function playlistPosition(text: string): PlaylistPosition | null {
  const target = /^#EXT-X-TARGETDURATION:(\d+)\s*$/m.exec(text);
  if (!target) return null;
  const first = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)\s*$/m.exec(text)?.[1] ?? 0);
  const segments = text.match(/^#EXTINF:/gm)?.length ?? 0;
  return {
    lastMsn: first + segments - 1,
    ended: /^#EXT-X-ENDLIST\s*$/m.test(text),
    targetDurationS: Number(target[1]),
  };
}

export type Directives = { ok: true; msn: number | null } | { ok: false; reason: string };

/**
 * The delivery directives of a request's query string. `_HLS_part` is accepted and ignored: the
 * playlists have no parts, so a part of segment N is ready when segment N is. `_HLS_part` alone is
 * a client error, as the RFC says.
 */
export function deliveryDirectives(query: string): Directives {
  const params = new URLSearchParams(query);
  const msn = params.get('_HLS_msn');
  if (msn === null) {
    return params.has('_HLS_part') ? { ok: false, reason: '_HLS_part without _HLS_msn' } : { ok: true, msn: null };
  }
  if (!/^\d{1,15}$/.test(msn)) return { ok: false, reason: '_HLS_msn must be a media sequence number' };
  const part = params.get('_HLS_part');
  if (part !== null && !/^\d{1,9}$/.test(part)) return { ok: false, reason: '_HLS_part must be a part index' };
  return { ok: true, msn: Number(msn) };
}

export type BlockingDecision = 'serve' | 'wait' | 'too-far';

/**
 * Serve once the segment is listed (or the stream ended: nothing more will come); refuse a
 * segment more than two beyond the last one, which the RFC says a server should answer at once
 * with 400 rather than hold.
 */
export function blockingDecision(p: PlaylistPosition, msn: number): BlockingDecision {
  if (p.ended || p.lastMsn >= msn) return 'serve';
  return msn > p.lastMsn + 2 ? 'too-far' : 'wait';
}

/** How long a request may be held before a 503: three target durations (RFC 8216bis). */
export const holdLimitMs = (p: PlaylistPosition): number => 3 * p.targetDurationS * 1000;
