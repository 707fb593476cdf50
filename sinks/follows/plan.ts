import type { FollowEvent } from '../../schemas/generated/events.ts';

/**
 * The follows sink's pure core: a chunk of follow events in, the edge writes they mean out.
 *
 * Latest wins per (streamer, follower), whatever the redelivery: every write carries the event's
 * Kafka offset as its Cassandra write time (`USING TIMESTAMP`). One streamer's events share a
 * partition (the key is the streamer id), so their offsets are the topic's own order; an old
 * Followed redelivered after a newer Unfollowed carries a smaller write time and loses to the
 * tombstone, and the reverse. A replay writes the same cells with the same write times, so the
 * rebuilt tables equal the live ones. (The broker's time or occurredAt would not do: two API
 * instances' clocks can disagree, and only the topic order is the truth.) The catch: changing the
 * topic's partition count restarts offsets for a streamer, so it needs a rebuild of these tables.
 *
 * Within a chunk only the last event per pair is written: the earlier ones would lose anyway.
 */
export interface EdgeWrite {
  kind: 'follow' | 'unfollow';
  streamerId: string;
  followerId: string;
  /** Epoch ms of the event, shown as `followed_at`. */
  at: number;
  /** Cassandra write time: the record's offset (the first one, for a re-driven record). */
  writeTime: number;
}

export interface FollowRecord {
  event: FollowEvent;
  /** ConsumedEvent.version. */
  version: string;
}

export function planEdges(records: FollowRecord[]): { edges: EdgeWrite[]; users: string[] } {
  const latest = new Map<string, EdgeWrite>();
  for (const { event, version } of records) {
    const p = event.payload;
    let kind: EdgeWrite['kind'];
    switch (p.type) {
      case 'Followed':
        kind = 'follow';
        break;
      case 'Unfollowed':
        kind = 'unfollow';
        break;
      default: {
        const _exhaustive: never = p;
        return _exhaustive;
      }
    }
    const write: EdgeWrite = {
      kind,
      streamerId: event.streamerId,
      followerId: p.followerId,
      at: event.occurredAt,
      writeTime: Number(version),
    };
    const key = `${write.streamerId}\u0000${write.followerId}`;
    const prev = latest.get(key);
    if (!prev || prev.writeTime < write.writeTime) latest.set(key, write);
  }
  const edges = [...latest.values()];
  const users = new Set<string>();
  for (const e of edges) users.add(e.streamerId).add(e.followerId);
  return { edges, users: [...users] };
}
