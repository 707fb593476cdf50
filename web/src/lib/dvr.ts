import { hlsConfig, type LatencyMode } from './format.ts';

/**
 * Rewinding a live stream (DVR): the player leaves the small live playlists for the packager's
 * DVR ones (every whole segment of the last two hours) and comes back to them at "Go to live".
 * Pure: what the player (player.ts) configures and where it starts.
 */

/** How far one press of the rewind button goes back. */
export const REWIND_STEP_S = 30;

/**
 * hls.js for the DVR playlists: a recording's settings, never pulled back to the live edge (the
 * viewer chose to be behind). It starts loading at once (the media playlists load only then);
 * the player moves the start once the first one is in (`dvrStartPosition`).
 */
export const dvrHlsConfig = (mode: LatencyMode) => ({
  ...hlsConfig(mode, false),
  // hls.js takes the max only beside the sync count it must exceed.
  liveSyncDurationCount: 3,
  liveMaxLatencyDurationCount: Infinity,
});

/**
 * Where in the DVR playlist (hls.js's media time, from its fragments' `start`) the frame captured
 * at `capturedAtMs` is: the nearest whole segment's start by program date time, within the
 * playlist; the oldest segment when it reaches back less far than asked.
 */
export function dvrStartPosition(
  fragments: ReadonlyArray<{ start: number; duration: number; programDateTime: number | null }>,
  capturedAtMs: number,
): number {
  const dated = fragments.filter((f) => f.programDateTime !== null);
  const first = dated[0];
  if (!first) return fragments[0]?.start ?? 0;
  let at = first;
  for (const f of dated) if (f.programDateTime! <= capturedAtMs) at = f;
  const into = Math.min(Math.max(0, (capturedAtMs - at.programDateTime!) / 1000), at.duration);
  return at.start + into;
}

/** "1:05 behind live" for the player bar while rewound. */
export function behindLiveLabel(behindMs: number): string {
  const s = Math.max(0, Math.round(behindMs / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${sec} behind live`;
}
