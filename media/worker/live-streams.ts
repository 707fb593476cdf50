import type { LatencyMode, StreamLifecycleEvent, StreamWentLive } from '../../schemas/generated/events.ts';

/**
 * What a media worker needs to know of every stream, folded from live.stream.lifecycle: whether
 * it is live, where its source is, its latency mode, and which partition (so which worker) owns
 * it. Pure.
 */
export interface LiveStream {
  streamId: string;
  partition: number;
  status: 'ready' | 'live' | 'ended';
  latencyMode: LatencyMode;
  /** The latest StreamWentLive: a second one (an ingest takeover) moves the source. */
  source: Omit<StreamWentLive, 'type'> | null;
}

export function applyLifecycle(
  streams: Map<string, LiveStream>,
  event: StreamLifecycleEvent,
  partition: number,
): LiveStream | undefined {
  const p = event.payload;
  const current = streams.get(event.streamId);
  let next: LiveStream | undefined = current;
  switch (p.type) {
    case 'StreamCreated':
      next = current ?? {
        streamId: event.streamId,
        partition,
        status: 'ready',
        latencyMode: p.latencyMode,
        source: null,
      };
      break;
    case 'StreamUpdated':
      break;
    case 'StreamWentLive':
      if (current && current.status !== 'ended') {
        const { type: _t, ...source } = p;
        next = { ...current, status: 'live', source };
      }
      break;
    case 'StreamEnded':
      if (current) next = { ...current, status: 'ended' };
      break;
    default: {
      const _exhaustive: never = p;
      return _exhaustive;
    }
  }
  if (next === undefined) return undefined;
  // Ended streams are never transcoded again: forget them, so the map holds only what can matter.
  if (next.status === 'ended') streams.delete(event.streamId);
  else streams.set(event.streamId, next);
  return next;
}
