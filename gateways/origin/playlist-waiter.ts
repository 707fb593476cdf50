import { readFile } from 'node:fs/promises';
import { blockingDecision, holdLimitMs, playlistPosition, type PlaylistPosition } from './blocking.ts';
import { ChangeWaiter } from './change-waiter.ts';

export type WaitResult =
  | { kind: 'ready'; position: PlaylistPosition }
  | { kind: 'missing' | 'not-media' | 'too-far' | 'timeout' | 'cancelled' };

type Read = PlaylistPosition | 'missing' | 'not-media';

/** A media playlist's position, or why there is none. */
export async function readPosition(file: string): Promise<Read> {
  try {
    return playlistPosition(await readFile(file, 'utf8')) ?? 'not-media';
  } catch {
    return 'missing';
  }
}

/**
 * Holds blocking playlist requests until their segment or part is listed: the packager replaces a
 * playlist by renaming a new file over it, and each replacement is read once for every request
 * waiting on that playlist (change-waiter.ts).
 */
export class PlaylistWaiter {
  readonly changes = new ChangeWaiter<Read>(readPosition);

  /** Resolves when `file` lists part `part` of `msn` (or the segment, with no part) or ends, or with why it will not. */
  async wait(file: string, msn: number, part: number | null, signal: AbortSignal): Promise<WaitResult> {
    const since = performance.now();
    const now = await readPosition(file);
    if (now === 'missing' || now === 'not-media') return { kind: now };
    const decision = blockingDecision(now, msn, part);
    if (decision === 'serve') return { kind: 'ready', position: now };
    if (decision === 'too-far') return { kind: 'too-far' };
    // A playlist being replaced, or not one now: the requests keep waiting until their limit.
    const r = await this.changes.hold(
      file,
      (p) => (typeof p !== 'string' && blockingDecision(p, msn, part) === 'serve' ? p : undefined),
      { since, limitMs: holdLimitMs(now), signal },
    );
    return typeof r === 'string' ? { kind: r } : { kind: 'ready', position: r };
  }
}
