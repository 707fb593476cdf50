import { hlsConfig, type LatencyMode } from './format.ts';

/**
 * Rewinding a live stream (DVR): the player leaves the small live playlists for the packager's
 * DVR ones (every whole segment of the last two hours) and comes back to them at "Go to live".
 * Pure: what the player (player.ts) configures and where it starts.
 */

/** How far one press of the rewind button goes back. */
export const REWIND_STEP_S = 30;

/** hls.js for the DVR playlists: a recording's settings, never pulled back to the live edge (the viewer chose to be behind). */
export const dvrHlsConfig = (mode: LatencyMode) => ({
  ...hlsConfig(mode, false),
  // Loading starts where the rewind lands, once the player has read the playlist (player.ts): a
  // start at the live edge moved afterwards left hls.js stuck on the aborted first fragment.
  autoStartLoad: false,
  // hls.js takes the max only beside the sync count it must exceed.
  liveSyncDurationCount: 3,
  liveMaxLatencyDurationCount: Infinity,
});

/**
 * Where in the DVR playlist (hls.js's media time, from its fragments' `start`) the frame captured
 * at `capturedAtMs` is: the nearest whole segment's start by program date time, within the
 * playlist; the oldest segment when it reaches back less far than asked.
 */
export interface DvrFragment {
  start: number;
  duration: number;
  programDateTime: number | null;
}

export function dvrStartPosition(fragments: readonly DvrFragment[], capturedAtMs: number): number {
  const dated = fragments.filter((f) => f.programDateTime !== null);
  const first = dated[0];
  if (!first) return fragments[0]?.start ?? 0;
  let at = first;
  for (const f of dated) if (f.programDateTime! <= capturedAtMs) at = f;
  const into = Math.min(Math.max(0, (capturedAtMs - at.programDateTime!) / 1000), at.duration);
  return at.start + into;
}

/**
 * The segments of a DVR media playlist as hls.js places them when it first loads one: from 0,
 * each after the one before, with the program date time that precedes it.
 */
export function dvrFragments(playlist: string): DvrFragment[] {
  const out: DvrFragment[] = [];
  let start = 0;
  let date: number | null = null;
  for (const line of playlist.split('\n')) {
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      const t = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
      date = Number.isNaN(t) ? null : t;
    } else if (line.startsWith('#EXTINF:')) {
      const duration = Number.parseFloat(line.slice('#EXTINF:'.length));
      if (!Number.isFinite(duration)) continue;
      out.push({ start, duration, programDateTime: date });
      start += duration;
      date = null;
    }
  }
  return out;
}

/**
 * The rendition a rewound player stays on: the one it was playing live, else the first the master
 * lists (the highest).
 */
export function dvrLevel(names: readonly string[], playing: string | null): number {
  const i = playing === null ? -1 : names.indexOf(playing);
  return i >= 0 ? i : 0;
}

/** "1:05 behind live" for the player bar while rewound. */
export function behindLiveLabel(behindMs: number): string {
  const s = Math.max(0, Math.round(behindMs / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${sec} behind live`;
}
