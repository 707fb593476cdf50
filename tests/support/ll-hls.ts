/**
 * A strict parser and validator of HLS media playlists, Low-Latency HLS included, for the specs of
 * the packager, origin, worker and player. Section numbers are draft-pantos-hls-rfc8216bis-14's.
 *
 *   validateMediaPlaylist(text)  -> { playlist, problems, notes }: problems break the spec or the
 *                                   LL-HLS contract (docs/media.md); notes are SHOULDs, reported
 *   assertLlHls(text)            -> the parsed playlist, or throws listing every problem (and
 *                                   requires EXT-X-PART-INF)
 *   reloadProblems(a, b)         -> what a later reload `b` of `a` changed that it must not (6.2.2)
 *
 * The parse keeps what a blocking-reload client needs: segments with their parts (the one in
 * progress last, with no EXTINF), the newest media sequence number and part, the preload hint and
 * the rendition reports. Part indexes are positions within their segment (6.2.5.2); parts named
 * the contract's way ('000042.3.m4s') must carry their own segment and index.
 */
export interface ParsedPart {
  uri: string;
  /** Seconds, as printed. */
  duration: number;
  independent: boolean;
  /** Position within its segment, from 0. */
  index: number;
}

export interface ParsedSegment {
  msn: number;
  /** EXTINF seconds; null for the segment in progress (parts only). */
  duration: number | null;
  uri: string | null;
  parts: ParsedPart[];
  discontinuity: boolean;
  /** EXT-X-DISCONTINUITY-SEQUENCE number of this segment's timeline. */
  discontinuitySequence: number;
  /** The EXT-X-MAP URI in effect, null for none. */
  map: string | null;
  /** EXT-X-PROGRAM-DATE-TIME given with this segment (ms), null for none. */
  programDateTime: number | null;
}

export interface ParsedMediaPlaylist {
  version: number | null;
  targetDuration: number | null;
  mediaSequence: number;
  discontinuitySequence: number;
  /** EXT-X-PART-INF PART-TARGET seconds; null when the playlist has no parts. */
  partTarget: number | null;
  serverControl: Record<string, string> | null;
  playlistType: string | null;
  segments: ParsedSegment[];
  preloadHint: { type: string; uri: string } | null;
  renditionReports: Array<{ uri: string; lastMsn: number | null; lastPart: number | null }>;
  ended: boolean;
  /** The newest segment and its newest part (null: that segment is listed without parts). */
  last: { msn: number; part: number | null } | null;
}

export interface Validation {
  playlist: ParsedMediaPlaylist;
  problems: string[];
  notes: string[];
}

export interface ValidateOptions {
  /** Make the 85%-of-PART-TARGET floor (4.4.4.9, a SHOULD) a problem rather than a note. */
  strictPartDurations?: boolean;
}

/** The contract's part names: '<rendition>/000042.3.m4s'. */
const NAMED_PART = /(\d{6,})\.(\d{1,3})\.m4s$/;
const ms = (s: number) => Math.round(s * 1000);

/** AttributeList (4.2): NAME=value pairs; quoted strings may hold commas. Null when malformed. */
export function parseAttributes(list: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  if (list.endsWith(',')) return null;
  const re = /([A-Z0-9-]+)=("[^"\r\n]*"|[^",\s]+)(,|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < list.length && (m = re.exec(list))) {
    if (m[1]! in out) return null;
    out[m[1]!] = m[2]!;
    if (m[3] === '') break;
  }
  return re.lastIndex === list.length && Object.keys(out).length ? out : null;
}

const unquote = (v: string | undefined): string | null =>
  v !== undefined && v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : null;
const decimal = (v: string | undefined): number | null =>
  v !== undefined && /^\d+(\.\d+)?$/.test(v) ? Number(v) : null;
const integer = (v: string | undefined): number | null => (v !== undefined && /^\d+$/.test(v) ? Number(v) : null);

