import type { Rendition } from '../../schemas/generated/events.ts';

/**
 * HLS playlists (RFC 8216; Low-Latency HLS after draft-pantos-hls-rfc8216bis), rendered as text
 * from the packager's state. Pure.
 *
 * Media playlist, MPEG-TS (no init section, no parts):
 *   #EXTM3U
 *   #EXT-X-VERSION:3
 *   #EXT-X-TARGETDURATION:<s>            never below any EXTINF rounded to the nearest second
 *   #EXT-X-MEDIA-SEQUENCE:<n>            the first listed segment's worker sequence
 *   #EXT-X-DISCONTINUITY-SEQUENCE:<d>    discontinuities that left the window
 *   #EXT-X-PLAYLIST-TYPE:VOD | #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES (live)
 *   per segment: [#EXT-X-DISCONTINUITY] #EXT-X-PROGRAM-DATE-TIME:<ISO> #EXTINF:<s.mmm>, <uri>
 *   [#EXT-X-ENDLIST]
 *
 * CMAF adds #EXT-X-MAP:URI="<init>" before the first segment and wherever the init section changes
 * (a new worker run), after the segment's DISCONTINUITY. Live Low-Latency HLS (a part target) has
 * this header instead, and the newest segments' parts:
 *   #EXTM3U
 *   #EXT-X-VERSION:9
 *   #EXT-X-TARGETDURATION:<s>
 *   #EXT-X-PART-INF:PART-TARGET=<s.mmm>
 *   #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=<3 x part target>,HOLD-BACK=<3 x target>
 *   #EXT-X-MEDIA-SEQUENCE:<n>
 *   #EXT-X-DISCONTINUITY-SEQUENCE:<d>
 *   per segment: [DISCONTINUITY] [MAP] PROGRAM-DATE-TIME [#EXT-X-PART:DURATION=<s.mmm>,URI="<part>"[,INDEPENDENT=YES]]... EXTINF <uri>
 *   the segment in progress: [DISCONTINUITY] [MAP] PROGRAM-DATE-TIME and its parts, no EXTINF
 *   #EXT-X-PRELOAD-HINT:TYPE=PART,URI="<the next part>"
 *   #EXT-X-RENDITION-REPORT:URI="<other>.m3u8",LAST-MSN=<n>,LAST-PART=<p>   per other rendition
 *   [#EXT-X-ENDLIST]   (then no segment in progress, no hint, no reports: nobody reloads it)
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
  /** The fMP4 init section (EXT-X-MAP); null for MPEG-TS, absent in journals and states saved before CMAF. */
  initUri?: string | null;
}

/** An LL-HLS partial segment (EXT-X-PART) of a complete segment or of the one in progress. */
export interface PartEntry {
  sequence: number;
  /** Index within its segment, from 0. */
  part: number;
  durationMs: number;
  uri: string;
  independent: boolean;
  programDateTime: number;
  /** Its segment is the first of a worker run. */
  discontinuity: boolean;
  initUri: string;
}

/** Where another rendition's playlist stands: its newest part (or segment, when it has no part). */
export interface RenditionReport {
  uri: string;
  lastMsn: number;
  lastPart: number | null;
}

export interface LowLatency {
  /** The rendition's folder, where the hinted next part will be. */
  rendition: string;
  partTargetMs: number;
  /** Parts of listed segments (`listableParts`), each segment's before its EXTINF. */
  parts: PartEntry[];
  /** The segment after the last listed one, so far. */
  inProgress: PartEntry[];
  reports: RenditionReport[];
}

export interface MediaPlaylist {
  targetDurationS: number;
  /** For a playlist with no segment listed: the sequence the next one will have. */
  nextSequence?: number;
  discontinuitySequence: number;
  segments: SegmentEntry[];
  ended: boolean;
  vod?: boolean;
  /**
   * A DVR playlist: whole segments only, reloaded at the segment's pace by players that are behind
   * live, so no blocking reload (which the origin offers on the live playlists alone).
   */
  dvr?: boolean;
  /** Live LL-HLS; absent for streams cut without parts (MPEG-TS) and for VODs. */
  ll?: LowLatency;
}

/** Seconds for EXT-X-TARGETDURATION: the rounded duration, as the spec compares it. */
export const roundedSeconds = (ms: number): number => Math.max(1, Math.round(ms / 1000));

