/** Pure helpers for what the page shows and how the player is tuned. */

/** 950 → "950", 1234 → "1.2K", 2_500_000 → "2.5M". */
export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${trimZero((n / 1000).toFixed(n < 10_000 ? 1 : 0))}K`;
  return `${trimZero((n / 1_000_000).toFixed(1))}M`;
}

const trimZero = (s: string): string => s.replace(/\.0$/, '');

export const viewersLabel = (n: number): string => `${formatCount(n)} ${n === 1 ? 'viewer' : 'viewers'}`;

/** "3 s behind live" under ten seconds, rounded to whole seconds after. */
export function latencyLabel(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '';
  return seconds < 10 ? `${seconds.toFixed(1)} s behind live` : `${Math.round(seconds)} s behind live`;
}

/** How long a stream has been live: "1:02:03" or "4:05". */
export function uptime(startedAt: string | null, now: number): string {
  if (!startedAt) return '';
  const total = Math.max(0, Math.floor((now - Date.parse(startedAt)) / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

export type LatencyMode = 'standard' | 'low' | 'ultra-low';

/**
 * The HLS tier a latency mode plays at. Ultra-low plays over WebRTC (player.ts); its HLS, for
 * the viewers WebRTC fails and for the recording, is packaged and played as low, over LL-HLS.
 */
export type HlsTier = 'standard' | 'low';
export const hlsTier = (mode: LatencyMode): HlsTier => (mode === 'standard' ? 'standard' : 'low');

/**
 * hls.js settings for a stream's latency mode, given to `new Hls()`. Both live tiers play with
 * `lowLatencyMode`: LL-HLS parts and blocking playlist reloads when the playlist offers them
 * (EXT-X-PART, CAN-BLOCK-RELOAD), and, in hls.js, the only mode in which it catches up by playing
 * faster. What the tiers differ in is the packager's (segment and part durations, hence
 * PART-HOLD-BACK) and, here, how hard the player chases the edge:
 *
 * - The target latency is the playlist's PART-HOLD-BACK (HOLD-BACK without parts). It is NOT set
 *   here: hls.js lets a `liveSyncDuration`/`liveSyncDurationCount` given to its constructor
 *   override the playlist's figure, so the fallback for a playlist with neither (plain HLS) is set
 *   on the instance afterwards (`followLive`).
 * - `maxLiveSyncPlaybackRate` 1: hls.js's own catch-up is off, the page's (`followLive`, rates
 *   from `catchUpRate`) does it. hls.js speeds up only with more than 1 s buffered ahead, which a
 *   sub-second target never has: over LL-HLS the low tier sat at 0.93 s behind the edge against a
 *   0.6 s target (npm run bench -- glass), and standard (1 s target) mostly too.
 * - `liveSyncOnStallIncrease`: hls.js moves its target back by this much after each stall (up to
 *   one target duration). Standard keeps hls.js's 1 s; low steps by 0.25 s, about one part, so one
 *   stall does not throw the tier away.
 * - Buffers: live, the buffer ahead can never be longer than the latency, so the forward limits
 *   only matter after a seek back; low keeps both the forward and the played (back) buffer small
 *   (less memory, quicker MediaSource appends).
 *
 * The seek back when a viewer is far behind (`liveMaxLatencyDuration`) depends on the target the
 * playlist gives, so it too is set by `followLive`.
 */
export function hlsSettings(mode: LatencyMode, live: boolean) {
  if (!live) return { lowLatencyMode: false, maxBufferLength: 30, backBufferLength: 30 };
  const tier = hlsTier(mode);
  switch (tier) {
    case 'standard':
      return {
        lowLatencyMode: true,
        maxLiveSyncPlaybackRate: 1,
        liveSyncOnStallIncrease: 1,
        maxBufferLength: 10,
        maxMaxBufferLength: 20,
        backBufferLength: 20,
      };
    case 'low':
      return {
        lowLatencyMode: true,
        maxLiveSyncPlaybackRate: 1,
        liveSyncOnStallIncrease: 0.25,
        maxBufferLength: 4,
        maxMaxBufferLength: 8,
        backBufferLength: 6,
      };
    default: {
      const _exhaustive: never = tier;
      return _exhaustive;
    }
  }
}

/**
 * The whole hls.js configuration of the page's player (bench/glass.ts plays with the same):
 * the latency mode's settings, starting on hls.js's bandwidth estimate and never fetching more
 * pixels than the element shows.
 */
export const hlsConfig = (mode: LatencyMode, live: boolean) => ({
  ...hlsSettings(mode, live),
  startLevel: -1,
  capLevelToPlayerSize: true,
});

/**
 * hls.js's target latency, in target durations, for a live playlist that gives neither
 * PART-HOLD-BACK nor HOLD-BACK (plain HLS: MPEG-TS streams, an origin without LL-HLS, the peer
 * in the benchmark). Standard: 3, the HLS spec's minimum HOLD-BACK (6 s on 2 s segments).
 * Low: 2 (2 s on its 1 s segments): one segment being made and one in hand, reloads included;
 * nearer than the spec's 3 because the tier is for latency first.
 */
export function liveSyncFallback(mode: LatencyMode): number {
  return hlsTier(mode) === 'standard' ? 3 : 2;
}

/**
 * The fastest the page plays to get back to its target latency. Standard 1.1: about 1 s of drift
 * made up in 10 s, a 10 % tempo change (pitch kept) that speech and music both get away with; the
 * standard tier is the smooth one. Low 1.25: its target (about 0.6 s) leaves no room to drift, so
 * it makes up a part's worth (0.2 s) in about a second, at a tempo still fine for speech, which is
 * what sub-second streams (talk, auctions, betting) carry.
 */
export function catchUpRate(mode: LatencyMode): number {
  return hlsTier(mode) === 'standard' ? 1.1 : 1.25;
}

/** What `followLive` needs of an hls.js instance (an `Hls` is one). */
export interface LiveHls {
  config: { liveSyncDurationCount: number; liveMaxLatencyDuration?: number | undefined };
  readonly targetLatency: number | null;
  readonly latestLevelDetails: { targetduration: number } | null;
  /** Seconds behind the live edge (hls.js's estimate). */
  readonly latency: number;
  readonly media: {
    readonly currentTime: number;
    readonly paused: boolean;
    readonly buffered: { readonly length: number; start(i: number): number; end(i: number): number };
    playbackRate: number;
  } | null;
}

/**
 * Live sync settings hls.js takes only on the instance; the page calls this once the instance
 * exists and on every playlist update (LEVEL_UPDATED). NB: it uses nothing outside itself, because
 * bench/glass.ts sends its source into the page it measures with.
 *
 * - The fallback target latency (`liveSyncFallback`) goes into the instance's config, not the
 *   constructor's: hls.js uses it only when the playlist gives no hold-back.
 * - Seek back to live when further behind the edge than twice the target plus one target duration
 *   (2 x 1 s + 2 s = 4 s standard, 2 x 0.6 s + 1 s = 2.2 s low, 14 s / 5 s on plain HLS); closer
 *   than that, catch up by playback rate (up to `maxRate`, `catchUpRate`): the page calls this on
 *   every playlist update and media time update, so no viewer is left playing at a fixed distance
 *   behind, neither caught up nor sent back.
 */
export function followLive(hls: LiveHls, fallbackSyncDurationCount: number, maxRate: number): void {
  hls.config.liveSyncDurationCount = fallbackSyncDurationCount;
  const target = hls.targetLatency;
  const details = hls.latestLevelDetails;
  if (target !== null && details) hls.config.liveMaxLatencyDuration = 2 * target + details.targetduration;
  const media = hls.media;
  if (!media || media.paused || target === null || !details) return;
  let ahead = 0;
  for (let i = 0; i < media.buffered.length; i++) {
    if (media.buffered.start(i) <= media.currentTime + 0.1 && media.currentTime < media.buffered.end(i))
      ahead = media.buffered.end(i) - media.currentTime;
  }
  const behind = hls.latency - target;
  // Faster in proportion to the drift (the whole of maxRate from 1 s behind), and only while more
  // than a quarter second is buffered ahead: at 1.25x that lasts a second, time for the next part.
  const rate =
    behind > 0.05 && ahead > 0.25 && hls.latency < 2 * target + details.targetduration
      ? Math.round((1 + Math.min(1, behind) * (maxRate - 1)) * 100) / 100
      : 1;
  if (media.playbackRate !== rate && media.playbackRate !== 0) media.playbackRate = rate;
}

/** What the player bar shows of a live player once a second. */
export interface LiveStatus {
  /** "1.2 s behind live", or '' before playback starts. */
  latency: string;
  /** "target 1.0 s", or ''. */
  target: string;
  /** hls.js is playing faster than real time to get back to its target. */
  catchingUp: boolean;
  /** Far enough behind (paused, or the viewer seeked back) to offer a "go to live" button. */
  farBehind: boolean;
}

export function liveStatus(latency: number | null, target: number | null, playbackRate: number): LiveStatus {
  const known = latency !== null && Number.isFinite(latency) && latency > 0;
  const t = target !== null && Number.isFinite(target) && target > 0 ? target : null;
  return {
    latency: known ? latencyLabel(latency) : '',
    target: known && t !== null ? `target ${t.toFixed(1)} s` : '',
    catchingUp: known && playbackRate > 1,
    farBehind: known && t !== null && latency > 2 * t + 3,
  };
}

/**
 * Glass to glass for a viewer heartbeat: how far the frame on screen is behind its capture time,
 * `now` being the player's clock corrected to the gateway's. Whole milliseconds, or null when
 * nothing is playing.
 */
export function glassToGlassMs(capturedAt: number | null, now: number): number | null {
  if (capturedAt === null || !Number.isFinite(capturedAt)) return null;
  // Unclamped: a negative figure is a clock the correction missed, and the gateway drops it.
  return Math.round(now - capturedAt);
}

/** A rendition's name for menus and heartbeats: the playlist's NAME, else "<height>p". */
export function levelName(level: { name?: string | undefined; height?: number | undefined }, index: number): string {
  const name = level.name?.trim();
  if (name && /^[A-Za-z0-9_.-]{1,16}$/.test(name)) return name;
  if (level.height) return `${level.height}p`;
  return `level${index}`;
}

/** Reconnect delay: 0.5 s doubling to 15 s, with jitter so a restart is not met by every page at once. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(15_000, 500 * 2 ** Math.min(attempt, 5));
  return Math.round(base / 2 + random() * (base / 2));
}