export function validateMediaPlaylist(text: string, o: ValidateOptions = {}): Validation {
  const problems: string[] = [];
  const notes: string[] = [];
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const pl: ParsedMediaPlaylist = {
    version: null,
    targetDuration: null,
    mediaSequence: 0,
    discontinuitySequence: 0,
    partTarget: null,
    serverControl: null,
    playlistType: null,
    segments: [],
    preloadHint: null,
    renditionReports: [],
    ended: false,
    last: null,
  };
  if (lines[0] !== '#EXTM3U') problems.push('the first line is not #EXTM3U (4.3.1.1)');
  let versionNeeded = 1;
  const seen = new Set<string>();
  let map: string | null = null;
  let discontinuities = 0;
  type Opening = { discontinuity: boolean; pdt: number | null; parts: ParsedPart[]; map: string | null };
  // Set by closures below: the cast keeps TypeScript from narrowing it to null for good.
  let next = null as Opening | null;
  let extinf: number | null = null;
  const current = () => (next ??= { discontinuity: false, pdt: null, parts: [], map });
  const once = (tag: string) => {
    if (seen.has(tag)) problems.push(`${tag} appears more than once`);
    seen.add(tag);
  };
  const close = (duration: number | null, uri: string | null) => {
    const c = current();
    if (c.discontinuity) discontinuities++;
    pl.segments.push({
      msn: pl.mediaSequence + pl.segments.length,
      duration,
      uri,
      parts: c.parts,
      discontinuity: c.discontinuity,
      discontinuitySequence: pl.discontinuitySequence + discontinuities,
      map: c.map,
      programDateTime: c.pdt,
    });
    next = null;
  };

  for (const [n, line] of lines.slice(1).entries()) {
    const at = `line ${n + 2}`;
    if (line === '' || (line.startsWith('#') && !line.startsWith('#EXT'))) continue;
    if (!line.startsWith('#')) {
      if (extinf === null) problems.push(`${at}: URI ${line} without EXTINF (4.4.4.1)`);
      close(extinf, line);
      extinf = null;
      continue;
    }
    const colon = line.indexOf(':');
    const tag = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1);
    const attrs = () => {
      const a = parseAttributes(value);
      if (!a) problems.push(`${at}: malformed attribute list ${line}`);
      return a ?? {};
    };
    if (pl.ended && tag !== '#EXT-X-ENDLIST') problems.push(`${at}: ${tag} after EXT-X-ENDLIST`);
    switch (tag) {
      case '#EXT-X-VERSION':
        once(tag);
        pl.version = integer(value);
        if (pl.version === null) problems.push(`${at}: EXT-X-VERSION ${value} is not an integer`);
        break;
      case '#EXT-X-TARGETDURATION':
        once(tag);
        pl.targetDuration = integer(value);
        if (pl.targetDuration === null) problems.push(`${at}: TARGETDURATION ${value} is not an integer (4.4.3.1)`);
        break;
      case '#EXT-X-MEDIA-SEQUENCE':
        once(tag);
        if (pl.segments.length || next) problems.push(`${at}: MEDIA-SEQUENCE after the first segment (4.4.3.2)`);
        pl.mediaSequence = integer(value) ?? NaN;
        break;
      case '#EXT-X-DISCONTINUITY-SEQUENCE':
        once(tag);
        if (pl.segments.length || next)
          problems.push(`${at}: DISCONTINUITY-SEQUENCE after the first segment (4.4.3.3)`);
        pl.discontinuitySequence = integer(value) ?? NaN;
        break;
      case '#EXT-X-PLAYLIST-TYPE':
        once(tag);
        pl.playlistType = value;
        break;
      case '#EXT-X-PART-INF': {
        once(tag);
        const a = attrs();
        pl.partTarget = decimal(a['PART-TARGET']);
        if (!pl.partTarget) problems.push(`${at}: PART-INF without a positive PART-TARGET (4.4.3.7)`);
        break;
      }
      case '#EXT-X-SERVER-CONTROL':
        once(tag);
        pl.serverControl = attrs();
        break;
      case '#EXT-X-SKIP':
        versionNeeded = Math.max(versionNeeded, 9);
        break;
      case '#EXT-X-BYTERANGE':
        versionNeeded = Math.max(versionNeeded, 4);
        break;
      case '#EXT-X-DEFINE':
        versionNeeded = Math.max(versionNeeded, 8);
        break;
      case '#EXT-X-MAP': {
        versionNeeded = Math.max(versionNeeded, 6);
        map = unquote(attrs().URI);
        if (!map) problems.push(`${at}: EXT-X-MAP without a quoted URI (4.4.4.5)`);
        if (next) next.map = map;
        if (next?.parts.length) problems.push(`${at}: EXT-X-MAP between the parts of a segment`);
        break;
      }
      case '#EXT-X-DISCONTINUITY':
        if (next?.parts.length) problems.push(`${at}: EXT-X-DISCONTINUITY between the parts of a segment`);
        current().discontinuity = true;
        break;
      case '#EXT-X-PROGRAM-DATE-TIME': {
        const t = Date.parse(value);
        if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$/.test(value) || Number.isNaN(t))
          problems.push(`${at}: PROGRAM-DATE-TIME ${value} is not an ISO 8601 date with a time zone (4.4.4.6)`);
        current().pdt = t;
        break;
      }
      case '#EXT-X-PART': {
        const a = attrs();
        const uri = unquote(a.URI);
        const duration = decimal(a.DURATION);
        if (!uri || duration === null) problems.push(`${at}: EXT-X-PART needs DURATION and a quoted URI (4.4.4.9)`);
        if (a.INDEPENDENT !== undefined && a.INDEPENDENT !== 'YES')
          problems.push(`${at}: INDEPENDENT=${a.INDEPENDENT}: its only value is YES`);
        if (a.GAP !== undefined && a.GAP !== 'YES') problems.push(`${at}: GAP=${a.GAP}: its only value is YES`);
        const c = current();
        c.parts.push({
          uri: uri ?? '',
          duration: duration ?? NaN,
          independent: a.INDEPENDENT === 'YES',
          index: c.parts.length,
        });
        break;
      }
      case '#EXTINF': {
        const d = value.split(',')[0]!;
        extinf = decimal(d);
        if (extinf === null) problems.push(`${at}: EXTINF ${value} has no decimal duration (4.4.4.1)`);
        if (d.includes('.')) versionNeeded = Math.max(versionNeeded, 3);
        current();
        break;
      }
      case '#EXT-X-PRELOAD-HINT': {
        if (pl.preloadHint) problems.push(`${at}: more than one PRELOAD-HINT`);
        const a = attrs();
        const uri = unquote(a.URI);
        if (!uri || (a.TYPE !== 'PART' && a.TYPE !== 'MAP'))
          problems.push(`${at}: PRELOAD-HINT needs TYPE=PART|MAP and a quoted URI (4.4.5.3)`);
        pl.preloadHint = { type: a.TYPE ?? '', uri: uri ?? '' };
        break;
      }
      case '#EXT-X-RENDITION-REPORT': {
        const a = attrs();
        const uri = unquote(a.URI);
        const lastMsn = integer(a['LAST-MSN']);
        const lastPart = a['LAST-PART'] === undefined ? null : integer(a['LAST-PART']);
        const known = Object.keys(a).every((k) => ['URI', 'LAST-MSN', 'LAST-PART'].includes(k));
        if (!uri || lastMsn === null || (a['LAST-PART'] !== undefined && lastPart === null) || !known)
          problems.push(`${at}: malformed RENDITION-REPORT ${line} (4.4.5.4)`);
        pl.renditionReports.push({ uri: uri ?? '', lastMsn, lastPart });
        break;
      }
      case '#EXT-X-ENDLIST':
        pl.ended = true;
        break;
      default:
        break;
    }
  }
  if (extinf !== null) problems.push('the last EXTINF has no URI');
  if (next?.parts.length) close(null, null);
  const last = pl.segments[pl.segments.length - 1];
  if (last) pl.last = { msn: last.msn, part: last.parts.length ? last.parts.length - 1 : null };

  if (pl.version === null && versionNeeded > 1) problems.push(`no EXT-X-VERSION, and its tags need ${versionNeeded}`);
  if (pl.version !== null && pl.version < versionNeeded)
    problems.push(`EXT-X-VERSION ${pl.version}, but its tags need ${versionNeeded} (8)`);
  if (pl.targetDuration === null) problems.push('no EXT-X-TARGETDURATION (4.4.3.1)');
  for (const s of pl.segments) {
    if (s.duration !== null && pl.targetDuration !== null && Math.round(s.duration) > pl.targetDuration)
      problems.push(`segment ${s.msn}: EXTINF ${s.duration} rounds above TARGETDURATION ${pl.targetDuration}`);
  }
  const hasParts = pl.segments.some((s) => s.parts.length);
  if (hasParts && pl.partTarget === null) problems.push('EXT-X-PART without EXT-X-PART-INF (4.4.3.7)');
  if (pl.partTarget !== null) lowLatencyChecks(pl, problems, notes, o);
  return { playlist: pl, problems, notes };
}

