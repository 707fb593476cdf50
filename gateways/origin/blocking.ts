/**
 * Blocking playlist reload (RFC 8216bis §6.2.5.2) and blocking media requests (§6.2.6, preload
 * hints). A player that read a live playlist ending at part P of segment M asks for
 * `?_HLS_msn=M&_HLS_part=P+1`, and the origin answers as soon as the playlist lists that part
 * instead of the player polling on a timer; a player that read a preload hint asks for the hinted
 * part at once, and the origin answers as soon as the worker has written it. Polling put up to a
 * target duration of random delay between a part being listed and a player seeing it. Pure: the
 * origin's transport waits. The query string is read by domain/media/delivery-directives.ts, the
 * same way the edge reads it.
 */
import type { MediaAddress } from '../../domain/media/hls-paths.ts';

export interface PartPosition {
  msn: number;
  part: number;
}

export interface PlaylistPosition {
  /** Media sequence number of the last complete (EXTINF) segment; MEDIA-SEQUENCE - 1 when none is listed. */
  lastMsn: number;
  /** The last listed EXT-X-PART, which may belong to the segment in progress (parts, no EXTINF yet). */
  lastPart: PartPosition | null;
  /** EXT-X-PART-INF PART-TARGET; null for a playlist without parts (MPEG-TS, old streams). */
  partTargetS: number | null;
  /** URI of the EXT-X-PRELOAD-HINT TYPE=PART, as listed (relative to the stream folder). */
  preloadHint: string | null;
  ended: boolean;
  targetDurationS: number;
}

/** Where a media playlist stands, or null when the text is not a media playlist. */
export function playlistPosition(text: string): PlaylistPosition | null {
  const target = /^#EXT-X-TARGETDURATION:(\d+)\s*$/m.exec(text);
  if (!target) return null;
  // A part's index is its place among its segment's EXT-X-PART lines: the packager lists a
  // segment's parts from part 0 or not at all, and the segment closes at its EXTINF.
  let msn = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)\s*$/m.exec(text)?.[1] ?? 0);
  let partsOfMsn = 0;
  let lastPart: PartPosition | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXTINF:')) {
      msn++;
      partsOfMsn = 0;
    } else if (line.startsWith('#EXT-X-PART:')) {
      lastPart = { msn, part: partsOfMsn++ };
    }
  }
  const partTarget = /^#EXT-X-PART-INF:(?:.*,)?PART-TARGET=([\d.]+)/m.exec(text);
  const hint = /^#EXT-X-PRELOAD-HINT:(.*)$/m.exec(text)?.[1] ?? '';
  return {
    lastMsn: msn - 1,
    lastPart,
    partTargetS: partTarget ? Number(partTarget[1]) : null,
    preloadHint: /(?:^|,)TYPE=PART(?:,|$)/.test(hint) ? (/(?:^|,)URI="([^"]*)"/.exec(hint)?.[1] ?? null) : null,
    ended: /^#EXT-X-ENDLIST\s*$/m.test(text),
    targetDurationS: Number(target[1]),
  };
}

/**
 * How many parts (M, P) lies beyond the playlist's last listed part, at least: 0 or less when it
 * is listed or older. Across a segment boundary the count of the parts still to come in the
 * current segment is unknown, so each segment boundary counts as one part: the lower bound, which
 * never refuses a request that could be answered in time.
 */
export function partsBeyond(p: PlaylistPosition, msn: number, part: number): number {
  // The segment being cut now, and its last listed part (-1: none of it yet).
  const open = p.lastPart && p.lastPart.msn > p.lastMsn ? p.lastPart : { msn: p.lastMsn + 1, part: -1 };
  if (msn < open.msn) return 0;
  if (msn === open.msn) return part - open.part;
  return part + (msn - open.msn) + (open.part < 0 ? 1 : 0);
}

/**
 * RFC 8216bis: a request for a part further ahead than this many parts is a client error. Three
 * seconds' worth of parts (three parts when they are a second or longer).
 */
export const advancePartLimit = (partTargetS: number): number => (partTargetS < 1 ? 3 / partTargetS : 3);

export type BlockingDecision = 'serve' | 'wait' | 'too-far';

/**
 * Serve once part P of segment M or anything later is listed (a complete segment M holds all of
 * its parts; with no `_HLS_part`, once segment M is complete), or the stream ended: nothing more
 * will come. Refuse at once (400) a segment more than two beyond the last complete one, or a part
 * beyond the advance limit, which the RFC says a server should not hold.
 */
export function blockingDecision(p: PlaylistPosition, msn: number, part: number | null = null): BlockingDecision {
  if (p.ended || p.lastMsn >= msn) return 'serve';
  // A playlist without parts has no part to wait for: `_HLS_part` waits for the segment.
  const parts = part !== null && p.partTargetS !== null;
  if (parts && partsBeyond(p, msn, part) <= 0) return 'serve';
  if (msn > p.lastMsn + 2) return 'too-far';
  if (parts && partsBeyond(p, msn, part) > advancePartLimit(p.partTargetS!)) return 'too-far';
  return 'wait';
}

/** How long a playlist request may be held before a 503: three target durations (RFC 8216bis). */
export const holdLimitMs = (p: PlaylistPosition): number => 3 * p.targetDurationS * 1000;

/** How many parts beyond the last listed one a part request may be held for (besides the preload hint). */
export const MEDIA_HOLD_PARTS = 2;

/**
 * A segment or part that is not on disk: 'hold' when the worker is about to write it (the preload
 * hint, or at most MEDIA_HOLD_PARTS parts beyond the last listed one; a segment, when it is the one
 * being cut), 'never' when it cannot appear in time or at all: listed (or older) and absent, the
 * stream ended, too far ahead, or a playlist without parts (nothing is hinted there).
 */
export function mediaHoldDecision(p: PlaylistPosition, file: string, at: MediaAddress): 'hold' | 'never' {
  if (p.ended || p.partTargetS === null) return 'never';
  if (file === p.preloadHint) return 'hold';
  if (at.part === null) return at.msn === p.lastMsn + 1 ? 'hold' : 'never';
  const beyond = partsBeyond(p, at.msn, at.part);
  return beyond > 0 && beyond <= MEDIA_HOLD_PARTS ? 'hold' : 'never';
}

/** How long a part or segment request may be held before a 404: three part targets. */
export const mediaHoldLimitMs = (p: PlaylistPosition): number => 3 * (p.partTargetS ?? p.targetDurationS) * 1000;
