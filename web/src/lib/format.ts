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
 * hls.js settings for a stream's latency mode. Low modes stay closer to the live edge (fewer
 * target durations behind, catch up by playing slightly faster, low-latency HLS parts when the
 * playlist has them); standard keeps a deeper buffer against stalls.
 */
export function hlsSettings(mode: LatencyMode, live: boolean) {
  if (!live) return { lowLatencyMode: false, maxBufferLength: 30, backBufferLength: 30 };
  switch (mode) {
    case 'ultra-low':
    case 'low':
      return {
        lowLatencyMode: true,
        liveSyncDurationCount: mode === 'ultra-low' ? 1.5 : 2,
        liveMaxLatencyDurationCount: mode === 'ultra-low' ? 4 : 6,
        maxLiveSyncPlaybackRate: 1.15,
        maxBufferLength: 8,
        backBufferLength: 10,
      };
    case 'standard':
      return {
        lowLatencyMode: false,
        liveSyncDurationCount: 3,
        liveMaxLatencyDurationCount: 10,
        maxLiveSyncPlaybackRate: 1,
        maxBufferLength: 20,
        backBufferLength: 30,
      };
    default: {
      const _exhaustive: never = mode;
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