/**
 * Durations are whole milliseconds, so three decimals are exact: a part no longer than the part
 * target in ms is printed no longer than PART-TARGET.
 */
const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/**
 * EXT-X-VERSION, media and master alike. rfc8216bis (Protocol Version Compatibility) asks for 6
 * for EXT-X-MAP in a media playlist and for no particular version for the LL-HLS tags (PART-INF,
 * PART, SERVER-CONTROL, PRELOAD-HINT, RENDITION-REPORT); 9 is first needed by EXT-X-SKIP, which is
 * not offered. A version is a floor, not a feature list, so every CMAF playlist declares the 9 the
 * contract fixed and a client too old for it stops at the master rather than at a variant. MPEG-TS
 * needs 3 (decimal EXTINF) and stays as it was.
 */
const versionOf = (cmaf: boolean): number => (cmaf ? 9 : 3);

/** The contract's name of part `part` of segment `sequence`: '<rendition>/000042.3.m4s'. */
export const partUri = (rendition: string, sequence: number, part: number): string =>
  `${rendition}/${String(sequence).padStart(6, '0')}.${part}.m4s`;

export function renderMedia(p: MediaPlaylist): string {
  const ll = p.ll;
  const last = p.segments[p.segments.length - 1];
  const next = last ? last.sequence + 1 : (ll?.inProgress[0]?.sequence ?? p.nextSequence ?? 0);
  const inProgress = ll && !p.ended ? ll.inProgress.filter((x) => x.sequence === next) : [];
  const target = Math.max(p.targetDurationS, ...p.segments.map((s) => roundedSeconds(s.durationMs)));
  const cmaf = ll !== undefined || p.segments.some((s) => s.initUri);
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${versionOf(cmaf)}`, `#EXT-X-TARGETDURATION:${target}`];
  const sequences = [`#EXT-X-MEDIA-SEQUENCE:${p.segments[0]?.sequence ?? next}`];
  sequences.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`);
  if (ll) {
    // rfc8216bis 4.4.3.8: HOLD-BACK at least 3 target durations; PART-HOLD-BACK at least 2 part
    // targets, 3 recommended (a player that far back has the next part's request in flight).
    lines.push(
      `#EXT-X-PART-INF:PART-TARGET=${seconds(ll.partTargetMs)}`,
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${seconds(3 * ll.partTargetMs)},HOLD-BACK=${3 * target}`,
      ...sequences,
    );
  } else {
    // The origin holds `?_HLS_msn=N` until segment N is listed (gateways/origin/blocking.ts).
    const kind = p.vod ? ['#EXT-X-PLAYLIST-TYPE:VOD'] : p.dvr ? [] : ['#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES'];
    lines.push(...sequences, ...kind);
  }

  const partsOf = new Map<number, PartEntry[]>();
  for (const x of ll?.parts ?? []) partsOf.set(x.sequence, [...(partsOf.get(x.sequence) ?? []), x]);
  let map: string | null = null;
  const opening = (s: { discontinuity: boolean; initUri?: string | null; programDateTime: number }) => {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (s.initUri && s.initUri !== map) lines.push(`#EXT-X-MAP:URI="${s.initUri}"`);
    map = s.initUri ?? null;
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTime).toISOString()}`);
  };
  const part = (x: PartEntry) =>
    lines.push(
      `#EXT-X-PART:DURATION=${seconds(x.durationMs)},URI="${x.uri}"${x.independent ? ',INDEPENDENT=YES' : ''}`,
    );
  for (const s of p.segments) {
    opening(s);
    for (const x of partsOf.get(s.sequence) ?? []) part(x);
    lines.push(`#EXTINF:${seconds(s.durationMs)},`, s.uri);
  }
  if (inProgress[0]) {
    opening(inProgress[0]);
    for (const x of inProgress) part(x);
  }
  if (ll && !p.ended) {
    const hint = partUri(ll.rendition, next, (inProgress[inProgress.length - 1]?.part ?? -1) + 1);
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${hint}"`);
    for (const r of ll.reports) {
      const lastPart = r.lastPart === null ? '' : `,LAST-PART=${r.lastPart}`;
      lines.push(`#EXT-X-RENDITION-REPORT:URI="${r.uri}",LAST-MSN=${r.lastMsn}${lastPart}`);
    }
  }
  if (p.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** BANDWIDTH is a peak: the encoders' rate control lets a segment run about 10% over the target. */
const peak = (r: Rendition): number => Math.ceil(((r.videoBitrate + r.audioBitrate) * 11) / 10);

/**
 * Master playlist: one variant per rendition, highest first, each pointing at `uriOf(name)`;
 * `cmaf` when its media playlists are (they declare the same version, see `versionOf`).
 */
export function renderMaster(renditions: Rendition[], uriOf: (name: string) => string, cmaf: boolean): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${versionOf(cmaf)}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
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
 * The first sequence whose parts a live playlist lists: parts go with the segments that end within
 * three target durations of the playlist's end (`tailMs` of parts after the last segment count;
 * rfc8216bis 4.4.4.9: older EXT-X-PART tags SHOULD be removed). Infinity for none.
 */
