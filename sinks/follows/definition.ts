import type { Cassandra, Row } from '../../platform/cassandra.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { DerivedStore } from '../../platform/store/definition.ts';
import { keyspaceStore } from '../../platform/store/keyspace.ts';
import { TopicSink } from '../../platform/store/topic-sink.ts';
import { ensureFollowsSchema } from '../../domain/follows/schema.ts';
import type { FollowsSinkConfig } from './config.ts';
import { planEdges } from './plan.ts';
import { FollowGraphWriter } from './store.ts';

/**
 * The follower graph, defined once: live.user.follows -> Cassandra. Each chunk is planned (pure)
 * and written (idempotent, latest per pair wins by offset) before its offset is committed. Edge
 * write times are the events' offsets, so a rebuild (`npm run replay -- follows`, into a keyspace
 * of its own) equals the live graph cell for cell; counts are recounted from the edges. Readers
 * (API, notifier, sink) switch by FOLLOWS_KEYSPACE.
 */
export function followGraph(cfg: FollowsSinkConfig, deps: { bus: EventBus; db: Cassandra }): DerivedStore {
  const { bus, db } = deps;
  return keyspaceStore({
    name: 'follows',
    bus,
    db,
    topic: 'userFollows',
    liveGroupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.FOLLOWS_SINK_GROUP_ID}`,
    live: {
      keyspace: cfg.FOLLOWS_KEYSPACE,
      variable: 'FOLLOWS_KEYSPACE',
      readers: 'the API, notifier and follows sink',
    },
    ensureSchema: (keyspace) =>
      ensureFollowsSchema(db, keyspace, {
        replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
        localDc: cfg.CASSANDRA_LOCAL_DC,
      }),
    writer(keyspace, opts) {
      const writer = new FollowGraphWriter(db, keyspace, cfg.FOLLOWS_SINK_CONCURRENCY);
      return new TopicSink(
        'follows-sink',
        bus,
        'userFollows',
        { ...opts, maxBatch: opts.live ? cfg.FOLLOWS_SINK_MAX_RECORDS : cfg.FOLLOWS_REPLAY_MAX_RECORDS },
        async (records) => {
          const { edges, users } = planEdges(records);
          await writer.apply(edges, users);
        },
      );
    },
    dump: (keyspace) => dumpFollowGraph(db, keyspace),
  });
}

/** Every row of a follows keyspace, edges with their write times, keyed by table and primary key. */
async function dumpFollowGraph(db: Cassandra, ks: string): Promise<Map<string, unknown>> {
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
