import type { StreamLifecycleEvent, StreamWentLive } from '../../schemas/generated/events.ts';
import { evolve, type StreamRecord } from '../../domain/stream/evolve.ts';

/**
 * What a media worker needs to know of every stream, folded from live.stream.lifecycle: the
 * registry's record (whether it is live, its latency mode), where its source is, and which
 * partition (so which worker) owns it. Pure.
 */
export interface LiveStream extends StreamRecord {
  /** The lifecycle partition of its StreamCreated: the worker that owns it transcodes the stream. */
  partition: number;
  /** The latest StreamWentLive: a second one (an ingest takeover) moves the source. */
  source: Omit<StreamWentLive, 'type'> | null;
}

export function applyLifecycle(
  streams: Map<string, LiveStream>,
  event: StreamLifecycleEvent,
  partition: number,
): LiveStream | undefined {
  const current = streams.get(event.streamId);
  const record = evolve(current, event);
  if (record === undefined) return undefined;
  const p = event.payload;
  let source = current?.source ?? null;
  // The registry keeps a broadcast's first StreamWentLive; a later one says where it comes from now.
  if (p.type === 'StreamWentLive' && record.status === 'live') {
    const { type: _t, ...moved } = p;
    source = moved;
  }
  const next: LiveStream = { ...record, partition: current?.partition ?? partition, source };
  // Ended streams are never transcoded again: forget them, so the map holds only what can matter.
  if (next.status === 'ended') streams.delete(event.streamId);
  else streams.set(event.streamId, next);
  return next;
}
