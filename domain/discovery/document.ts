import type { StreamStatus } from '../stream/evolve.ts';

/**
 * One stream's document in the discovery index, as stored (`_source`). Two sources write it,
 * each guarding its own fields with the Kafka offset it last applied (one stream's events share
 * one partition per topic, so offsets order them):
 *   - live.stream.lifecycle -> everything but the counts   (guard: lifecycle_offset)
 *   - live.viewer.counts    -> viewer_count, peak_viewer_count (guard: viewers_offset)
 * A document can exist with counts and no lifecycle yet (the topics are consumed independently);
 * its status is then null and every search filters it out.
 *
 * Timestamps are epoch milliseconds. The ES version of the document is `versionOf(doc)`.
 */
export interface StreamDocument {
  stream_id: string;
  status: StreamStatus | null;
  /** Sort key: live 0, ready 1, ended 2, so "live first" is an ascending sort. */
  status_rank: number | null;
  streamer_id: string | null;
  streamer_name: string | null;
  title: string | null;
  category: string | null;
  tags: string[];
  latency_mode: string | null;
  viewer_count: number;
  peak_viewer_count: number;
  created_at: number | null;
  updated_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  /** Offset of the last lifecycle event applied; -1 for none. */
  lifecycle_offset: number;
  /** Offset of the last viewer-count event applied; -1 for none. */
  viewers_offset: number;
}

export const STATUS_RANK: Record<StreamStatus, number> = { live: 0, ready: 1, ended: 2 };

export function emptyDocument(streamId: string): StreamDocument {
  return {
    stream_id: streamId,
    status: null,
    status_rank: null,
    streamer_id: null,
    streamer_name: null,
    title: null,
    category: null,
    tags: [],
    latency_mode: null,
    viewer_count: 0,
    peak_viewer_count: 0,
    created_at: null,
    updated_at: null,
    started_at: null,
    ended_at: null,
    lifecycle_offset: -1,
    viewers_offset: -1,
  };
}

/**
 * The document's external version: the sum of both guards (each +1 so an untouched guard adds 0).
 * Every change advances one guard and never lowers the other, so the version strictly grows with
 * every applied event, whichever source applied it; a write built from a stale read carries a
 * version Elasticsearch already holds or exceeds and is refused with 409.
 */
export function versionOf(doc: StreamDocument): number {
  return doc.lifecycle_offset + 1 + (doc.viewers_offset + 1);
}

/** Whether `stored` already reflects everything `wanted` was built from. */
export function covers(stored: StreamDocument, wanted: StreamDocument): boolean {
  return stored.lifecycle_offset >= wanted.lifecycle_offset && stored.viewers_offset >= wanted.viewers_offset;
}
