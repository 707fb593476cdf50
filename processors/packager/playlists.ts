import type { Rendition } from '../../schemas/generated/events.ts';

/**
 * HLS playlists (RFC 8216), rendered as text from the packager's state. Pure.
 *
 * Media playlist:
 *   #EXTM3U
 *   #EXT-X-VERSION:3
 *   #EXT-X-TARGETDURATION:<s>            never below any EXTINF rounded to the nearest second
 *   #EXT-X-MEDIA-SEQUENCE:<n>            the first listed segment's worker sequence
 *   #EXT-X-DISCONTINUITY-SEQUENCE:<d>    discontinuities that left the window
 *   #EXT-X-PLAYLIST-TYPE:VOD | #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES (live)
 *   per segment: [#EXT-X-DISCONTINUITY] #EXT-X-PROGRAM-DATE-TIME:<ISO> #EXTINF:<s.mmm>, <uri>
 *   [#EXT-X-ENDLIST]
 *
 * A segment's media sequence number is MEDIA-SEQUENCE plus its position, so the listed segments
 * must be consecutive: a hole (a segment that never came, or whose file is missing) ends what can
 * be listed before it. `listable` keeps the run after the last hole; the VOD instead marks the
 * hole with a discontinuity, since a VOD is never reloaded.
 */
export interface SegmentEntry {
  sequence: number;
  durationMs: number;
  /** Relative to the stream folder (where every playlist is). */
  uri: string;
  programDateTime: number;
  discontinuity: boolean;
}

export interface MediaPlaylist {
  targetDurationS: number;
  /** For a playlist with no segment listed: the sequence the next one will have. */
  nextSequence?: number;
  discontinuitySequence: number;
  segments: SegmentEntry[];
  ended: boolean;
  vod?: boolean;
}

/** Seconds for EXT-X-TARGETDURATION: the rounded duration, as the spec compares it. */
export const roundedSeconds = (ms: number): number => Math.max(1, Math.round(ms / 1000));

export function renderMedia(p: MediaPlaylist): string {
  const first = p.segments[0]?.sequence ?? p.nextSequence ?? 0;
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${Math.max(p.targetDurationS, ...p.segments.map((s) => roundedSeconds(s.durationMs)))}`,
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`,
  ];
  // The origin holds `?_HLS_msn=N` until segment N is listed (gateways/origin/blocking.ts).
  lines.push(p.vod ? '#EXT-X-PLAYLIST-TYPE:VOD' : '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES');
  for (const s of p.segments) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(
      `#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTime).toISOString()}`,
      `#EXTINF:${(s.durationMs / 1000).toFixed(3)},`,
      s.uri,
    );
  }
  if (p.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** BANDWIDTH is a peak: the encoders' rate control lets a segment run about 10% over the target. */
const peak = (r: Rendition): number => Math.ceil(((r.videoBitrate + r.audioBitrate) * 11) / 10);

/** Master playlist: one variant per rendition, highest first, each pointing at `uriOf(name)`. */
export function renderMaster(renditions: Rendition[], uriOf: (name: string) => string): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const r of renditions) {
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${peak(r)},AVERAGE-BANDWIDTH=${r.videoBitrate + r.audioBitrate},` +
        `RESOLUTION=${r.width}x${r.height},FRAME-RATE=${r.frameRate.toFixed(3)},CODECS="${r.codecs}",NAME="${r.name}"`,
      uriOf(r.name),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The live window as it may be listed: the segments after the last one that is not there
 * (`present` false), with the discontinuity sequence advanced past the ones dropped.
 */
export function listable(
  window: SegmentEntry[],
  discontinuitySequence: number,
  present: (s: SegmentEntry) => boolean,
): { segments: SegmentEntry[]; discontinuitySequence: number; missing: SegmentEntry[] } {
  const missing = window.filter((s) => !present(s));
  const last = missing.length ? window.lastIndexOf(missing[missing.length - 1]!) : -1;
  const dropped = window.slice(0, last + 1);
  return {
    segments: window.slice(last + 1),
    discontinuitySequence: discontinuitySequence + dropped.filter((s) => s.discontinuity).length,
    missing,
  };
}

/**
 * A recording's segments for its VOD playlist: one entry per sequence (a journal may repeat one
 * after a redelivery; the last wins), in order, without the missing ones; the segment after a
 * hole, whether a sequence never came or its file is gone, starts a discontinuity.
 */
export function vodSegments(
  journal: SegmentEntry[],
  present: (s: SegmentEntry) => boolean,
): { segments: SegmentEntry[]; missing: SegmentEntry[] } {
  const bySequence = new Map<number, SegmentEntry>();
  for (const s of journal) bySequence.set(s.sequence, s);
  const ordered = [...bySequence.values()].sort((a, b) => a.sequence - b.sequence);
  const segments: SegmentEntry[] = [];
  const missing: SegmentEntry[] = [];
  let expected: number | undefined;
  let hole = false;
  for (const s of ordered) {
    if (expected !== undefined && s.sequence !== expected) hole = true;
    expected = s.sequence + 1;
    if (!present(s)) {
      missing.push(s);
      hole = true;
      continue;
    }
    segments.push(hole && segments.length ? { ...s, discontinuity: true } : s);
    hole = false;
  }
  return { segments, missing };
}
