/**
 * The wall clock of one transcode run's media time: the program date time of every part and
 * segment, shared by the run's renditions. Pure: the caller says when each fragment arrived.
 *
 * A fragment's media cannot have been captured later than ffmpeg handed it over, so every
 * fragment bounds the clock: the wall time of media time 0 is at most `arrival - mediaTime`. The
 * tightest bound seen so far is the source's clock plus the least the pipeline ever took. The
 * first fragment alone is a poor bound: it also carries ffmpeg's start-up (connecting, probing,
 * the encoders' warm-up), which is seconds on a loaded machine, and dates that late made players
 * report less glass to glass than they had, below zero when the machine was busy.
 *
 * A segment's date is fixed by the first rendition that reaches it, and its parts follow from it:
 * renditions agree on the date of every sequence (players align levels by it), and a date once
 * announced never changes. Only segments begun after a tighter bound carry it, so the dates of a
 * run's first segments may step back once, by the start-up the later bound removed.
 */
export class MediaClock {
  private epochMs: number | null = null;
  private readonly segments = new Map<number, { dateMs: number; mediaStartMs: number }>();

  /** Keeps the last dates fixed: enough for every rendition's in-flight segment, however far apart. */
  constructor(private readonly keepSegments = 16) {}

  /** Media from `mediaMs` on arrived at `arrivalMs` (wall clock). */
  observe(arrivalMs: number, mediaMs: number): void {
    const bound = arrivalMs - mediaMs;
    if (this.epochMs === null || bound < this.epochMs) this.epochMs = bound;
  }

  /**
   * The date of media time `mediaMs`, which lies in segment `sequence`: the segment's date, fixed
   * when it was first asked for, plus the distance into it.
   */
  dateOf(sequence: number, mediaMs: number, nowMs: number): number {
    let seg = this.segments.get(sequence);
    if (!seg) {
      seg = { dateMs: (this.epochMs ?? nowMs - mediaMs) + mediaMs, mediaStartMs: mediaMs };
      this.segments.set(sequence, seg);
      for (const old of this.segments.keys()) if (old <= sequence - this.keepSegments) this.segments.delete(old);
    }
    return Math.round(seg.dateMs + (mediaMs - seg.mediaStartMs));
  }
}
