import type { HeartbeatKind } from '../../schemas/generated/events.ts';

/**
 * One stream's presence window, folded from its heartbeats in partition order. Pure: no clock of
 * its own, so the live counter and the replay compute the same thing from the same records.
 *
 * Time is event time: a heartbeat's `occurredAt` (the gateway's receive time), clamped so a bad
 * clock cannot move the window:
 * - at most `maxSkewMs` after the record's broker timestamp (a far-future time is pulled back);
 * - never before the stream's watermark, the latest time applied (a late record counts as now);
 * - a record older than the watermark by a whole window or more changes nothing and is refused.
 *
 * A session is active while its latest beat is less than `windowMs` old; a clean DISCONNECT removes
 * it at once. The peak is the largest count right after any applied heartbeat, which only a
 * heartbeat can raise, so it depends on the records alone; `countPeaks` false (a rebuild's first,
 * partial window) applies a record without letting it raise the peak.
 *
 * Playback (issue #28): with `watched` given, a session counts only while its latest beat found
 * it fetching media (`watched(sessionId, t)` at the beat's time, domain/viewers/playback.ts), so a
 * socket that only beats is in the window but adds nothing to a count or a peak. It is decided at
 * the beat and kept until the next, so counts and peaks still change only when a record is applied.
 */
export interface WindowConfig {
  windowMs: number;
  maxSkewMs: number;
}

export interface Beat {
  occurredAt: number;
  sessionId: string;
  kind: HeartbeatKind;
  quality: string | null;
  bufferingMs: number;
}

export type BeatOutcome = 'applied' | 'clamped_future' | 'clamped_late' | 'stale';

interface Session {
  lastSeen: number;
  /** Fetching media at its latest beat (always true when playback is not required). */
  watching: boolean;
  quality: string | null;
  /** Buffering reported for the interval ending at `lastSeen`, at most the interval itself. */
  bufferingMs: number;
  intervalMs: number;
}

export interface WindowStats {
  viewers: number;
  qualities: Record<string, number>;
  bufferingRatio: number;
}

export const UNKNOWN_QUALITY = 'unknown';

export class StreamWindow {
  /** Insertion order is lastSeen order: an update deletes and re-inserts, and times never go back. */
  private readonly sessions = new Map<string, Session>();
  private watermark = Number.NEGATIVE_INFINITY;
  /** Sessions in the window with `watching` set. */
  private watchingCount = 0;
  peak = 0;

  constructor(
    private readonly cfg: WindowConfig,
    private readonly watched?: (sessionId: string, at: number) => boolean,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** The time the oldest session was last seen, or undefined when empty. */
  get oldest(): number | undefined {
    for (const s of this.sessions.values()) return s.lastSeen;
    return undefined;
  }

  apply(beat: Beat, recordTimestamp: number, countPeaks = true): BeatOutcome {
    let outcome: BeatOutcome = 'applied';
    let t = beat.occurredAt;
    if (t > recordTimestamp + this.cfg.maxSkewMs) {
      t = recordTimestamp;
      outcome = 'clamped_future';
    }
    if (t < this.watermark) {
      if (t <= this.watermark - this.cfg.windowMs) return 'stale';
      t = this.watermark;
      outcome = 'clamped_late';
    }
    this.watermark = t;
    this.expire(t - this.cfg.windowMs);
    const prev = this.sessions.get(beat.sessionId);
    this.remove(beat.sessionId);
    if (beat.kind !== 'DISCONNECT') {
      const intervalMs = prev ? t - prev.lastSeen : 0;
      const watching = this.watched?.(beat.sessionId, t) ?? true;
      if (watching) this.watchingCount++;
      this.sessions.set(beat.sessionId, {
        lastSeen: t,
        watching,
        quality: beat.quality ?? prev?.quality ?? null,
        bufferingMs: beat.kind === 'HEARTBEAT' ? Math.min(Math.max(0, beat.bufferingMs), intervalMs) : 0,
        intervalMs,
      });
    }
    if (countPeaks && this.watchingCount > this.peak) this.peak = this.watchingCount;
    return outcome;
  }

  /** Sessions active at `now`; read-only, so a reading never changes what later records compute. */
  stats(now: number): WindowStats {
    const cutoff = now - this.cfg.windowMs;
    const qualities: Record<string, number> = {};
    let viewers = 0;
    let buffering = 0;
    let watched = 0;
    for (const s of this.sessions.values()) {
      if (s.lastSeen <= cutoff || !s.watching) continue;
      viewers++;
      const q = s.quality ?? UNKNOWN_QUALITY;
      qualities[q] = (qualities[q] ?? 0) + 1;
      buffering += s.bufferingMs;
      watched += s.intervalMs;
    }
    return { viewers, qualities, bufferingRatio: watched > 0 ? buffering / watched : 0 };
  }

  /** Drops sessions that no record at or after the watermark could count again. */
  private expire(cutoff: number): void {
    for (const [id, s] of this.sessions) {
      if (s.lastSeen > cutoff) return;
      this.remove(id);
    }
  }

  private remove(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    this.sessions.delete(sessionId);
    if (s.watching) this.watchingCount--;
  }
}
