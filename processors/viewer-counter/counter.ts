import type { ViewerCountChanged, ViewerHeartbeat } from '../../schemas/generated/events.ts';
import { StreamWindow, type BeatOutcome, type WindowConfig, type WindowStats } from './window.ts';

/**
 * The viewer counter's core: the windows of every stream on the partitions this instance owns,
 * and the decision of what to publish when. No Kafka and no clock here (the shell passes both
 * in), so every rule is unit-tested.
 *
 * Partitions. Each (re)assignment starts every owned partition over: it is 'seeking' until the
 * shell has moved its position back to a window's worth of heartbeats before now, 'rebuilding'
 * while it re-reads them (counts are folded, nothing is published, so a restart never shows a dip
 * to zero), then 'live' from the record that was last when the partition was assigned.
 *
 * Publishing. `due(now)` lists the ViewerCountChanged events to publish: a stream whose count or
 * quality mix differs from what was last published (or whose buffering ratio moved, at most every
 * `bufferingEmitIntervalMs`), never more than once per `minEmitIntervalMs`; and one final zero when
 * the stream registry says the stream ended. `published` records what Kafka acknowledged.
 */
export interface CounterConfig extends WindowConfig {
  minEmitIntervalMs: number;
  bufferingEmitIntervalMs: number;
}

/** What the counter needs from the stream registry (lifecycle and the latest published counts). */
export interface CounterFacts {
  /** True once the stream's StreamEnded is known: its heartbeats are refused and it gets its zero. */
  ended(streamId: string): boolean;
  /** The latest ViewerCountChanged on the counts topic: the baseline after a restart, and the peak so far. */
  lastPublished(streamId: string): ViewerCountChanged | undefined;
  /**
   * Whether the session fetched the stream's media in the window ending at `at` (the edges'
   * ViewerPlayback, domain/viewers/playback.ts). Absent: playback is not required, every beating
   * session counts.
   */
  fetchedMedia?: (streamId: string, sessionId: string, at: number) => boolean;
}

export type ApplyOutcome = BeatOutcome | 'not_live' | 'not_assigned';

type Phase =
  | { phase: 'seeking' }
  | { phase: 'rebuilding'; lastOffset: number; fromTime: number; peaksFrom: number | undefined }
  | { phase: 'live' };

interface StreamState {
  window: StreamWindow;
  partition: number;
  last: WindowStats;
  lastEmitAt: number;
  dirty: boolean;
}

export class ViewerCounter {
  private readonly partitions = new Map<number, Phase>();
  private readonly streams = new Map<string, StreamState>();
  /** Streams this instance published the end-of-stream zero for (since the last assignment). */
  private readonly zeroed = new Set<string>();

  constructor(
    private readonly cfg: CounterConfig,
    private readonly facts: CounterFacts,
    private readonly newId: () => string,
  ) {}

  /** A new assignment replaces the old one whole: every window is rebuilt from the topic. */
  assign(partitions: number[]): void {
    this.partitions.clear();
    this.streams.clear();
    this.zeroed.clear();
    for (const p of partitions) this.partitions.set(p, { phase: 'seeking' });
  }

  /**
   * The shell moved `partition` back to the first record at or after `fromTime`; `lastOffset` is
   * the last record there was at assignment (-1 when none): the partition turns live after it.
   */
  rebuildFrom(partition: number, fromTime: number, lastOffset: number, seekOffset: number): void {
    if (!this.partitions.has(partition)) return;
    this.partitions.set(
      partition,
      lastOffset < seekOffset ? { phase: 'live' } : { phase: 'rebuilding', lastOffset, fromTime, peaksFrom: undefined },
    );
  }

  /** False while the partition's position is being moved: its records must wait (they are not the window's start). */
  ready(partition: number): boolean {
    const p = this.partitions.get(partition);
    return p !== undefined && p.phase !== 'seeking';
  }

  phaseOf(partition: number): Phase['phase'] | undefined {
    return this.partitions.get(partition)?.phase;
  }

  /** Whether the stream still has a window here (an ended one's goes once its zero is published). */
  has(streamId: string): boolean {
    return this.streams.has(streamId);
  }

  get streamCount(): number {
    return this.streams.size;
  }

  apply(partition: number, offset: number, hb: ViewerHeartbeat, recordTimestamp: number): ApplyOutcome {
    const p = this.partitions.get(partition);
    if (!p || p.phase === 'seeking') return 'not_assigned';
    let countPeaks = true;
    if (p.phase === 'rebuilding') {
      // The first records re-read have no window behind them yet: they may count, not set peaks.
      p.peaksFrom ??= Math.min(p.fromTime, hb.occurredAt) + this.cfg.windowMs;
      countPeaks = hb.occurredAt >= p.peaksFrom;
    }
    const outcome = this.applyToStream(partition, hb, recordTimestamp, countPeaks);
    if (p.phase === 'rebuilding' && offset >= p.lastOffset) this.partitions.set(partition, { phase: 'live' });
    return outcome;
  }

