import type { ViewerPlayback } from '../../schemas/generated/events.ts';
import type { MediaKind } from '../media/hls-paths.ts';

/**
 * Playback evidence: a viewer counts only while its player fetches media (issue #28, finding 2).
 * The player names its session on every media request (`?vsid=<session id>`, the id its presence
 * socket holds); the edge folds its access log into one ViewerPlayback per session, stream and
 * flush interval (`PlaybackBatcher`); the viewer counter keeps what each session fetched
 * (`PlaybackLog`) and counts a heartbeat only where the same session fetched media for the same
 * stream within the window. Pure: no clock, no Kafka.
 *
 * What counts as media: segments and parts answered 2xx. Not playlists: a playlist poll is a few
 * hundred bytes that a script can repeat forever for nothing, and players refresh them even when
 * they download nothing (paused, buffer full); not init sections (fetched once per rendition
 * switch, then never again while playing); not thumbnails. Fetching the media itself is what
 * costs an inflater real bandwidth per counted session.
 */

/** The query parameter players name their session with; neither cache key nor the origin reads it. */
export const PLAYBACK_SESSION_PARAM = 'vsid';

/** A session id, the same rule as the presence socket's `?session=` (letters, digits, _ and -). */
export const SESSION_ID = /^[A-Za-z0-9_-]{8,64}$/;

export const MEDIA_KINDS: ReadonlySet<MediaKind | 'other'> = new Set<MediaKind | 'other'>(['segment', 'part']);

/** One media request the edge answered, as its access log tells it. */
export interface MediaFetch {
  /** ms since the epoch. */
  at: number;
  status: number;
  kind: MediaKind | 'other';
  streamId: string | null;
  /** The raw `vsid` value ('-' or empty when the request had none). */
  session: string;
  bytes: number;
}

/** Whether a request is playback evidence, and for whom. */
export function playbackOf(f: MediaFetch): { streamId: string; sessionId: string } | null {
  if (!MEDIA_KINDS.has(f.kind) || f.status < 200 || f.status > 299) return null;
  if (f.streamId === null || !SESSION_ID.test(f.session)) return null;
  return { streamId: f.streamId, sessionId: f.session };
}

/** What one session fetched from one stream since the last drain: the event less its envelope. */
type Interval = Omit<ViewerPlayback, 'eventId' | 'occurredAt' | 'edge'>;

/**
 * The edge side: media requests folded per (stream, session) until `drain`, which the shell calls
 * every flush interval. At most `maxSessions` are held between drains; requests of sessions beyond
 * that are refused (counted by the caller), so a flood of invented ids costs memory only up to it.
 */
export class PlaybackBatcher {
  private readonly open = new Map<string, Interval>();

  constructor(private readonly opts: { edge: string; maxSessions: number }) {}

  get size(): number {
    return this.open.size;
  }

  /** 'ignored': not playback evidence; 'full': evidence, but no room until the next drain. */
  add(f: MediaFetch): 'added' | 'ignored' | 'full' {
    const who = playbackOf(f);
    return who ? this.record(who, f.at, 1, f.bytes) : 'ignored';
  }

  /** Media that reached a session: `requests` fetches (or packets) of `bytes` in all, at `at`. */
  record(who: { streamId: string; sessionId: string }, at: number, requests: number, bytes: number): 'added' | 'full' {
    const key = `${who.streamId}\n${who.sessionId}`;
    const i = this.open.get(key);
    if (i) {
      i.firstAt = Math.min(i.firstAt, at);
      i.lastAt = Math.max(i.lastAt, at);
      i.requests += requests;
      i.bytes += bytes;
      return 'added';
    }
    if (this.open.size >= this.opts.maxSessions) return 'full';
    this.open.set(key, { ...who, firstAt: at, lastAt: at, requests, bytes });
    return 'added';
  }

  /** One event per (stream, session) seen since the last drain; the batcher is empty after. */
  drain(now: number, newId: () => string): ViewerPlayback[] {
    const out = [...this.open.values()].map((i) => ({
      eventId: newId(),
      occurredAt: now,
      ...i,
      edge: this.opts.edge,
    }));
    this.open.clear();
    return out;
  }
}

type Span = { firstAt: number; lastAt: number };

/**
 * The counter side: the intervals each session fetched media in, per stream, so a heartbeat at
 * time `t` can ask whether its session fetched media within the window that ends at `t`.
 * `fetched` reads event times only, never the order records arrived in: a rebuild that has read
 * every interval answers as the live counter did, except where an interval reached the live
 * counter after a heartbeat it precedes in time (docs/viewers.md).
 */
export class PlaybackLog {
  /** stream -> session -> intervals, oldest `lastAt` first. */
  private readonly streams = new Map<string, Map<string, Span[]>>();
  private held = 0;

  constructor(private readonly windowMs: number) {}

  /** Intervals held, for the metrics. */
  get size(): number {
    return this.held;
  }

  record(e: Pick<ViewerPlayback, 'streamId' | 'sessionId' | 'firstAt' | 'lastAt'>): void {
    if (e.lastAt < e.firstAt) return;
    let sessions = this.streams.get(e.streamId);
    if (!sessions) this.streams.set(e.streamId, (sessions = new Map<string, Span[]>()));
    let list = sessions.get(e.sessionId);
    if (!list) sessions.set(e.sessionId, (list = []));
    let i = list.length;
    while (i > 0 && list[i - 1]!.lastAt > e.lastAt) i--;
    list.splice(i, 0, { firstAt: e.firstAt, lastAt: e.lastAt });
    this.held++;
  }

  /** Whether the session fetched media of the stream in (t - window, t]: an interval that began by `t` and ended after `t - window`. */
  fetched(streamId: string, sessionId: string, t: number): boolean {
    const list = this.streams.get(streamId)?.get(sessionId);
    if (!list) return false;
    for (let i = list.length - 1; i >= 0; i--) {
      const iv = list[i]!;
      if (iv.lastAt <= t - this.windowMs) return false;
      if (iv.firstAt <= t) return true;
    }
    return false;
  }

  /** Forgets intervals that ended at or before `before` (no heartbeat that late could use them). */
  prune(before: number): void {
    for (const [streamId, sessions] of this.streams) {
      for (const [sessionId, list] of sessions) {
        let n = 0;
        while (n < list.length && list[n]!.lastAt <= before) n++;
        if (n) {
          list.splice(0, n);
          this.held -= n;
        }
        if (!list.length) sessions.delete(sessionId);
      }
      if (!sessions.size) this.streams.delete(streamId);
    }
  }
}
