import type { StreamLifecycleEvent, ViewerCountChanged } from '../../schemas/generated/events.ts';
import { evolve, type StreamRecord } from './evolve.ts';
import { AppliedWaiters } from '../../platform/applied-waiters.ts';

/**
 * The stream registry: the streams this instance has seen on live.stream.lifecycle, by id and by
 * stream-key hash (for RTMP ingest), plus the latest viewer count per stream from the compacted
 * live.viewer.counts. In memory, rebuilt from the topics at every start; no I/O here.
 *
 * Memory is bounded by what is open, not by history:
 *   - streams not yet ended (ready, live) are always held in full: once caught up, a stream that
 *     is not here is ended or was never created;
 *   - ended streams are held in a least-recently-used cache of `endedCacheSize` (default 10,000);
 *     an ended stream leaves memory only once that many others ended (or were read) after it,
 *     so whoever reacts to an end (ingest cutting a publisher, a gateway closing its sockets)
 *     sees `ended` long before. Past that, `get` and `byStreamKeyHash` answer undefined: ingest
 *     refuses the key as unknown, and the API reads the stream back from the discovery index
 *     (gateways/api/archive.ts), which keeps every stream's document;
 *   - per streamer, only the latest name and the open streams (who is a known streamer, who is
 *     live): memory grows with people, not with how many streams they start and end;
 *   - viewer counts live with their stream, and leave with it. A count can arrive before its
 *     stream (the two topics are read independently): one above zero waits whatever its size
 *     (someone is watching, so the stream is live), a zero (an ended stream's last) waits in a
 *     cache of the same size as the ended streams'.
 *
 * Offsets guard against redelivery: one stream's events share a partition, so an offset at or
 * below the last one applied for that stream was applied already. That memory leaves with the
 * stream: a redelivered StreamCreated of a stream that has left memory would bring it back as
 * `ready`, but its StreamEnded follows it in the same partition and is redelivered with it, so
 * the stream ends again in the same pass (only a hand-redriven StreamCreated, after its stream
 * ended and left, would stay; `npm run dlq -- redrive` is an operator's deliberate act).
 */
export const DEFAULT_ENDED_CACHE_SIZE = 10_000;

export interface StreamRegistryOptions {
  /** Ended streams kept in memory, least recently used leaving first. */
  endedCacheSize?: number;
}

interface Entry {
  record: StreamRecord;
  /** The last lifecycle offset applied to this stream. */
  offset: number;
  viewers: Viewers | undefined;
}

interface Viewers {
  count: ViewerCountChanged;
  offset: number;
}

interface Streamer {
  /** The name on the latest stream this streamer created. */
  name: string;
  /** Ready and live streams, in creation order. */
  open: Set<string>;
  /** Their ended streams this instance still holds (the ended cache's share), in order of ending. */
  ended: Set<string>;
}

export class StreamRegistry {
  private readonly endedCacheSize: number;
  /** Ready and live streams: every one, always. */
  private readonly open = new Map<string, Entry>();
  /** Ended streams, least recently used first (a Map keeps insertion order; a use re-inserts). */
  private readonly ended = new Map<string, Entry>();
  private readonly byKeyHash = new Map<string, string>();
  private readonly streamers = new Map<string, Streamer>();
  /** Counts above zero for streams not held here (yet). */
  private readonly watchedStrays = new Map<string, Viewers>();
  /** Zero counts for streams not held here, least recently used first. */
  private readonly idleStrays = new Map<string, Viewers>();
  private readonly waiters = new AppliedWaiters();

  constructor(opts: StreamRegistryOptions = {}) {
    this.endedCacheSize = opts.endedCacheSize ?? DEFAULT_ENDED_CACHE_SIZE;
    if (!Number.isInteger(this.endedCacheSize) || this.endedCacheSize < 0)
      throw new Error(`endedCacheSize must be a whole number, not ${this.endedCacheSize}`);
  }

  get(streamId: string): StreamRecord | undefined {
    return this.entry(streamId, true)?.record;
  }

  byStreamKeyHash(hash: string): StreamRecord | undefined {
    const id = this.byKeyHash.get(hash);
    return id === undefined ? undefined : this.get(id);
  }

  viewerCount(streamId: string): number {
    return this.viewerStats(streamId)?.viewers ?? 0;
  }

  /** The latest ViewerCountChanged of a stream (current, peak, per quality, buffering), if any. */
  viewerStats(streamId: string): ViewerCountChanged | undefined {
    return this.viewersOf(streamId)?.count;
  }

