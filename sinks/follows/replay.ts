import type { Cassandra, Row } from '../../platform/cassandra.ts';
import { deleteConsumerGroup, waitForGroupToReachEnd, type GroupProgress } from '../../platform/kafka/groups.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import { ensureFollowsSchema } from '../../domain/follows/schema.ts';
import { FollowsSink } from './sink.ts';
import { FollowGraphWriter } from './store.ts';

/**
 * Rebuilds the follower graph from live.user.follows into `keyspace`: the live sink's planner and
 * writer, in a one-off group from the start of the topic, until it has committed the end offsets
 * taken when it caught up. Edge write times are the events' offsets, so the rebuilt edges equal
 * the live ones cell for cell; counts are recounted from them. Point FOLLOWS_KEYSPACE at the new
 * keyspace (API, notifier, sink) to switch.
 */
export interface FollowsRebuildOptions {
  keyspace: string;
  groupPrefix: string;
  maxRecords: number;
  concurrency: number;
  deadlineMs: number;
  replicationFactor: number;
  localDc: string;
  until?: number;
  onProgress?: (p: GroupProgress) => void;
}

export async function rebuildFollowGraph(
  deps: { bus: EventBus; db: Cassandra; log: Logger },
  opts: FollowsRebuildOptions,
): Promise<void> {
  const { bus, db, log } = deps;
  await ensureFollowsSchema(db, opts.keyspace, { replicationFactor: opts.replicationFactor, localDc: opts.localDc });
  const groupId = `${opts.groupPrefix}.rebuild.${opts.keyspace}`;
  log.info({ keyspace: opts.keyspace, groupId }, 'rebuilding the follower graph from the topic');
  const sink = new FollowsSink(bus, new FollowGraphWriter(db, opts.keyspace, opts.concurrency), {
    groupId,
    maxRecords: opts.maxRecords,
    ...(opts.until !== undefined && { until: opts.until }),
  });
  try {
    await sink.start();
    await waitForGroupToReachEnd(bus, groupId, [bus.topicName('userFollows')], {
      deadlineMs: opts.deadlineMs,
      ...(opts.onProgress && { onProgress: opts.onProgress }),
    });
  } finally {
    await sink.stop();
    await deleteConsumerGroup(bus, groupId, log);
  }
}

/** Every row of a follows keyspace, edges with their write times, keyed by table and primary key. */
export async function dumpFollowGraph(db: Cassandra, ks: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  const add = (table: string, rows: Row[], key: (r: Row) => string): void => {
    for (const r of rows) out.set(`${table}/${key(r)}`, r);
  };
  add(
    'followers_by_streamer',
    await db.scan(
      'dump followers',
      `SELECT streamer_id, follower_id, followed_at, WRITETIME(followed_at) AS at FROM ${ks}.followers_by_streamer`,
    ),
    (r) => `${String(r.streamer_id)}/${String(r.follower_id)}`,
  );
  add(
    'following_by_user',
    await db.scan(
      'dump following',
      `SELECT user_id, streamer_id, followed_at, WRITETIME(followed_at) AS at FROM ${ks}.following_by_user`,
    ),
    (r) => `${String(r.user_id)}/${String(r.streamer_id)}`,
  );
  // Counts are compared by value: their write time is when they were counted.
  add(
    'follow_counts',
    await db.scan('dump counts', `SELECT user_id, followers, following FROM ${ks}.follow_counts`),
    (r) => String(r.user_id),
  );
  return out;
}