export function partsFrom(segments: SegmentEntry[], tailMs: number, targetDurationS: number): number {
  let fromEnd = tailMs;
  let from = Infinity;
  for (let i = segments.length - 1; i >= 0 && fromEnd <= 3 * targetDurationS * 1000; i--) {
    from = segments[i]!.sequence;
    fromEnd += segments[i]!.durationMs;
  }
  return from;
}

/**
 * The parts a live playlist lists, given the segments it lists: those of the segment in progress
 * up to the first one not on disk (none once ended), and those of each recent segment (`partsFrom`)
 * whose parts are all on disk: a segment is played whole or by all its parts, never by some.
 */
export function listableParts(o: {
  segments: SegmentEntry[];
  parts: PartEntry[];
  pending: PartEntry[];
  targetDurationS: number;
  ended: boolean;
  present: (x: PartEntry) => boolean;
}): { parts: PartEntry[]; inProgress: PartEntry[]; missing: PartEntry[] } {
  const gap = o.pending.findIndex((x) => !o.present(x));
  const inProgress = o.ended ? [] : gap < 0 ? o.pending : o.pending.slice(0, gap);
  const missing = o.ended ? [] : o.pending.filter((x) => !o.present(x));
  const from = partsFrom(
    o.segments,
    inProgress.reduce((n, x) => n + x.durationMs, 0),
    o.targetDurationS,
  );
  const listed = new Set(o.segments.filter((s) => s.sequence >= from).map((s) => s.sequence));
  const incomplete = new Set<number>();
  for (const x of o.parts) {
    if (!listed.has(x.sequence) || o.present(x)) continue;
    incomplete.add(x.sequence);
    missing.push(x);
  }
  return {
    parts: o.parts.filter((x) => listed.has(x.sequence) && !incomplete.has(x.sequence)),
    inProgress,
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

/** A rendition's DVR playlist so far: the segments within the window, and the discontinuities that left it. */
export interface DvrTrack {
  segments: SegmentEntry[];
  discontinuitySequence: number;
}

export const emptyDvr = (): DvrTrack => ({ segments: [], discontinuitySequence: 0 });

/**
 * Appends a rendition's newly recorded segments to its DVR window and drops what fell out of it:
 * segments that began more than `windowMs` before the newest one began (by program date time, so
 * the window is media time, not the packager's clock). A repeat or older sequence is ignored; a
 * skipped sequence starts a discontinuity, as in a recording. Pure.
 */
export function extendDvr(track: DvrTrack, fresh: readonly SegmentEntry[], windowMs: number): DvrTrack {
  const segments = [...track.segments];
  for (const s of fresh) {
    const last = segments[segments.length - 1];
    if (last && s.sequence <= last.sequence) continue;
    segments.push(last && s.sequence !== last.sequence + 1 && !s.discontinuity ? { ...s, discontinuity: true } : s);
  }
  const newest = segments[segments.length - 1];
  if (!newest) return track;
  const from = newest.programDateTime - windowMs;
  const keepFrom = segments.findIndex((s) => s.programDateTime >= from);
  const gone = segments.slice(0, keepFrom);
  return {
    segments: segments.slice(keepFrom),
    discontinuitySequence: track.discontinuitySequence + gone.filter((s) => s.discontinuity).length,
  };
}