  /** A streamer's ready and live streams, in creation order: how many they hold open, and who is live. */
  openStreamsOf(streamerId: string): StreamRecord[] {
    return [...(this.streamers.get(streamerId)?.open ?? [])].map((id) => this.open.get(id)!.record);
  }

  /**
   * A streamer's ended streams still held in memory (see the ended cache above), in order of
   * ending; the video library's source. Reading them does not keep them in the cache longer.
   */
  endedStreamsOf(streamerId: string): StreamRecord[] {
    return [...(this.streamers.get(streamerId)?.ended ?? [])].flatMap((id) => this.ended.get(id)?.record ?? []);
  }

  /** The name on the latest stream a user created; undefined for someone who never created one. */
  streamerName(streamerId: string): string | undefined {
    return this.streamers.get(streamerId)?.name;
  }

  /** Streams held in memory: every one not yet ended, and the cached ended ones. */
  get size(): number {
    return this.open.size + this.ended.size;
  }

  /** Ended streams held in memory (at most `endedCacheSize`). */
  get endedInMemory(): number {
    return this.ended.size;
  }

  applyLifecycle(event: StreamLifecycleEvent, offset: number): void {
    const entry = this.entry(event.streamId, false);
    if (!entry || offset > entry.offset) {
      const next = evolve(entry?.record, event);
      if (next) this.put(entry, next, offset);
    }
    this.waiters.applied(event.eventId);
  }

  applyViewers(event: ViewerCountChanged, offset: number): void {
    const id = event.streamId;
    if (offset <= (this.viewersOf(id)?.offset ?? -1)) return;
    const viewers = { count: event, offset };
    const e = this.entry(id, false);
    if (e) {
      e.viewers = viewers;
      return;
    }
    this.takeStray(id);
    if (event.viewers > 0) this.watchedStrays.set(id, viewers);
    else {
      this.idleStrays.set(id, viewers);
      this.trim(this.idleStrays, () => undefined);
    }
  }

  /**
   * Read-your-writes: resolves true once this instance has applied the event, false if it has
   * not within `timeoutMs`. Call it before publishing, so an event applied before the publish
   * call returns is not missed.
   */
  whenApplied(eventId: string, timeoutMs: number): Promise<boolean> {
    return this.waiters.whenApplied(eventId, timeoutMs);
  }

  private viewersOf(streamId: string): Viewers | undefined {
    const e = this.entry(streamId, false);
    return e ? e.viewers : (this.watchedStrays.get(streamId) ?? this.idleStrays.get(streamId));
  }

  private takeStray(streamId: string): Viewers | undefined {
    const v = this.watchedStrays.get(streamId) ?? this.idleStrays.get(streamId);
    this.watchedStrays.delete(streamId);
    this.idleStrays.delete(streamId);
    return v;
  }

  /** `use`: a read that keeps an ended stream in the cache longer. */
  private entry(streamId: string, use: boolean): Entry | undefined {
    const open = this.open.get(streamId);
    if (open) return open;
    const ended = this.ended.get(streamId);
    if (ended && use) {
      this.ended.delete(streamId);
      this.ended.set(streamId, ended);
    }
    return ended;
  }

  private put(entry: Entry | undefined, record: StreamRecord, offset: number): void {
    const id = record.streamId;
    if (!entry) {
      entry = { record, offset, viewers: this.takeStray(id) };
      this.byKeyHash.set(record.streamKeyHash, id);
      const streamer = this.streamers.get(record.streamerId);
      if (streamer) streamer.name = record.streamerName;
      else this.streamers.set(record.streamerId, { name: record.streamerName, open: new Set(), ended: new Set() });
    }
    entry.record = record;
    entry.offset = offset;
    const streamer = this.streamers.get(record.streamerId);
    const open = streamer?.open;
    if (record.status === 'ended') {
      this.open.delete(id);
      open?.delete(id);
      streamer?.ended.add(id);
      this.ended.delete(id);
      this.ended.set(id, entry);
      this.trim(this.ended, (gone) => {
        if (this.byKeyHash.get(gone.record.streamKeyHash) === gone.record.streamId)
          this.byKeyHash.delete(gone.record.streamKeyHash);
        this.streamers.get(gone.record.streamerId)?.ended.delete(gone.record.streamId);
      });
    } else {
      this.open.set(id, entry);
      open?.add(id);
    }
  }

  /** Drops the least recently used entries beyond the cache size. */
  private trim<V>(cache: Map<string, V>, onDrop: (v: V) => void): void {
    while (cache.size > this.endedCacheSize) {
      const [id, v] = cache.entries().next().value as [string, V];
      cache.delete(id);
      onDrop(v);
    }
  }
}
