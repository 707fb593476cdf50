import type { StreamLifecycleEvent, ViewerCountChanged } from '../../schemas/generated/events.ts';
import { evolve, type StreamRecord } from './evolve.ts';

/**
 * The stream registry: every stream this instance has seen on live.stream.lifecycle, by id and
 * by stream-key hash (for RTMP ingest), plus the latest viewer count per stream from the
 * compacted live.viewer.counts. In memory, rebuilt from the topics at every start; no I/O here.
 *
 * Offsets guard against redelivery: one stream's events share a partition, so an offset at or
 * below the last one applied for that stream was applied already.
 */
export class StreamRegistry {
  private readonly streams = new Map<string, StreamRecord>();
  private readonly byKeyHash = new Map<string, string>();
  private readonly viewers = new Map<string, { count: ViewerCountChanged; offset: number }>();
  private readonly waiters = new Map<string, () => void>();
  private readonly lifecycleOffsets = new Map<string, number>();
  private readonly byStreamer = new Map<string, Set<string>>();

  get(streamId: string): StreamRecord | undefined {
    return this.streams.get(streamId);
  }

  byStreamKeyHash(hash: string): StreamRecord | undefined {
    const id = this.byKeyHash.get(hash);
    return id === undefined ? undefined : this.get(id);
  }

  viewerCount(streamId: string): number {
    return this.viewers.get(streamId)?.count.viewers ?? 0;
  }

  /** The latest ViewerCountChanged of a stream (current, peak, per quality, buffering), if any. */
  viewerStats(streamId: string): ViewerCountChanged | undefined {
    return this.viewers.get(streamId)?.count;
  }

  /** Every stream a user has created, in creation order: who is a known streamer, and who is live. */
  streamsOf(streamerId: string): StreamRecord[] {
    return [...(this.byStreamer.get(streamerId) ?? [])].map((id) => this.streams.get(id)!);
  }

  get size(): number {
    return this.streams.size;
  }

  applyLifecycle(event: StreamLifecycleEvent, offset: number): void {
    const last = this.lifecycleOffsets.get(event.streamId) ?? -1;
    if (offset > last) {
      this.lifecycleOffsets.set(event.streamId, offset);
      const next = evolve(this.get(event.streamId), event);
      if (next) {
        this.streams.set(event.streamId, next);
        this.byKeyHash.set(next.streamKeyHash, next.streamId);
        const own = this.byStreamer.get(next.streamerId) ?? new Set<string>();
        this.byStreamer.set(next.streamerId, own.add(next.streamId));
      }
    }
    this.waiters.get(event.eventId)?.();
  }

  applyViewers(event: ViewerCountChanged, offset: number): void {
    const last = this.viewers.get(event.streamId)?.offset ?? -1;
    if (offset > last) this.viewers.set(event.streamId, { count: event, offset });
  }

  /**
   * Read-your-writes: resolves true once this instance has applied the event, false if it has
   * not within `timeoutMs`. Call it before publishing, so an event applied before the publish
   * call returns is not missed.
   */
  whenApplied(eventId: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(false), timeoutMs);
      const settle = (applied: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(eventId);
        resolve(applied);
      };
      this.waiters.set(eventId, () => settle(true));
    });
  }
}
