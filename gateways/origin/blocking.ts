/**
 * Blocking playlist reload (RFC 8216bis §6.2.5.2): a player that read a live playlist ending at
 * media sequence N asks for `?_HLS_msn=N+1`, and the origin answers as soon as the playlist lists
 * that segment instead of the player polling on a timer. Polling every target duration put up to
 * one segment (2 s) of random delay between a segment being listed and a player seeing it, fixed
 * for the whole session by the phase of its first load. Pure: the origin's transport waits. The
 * query string is read by domain/media/delivery-directives.ts, the same way the edge reads it.
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
