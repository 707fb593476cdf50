import type { LatencyMode, StreamLifecycleEvent, ViewerCountChanged } from '../../schemas/generated/events.ts';
import { STATUS_RANK, emptyDocument, type StreamDocument } from '../../domain/discovery/document.ts';
import { evolve, type StreamRecord } from '../../domain/stream/evolve.ts';

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

/**
 * Pure: a round's changes folded, in order, onto the documents they start from (`base`: what is
 * stored, or nothing for a stream not written yet); returns only the documents that changed. A
 * stream gets one document however many changes of either source, topic or chunk the round
 * holds, and the result is the same in any interleaving of the two sources (each guards its own
 * fields), so a round may mix partitions and topics freely.
 */
export function fold(
  base: ReadonlyMap<string, StreamDocument>,
  changes: readonly IndexedChange[],
): Map<string, StreamDocument> {
  const next = new Map<string, StreamDocument>();
  for (const c of changes) {
    const id = c.event.streamId;
    next.set(id, project(next.get(id) ?? base.get(id), c));
  }
  for (const [id, doc] of next) if (doc === base.get(id)) next.delete(id);
  return next;
}

/**
 * The registry's own fold (domain/stream/evolve.ts) on the document's fields, so search never
 * disagrees with the registry about a stream. The document keeps only what search needs: read
 * back as a record, the rest are placeholders, which evolve carries along and never reads.
 */
function applyLifecycle(doc: StreamDocument, event: StreamLifecycleEvent): StreamDocument {
  const before = recordOf(doc);
  const after = evolve(before, event);
  if (after === undefined || after === before) return doc;
  return {
    ...doc,
    status: after.status,
    status_rank: STATUS_RANK[after.status],
    streamer_id: after.streamerId,
    streamer_name: after.streamerName,
    title: after.title,
    category: after.category,
    tags: after.tags,
    latency_mode: after.latencyMode,
    created_at: after.createdAt,
    updated_at: after.updatedAt,
    started_at: after.startedAt,
    ended_at: after.endedAt,
  };
}

/** The document as a registry record; undefined until its StreamCreated (status null). */
function recordOf(doc: StreamDocument): StreamRecord | undefined {
  if (doc.status === null) return undefined;
  return {
    streamId: doc.stream_id,
    status: doc.status,
    streamerId: doc.streamer_id ?? '',
    streamerName: doc.streamer_name ?? '',
    title: doc.title ?? '',
    category: doc.category ?? '',
    tags: doc.tags,
    latencyMode: doc.latency_mode as LatencyMode,
    recordingEnabled: false,
    chatEnabled: false,
    streamKeyHash: '',
    createdAt: doc.created_at ?? 0,
    updatedAt: doc.updated_at ?? 0,
    startedAt: doc.started_at,
    endedAt: doc.ended_at,
  };
}