  private applyToStream(partition: number, hb: ViewerHeartbeat, ts: number, countPeaks: boolean): ApplyOutcome {
    let s = this.streams.get(hb.streamId);
    if (this.facts.ended(hb.streamId)) {
      // A counter that restarted after the end but before its zero was published still owes it.
      if (!s && !this.zeroed.has(hb.streamId) && (this.facts.lastPublished(hb.streamId)?.viewers ?? 0) > 0) {
        this.streams.set(hb.streamId, this.newState(hb.streamId, partition));
      }
      return 'not_live';
    }
    if (!s) {
      s = this.newState(hb.streamId, partition);
      this.streams.set(hb.streamId, s);
    }
    const outcome = s.window.apply(hb, ts, countPeaks);
    if (outcome !== 'stale') s.dirty = true;
    return outcome;
  }

  private newState(streamId: string, partition: number): StreamState {
    const fetched = this.facts.fetchedMedia;
    const window = new StreamWindow(this.cfg, fetched && ((sessionId, at) => fetched(streamId, sessionId, at)));
    const published = this.facts.lastPublished(streamId);
    window.peak = published?.peakViewers ?? 0;
    return {
      window,
      partition,
      last: published
        ? { viewers: published.viewers, qualities: published.qualities, bufferingRatio: published.bufferingRatio }
        : { viewers: 0, qualities: {}, bufferingRatio: 0 },
      lastEmitAt: Number.NEGATIVE_INFINITY,
      dirty: true,
    };
  }

  due(now: number): ViewerCountChanged[] {
    const out: ViewerCountChanged[] = [];
    for (const [streamId, s] of this.streams) {
      if (this.partitions.get(s.partition)?.phase !== 'live') continue;
      if (this.facts.ended(streamId)) {
        out.push(this.event(streamId, now, { viewers: 0, qualities: {}, bufferingRatio: 0 }, s.window.peak));
        continue;
      }
      const oldest = s.window.oldest;
      const expiring = oldest !== undefined && oldest <= now - this.cfg.windowMs;
      if (!s.dirty && !expiring) continue;
      const stats = s.window.stats(now);
      const changed = stats.viewers !== s.last.viewers || !sameQualities(stats.qualities, s.last.qualities);
      const bufferingMoved =
        Math.abs(stats.bufferingRatio - s.last.bufferingRatio) > 0.001 &&
        now - s.lastEmitAt >= this.cfg.bufferingEmitIntervalMs;
      if (!changed && !bufferingMoved) {
        s.dirty = false;
        if (stats.viewers === 0 && s.window.size === 0) this.streams.delete(streamId);
        continue;
      }
      if (now - s.lastEmitAt < this.cfg.minEmitIntervalMs) continue;
      // Cleared now, not on the ack: a heartbeat applied while the publish is in flight sets it again.
      s.dirty = false;
      out.push(this.event(streamId, now, stats, Math.max(s.window.peak, stats.viewers)));
    }
    return out;
  }

  /** Kafka acknowledged these: they are the new baseline (an ended stream's state goes). */
  published(events: ViewerCountChanged[], now: number): void {
    for (const e of events) {
      const s = this.streams.get(e.streamId);
      if (!s) continue;
      if (this.facts.ended(e.streamId)) {
        this.streams.delete(e.streamId);
        this.zeroed.add(e.streamId);
        continue;
      }
      s.last = { viewers: e.viewers, qualities: e.qualities, bufferingRatio: e.bufferingRatio };
      s.lastEmitAt = now;
    }
  }

  /** The publish failed: these streams are looked at again on the next `due`. */
  unsent(events: ViewerCountChanged[]): void {
    for (const e of events) {
      const s = this.streams.get(e.streamId);
      if (s) s.dirty = true;
    }
  }

  private event(streamId: string, now: number, stats: WindowStats, peak: number): ViewerCountChanged {
    return {
      eventId: this.newId(),
      occurredAt: now,
      streamId,
      viewers: stats.viewers,
      peakViewers: peak,
      qualities: stats.qualities,
      bufferingRatio: Math.round(stats.bufferingRatio * 10_000) / 10_000,
    };
  }
}

function sameQualities(a: Record<string, number>, b: Record<string, number>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}