function lowLatencyChecks(pl: ParsedMediaPlaylist, problems: string[], notes: string[], o: ValidateOptions): void {
  const target = pl.partTarget!;
  const sc = pl.serverControl ?? {};
  if (sc['CAN-BLOCK-RELOAD'] !== 'YES')
    problems.push('no SERVER-CONTROL CAN-BLOCK-RELOAD=YES (6.2.5.2: LL-HLS needs it)');
  const partHoldBack = decimal(sc['PART-HOLD-BACK']);
  if (partHoldBack === null) problems.push('no SERVER-CONTROL PART-HOLD-BACK (4.4.3.8: required with PART-INF)');
  else if (ms(partHoldBack) < 3 * ms(target))
    problems.push(`PART-HOLD-BACK ${partHoldBack} is below 3 x PART-TARGET ${target}`);
  const holdBack = decimal(sc['HOLD-BACK']);
  if (holdBack !== null && pl.targetDuration !== null && holdBack < 3 * pl.targetDuration)
    problems.push(`HOLD-BACK ${holdBack} is below 3 x TARGETDURATION ${pl.targetDuration} (4.4.3.8)`);

  const first = pl.segments[0];
  if (first && !first.map) problems.push(`no EXT-X-MAP before the first segment (${first.msn})`);
  if (first && first.programDateTime === null) problems.push('no PROGRAM-DATE-TIME with the first segment');
  const listed = new Set<string>();
  for (const s of pl.segments) {
    if (s.uri) listed.add(s.uri);
    for (const p of s.parts) {
      listed.add(p.uri);
      const where = `part ${s.msn}.${p.index} (${p.uri})`;
      if (!(p.duration <= target)) problems.push(`${where}: DURATION ${p.duration} exceeds PART-TARGET ${target}`);
      const named = NAMED_PART.exec(p.uri);
      if (named && (Number(named[1]) !== s.msn || Number(named[2]) !== p.index))
        problems.push(
          `${where}: named as part ${Number(named[2])} of ${Number(named[1])}; parts must be consecutive from 0`,
        );
      if (p.index < s.parts.length - 1 && ms(p.duration) < 0.85 * ms(target)) {
        const floor = `${where}: DURATION ${p.duration} is below 85% of PART-TARGET ${target} and is not its segment's last (4.4.4.9)`;
        (o.strictPartDurations ? problems : notes).push(floor);
      }
    }
    if (s.parts[0] && !s.parts[0].independent) notes.push(`segment ${s.msn}: its first part is not INDEPENDENT`);
    const sum = s.parts.reduce((n, p) => n + ms(p.duration), 0);
    if (s.duration !== null && s.parts.length && Math.abs(sum - ms(s.duration)) > s.parts.length)
      notes.push(`segment ${s.msn}: its parts last ${sum / 1000} s, its EXTINF ${s.duration} s`);
  }
  const newest = pl.segments[pl.segments.length - 1];
  if (pl.ended) {
    if (newest && newest.duration === null) problems.push(`segment ${newest.msn} in progress after EXT-X-ENDLIST`);
    if (pl.preloadHint) problems.push('a PRELOAD-HINT with EXT-X-ENDLIST');
    return;
  }
  const hint = pl.preloadHint;
  if (!hint) {
    notes.push('no PRELOAD-HINT');
  } else if (hint.type === 'PART') {
    if (listed.has(hint.uri)) problems.push(`PRELOAD-HINT ${hint.uri} is already listed`);
    const named = NAMED_PART.exec(hint.uri);
    const expected =
      newest === undefined
        ? null
        : newest.duration === null
          ? { msn: newest.msn, part: newest.parts.length }
          : { msn: newest.msn + 1, part: 0 };
    if (named && expected && (Number(named[1]) !== expected.msn || Number(named[2]) !== expected.part))
      problems.push(`PRELOAD-HINT ${hint.uri} is not the next part (${expected.msn}.${expected.part})`);
  }
}

