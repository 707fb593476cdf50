import type { StreamLifecycleEvent, ViewerCountChanged } from '../../schemas/generated/events.ts';
import { STATUS_RANK, emptyDocument, type StreamDocument } from '../../domain/discovery/document.ts';

/** An event as the indexer applies it: what it is, and where it sits in its topic. */
export type IndexedChange =
  | { source: 'lifecycle'; offset: number; event: StreamLifecycleEvent }
  | { source: 'viewers'; offset: number; event: ViewerCountChanged };

/**
 * Pure: the document after `change`. A change at or before the source's guard was applied
 * already (a redelivery) and returns `doc` itself, so callers skip the write by identity.
 */
export function project(doc: StreamDocument | undefined, change: IndexedChange): StreamDocument {
  const current = doc ?? emptyDocument(change.event.streamId);
  switch (change.source) {
    case 'lifecycle':
      if (change.offset <= current.lifecycle_offset) return current;
      return { ...applyLifecycle(current, change.event), lifecycle_offset: change.offset };
    case 'viewers':
      if (change.offset <= current.viewers_offset) return current;
      return {
        ...current,
        viewer_count: change.event.viewers,
        peak_viewer_count: change.event.peakViewers,
        viewers_offset: change.offset,
      };
    default: {
      const _exhaustive: never = change;
      return _exhaustive;
    }
  }
}

/** Same transitions as the stream registry (ready -> live -> ended, ended is final), on the document's fields. */
function applyLifecycle(doc: StreamDocument, event: StreamLifecycleEvent): StreamDocument {
  const p = event.payload;
  switch (p.type) {
    case 'StreamCreated':
      if (doc.status !== null) return doc;
      return {
        ...doc,
        status: 'ready',
        status_rank: STATUS_RANK.ready,
        streamer_id: p.streamerId,
        streamer_name: p.streamerName,
        title: p.title,
        category: p.category,
        tags: p.tags,
        latency_mode: p.latencyMode,
        created_at: event.occurredAt,
        updated_at: event.occurredAt,
      };
    case 'StreamUpdated':
      if (doc.status === null) return doc;
      return {
        ...doc,
        title: p.title ?? doc.title,
        category: p.category ?? doc.category,
        tags: p.tags ?? doc.tags,
        updated_at: event.occurredAt,
      };
    case 'StreamWentLive':
      if (doc.status !== 'ready') return doc;
      return {
        ...doc,
        status: 'live',
        status_rank: STATUS_RANK.live,
        started_at: p.startedAt,
        updated_at: event.occurredAt,
      };
    case 'StreamEnded':
      if (doc.status === null || doc.status === 'ended') return doc;
      return {
        ...doc,
        status: 'ended',
        status_rank: STATUS_RANK.ended,
        ended_at: event.occurredAt,
        updated_at: event.occurredAt,
      };
    default: {
      const _exhaustive: never = p;
      return _exhaustive;
    }
  }
}
