import type { StreamCreated, StreamLifecycleEvent } from '../../schemas/generated/events.ts';

/**
 * The stream registry's state for one stream, folded from live.stream.lifecycle alone.
 * `ready` (created, no media yet) -> `live` (ingest got media) -> `ended`; `ready` may also end
 * directly. An ended stream never changes status again.
 */
export type StreamStatus = 'ready' | 'live' | 'ended';

/** What the stream was created with (kept current by StreamUpdated), plus its lifecycle. */
export interface StreamRecord extends StreamCreated {
  streamId: string;
  status: StreamStatus;
  /** Epoch ms of StreamCreated. */
  createdAt: number;
  /** Epoch ms of the last event that changed the record. */
  updatedAt: number;
  /** Set by StreamWentLive: when the first media arrived. */
  startedAt: number | null;
  endedAt: number | null;
}

/**
 * Pure fold. Events that cannot apply (anything before StreamCreated, a second StreamCreated,
 * going live after the end) leave the state as it is: the topic is the truth, and a projection
 * that refused them would diverge from every other projection of the same topic.
 */
export function evolve(state: StreamRecord | undefined, event: StreamLifecycleEvent): StreamRecord | undefined {
  const p = event.payload;
  switch (p.type) {
    case 'StreamCreated':
      return (
        state ?? {
          streamId: event.streamId,
          streamerId: p.streamerId,
          streamerName: p.streamerName,
          title: p.title,
          category: p.category,
          tags: p.tags,
          latencyMode: p.latencyMode,
          recordingEnabled: p.recordingEnabled,
          chatEnabled: p.chatEnabled,
          streamKeyHash: p.streamKeyHash,
          status: 'ready',
          createdAt: event.occurredAt,
          updatedAt: event.occurredAt,
          startedAt: null,
          endedAt: null,
        }
      );
    case 'StreamUpdated':
      if (!state) return state;
      return {
        ...state,
        title: p.title ?? state.title,
        category: p.category ?? state.category,
        tags: p.tags ?? state.tags,
        updatedAt: event.occurredAt,
      };
    case 'StreamWentLive':
      if (state?.status !== 'ready') return state;
      return { ...state, status: 'live', startedAt: p.startedAt, updatedAt: event.occurredAt };
    case 'StreamEnded':
      if (!state || state.status === 'ended') return state;
      return { ...state, status: 'ended', endedAt: event.occurredAt, updatedAt: event.occurredAt };
    default: {
      const _exhaustive: never = p;
      return _exhaustive;
    }
  }
}