/** The playlist, or an error listing every problem; it must be LL-HLS (EXT-X-PART-INF). */
export function assertLlHls(text: string, o: ValidateOptions = {}): ParsedMediaPlaylist {
  const { playlist, problems } = validateMediaPlaylist(text, o);
  if (playlist.partTarget === null) problems.unshift('no EXT-X-PART-INF: not a Low-Latency HLS playlist');
  if (problems.length) throw new Error(`invalid LL-HLS playlist:\n- ${problems.join('\n- ')}\n${text}`);
  return playlist;
}

/**
 * What a reload `b` of playlist `a` changed that it must not (6.2.2, 6.2.5.1): numbering going
 * back, a segment or part renamed, a target changed, the newest part going back (but at the end,
 * when the segment in progress goes).
 */
export function reloadProblems(a: ParsedMediaPlaylist, b: ParsedMediaPlaylist): string[] {
  const problems: string[] = [];
  if (b.mediaSequence < a.mediaSequence)
    problems.push(`MEDIA-SEQUENCE went back ${a.mediaSequence} -> ${b.mediaSequence}`);
  if (b.discontinuitySequence < a.discontinuitySequence)
    problems.push(`DISCONTINUITY-SEQUENCE went back ${a.discontinuitySequence} -> ${b.discontinuitySequence}`);
  if (a.targetDuration !== b.targetDuration) problems.push(`TARGETDURATION ${a.targetDuration} -> ${b.targetDuration}`);
  if (a.partTarget !== b.partTarget) problems.push(`PART-TARGET ${a.partTarget} -> ${b.partTarget}`);
  if (a.ended && !b.ended) problems.push('EXT-X-ENDLIST went away');
  const after = new Map(b.segments.map((s) => [s.msn, s]));
  for (const s of a.segments) {
    const t = after.get(s.msn);
    if (!t) continue;
    if (s.duration !== null && (t.uri !== s.uri || t.duration !== s.duration))
      problems.push(`segment ${s.msn}: ${s.uri} (${s.duration}) became ${t.uri} (${t.duration})`);
    if (t.discontinuitySequence !== s.discontinuitySequence)
      problems.push(
        `segment ${s.msn}: discontinuity sequence ${s.discontinuitySequence} -> ${t.discontinuitySequence}`,
      );
    for (const [i, p] of s.parts.entries()) {
      const q = t.parts[i];
      if (q && q.uri !== p.uri) problems.push(`part ${s.msn}.${i}: ${p.uri} became ${q.uri}`);
    }
    if (s.duration !== null && s.parts.length && t.parts.length && t.parts.length !== s.parts.length)
      problems.push(`segment ${s.msn}: ${s.parts.length} parts became ${t.parts.length}`);
  }
  const order = (x: { msn: number; part: number | null } | null) => (x ? [x.msn, x.part ?? Infinity] : [-1, -1]);
  const [am, ap] = order(a.last);
  const [bm, bp] = order(b.last);
  if (!b.ended && (bm! < am! || (bm === am && bp! < ap!)))
    problems.push(`the newest part went back ${a.last?.msn}.${a.last?.part} -> ${b.last?.msn}.${b.last?.part}`);
  return problems;
}
