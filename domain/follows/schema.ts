import type { Cassandra, Replication } from '../../platform/cassandra.ts';
import { env } from '../../platform/config.ts';

/**
 * The follower graph. The follows sink owns these tables: it is their only writer and the only
 * process that creates them; the API and the notifier read.
 *
 * followers_by_streamer one partition per streamer, followers in id order: the notifier and the
 *                       API page through it with `follower_id > ?`. A million followers is a
 *                       ~40 MB partition, within what Cassandra handles; streamers far beyond
 *                       that would need the partition split by a hash bucket.
 * following_by_user     the same edges the other way round, one partition per follower.
 * follow_counts         absolute follower and following counts, recounted from the two tables
 *                       above after every change (never counters: a counter cannot be redelivered
 *                       or replayed without counting twice).
 *
 * Edge cells are written with the event's Kafka offset as their write time, so whatever order
 * redeliveries land in, the latest event of a pair on the topic decides (see plan.ts).
 */
export function followsTables(ks: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${ks}.followers_by_streamer (
       streamer_id text, follower_id text, followed_at timestamp,
       PRIMARY KEY (streamer_id, follower_id))`,
    `CREATE TABLE IF NOT EXISTS ${ks}.following_by_user (
       user_id text, streamer_id text, followed_at timestamp,
       PRIMARY KEY (user_id, streamer_id))`,
    `CREATE TABLE IF NOT EXISTS ${ks}.follow_counts (
       user_id text PRIMARY KEY, followers bigint, following bigint)`,
  ];
}

export async function ensureFollowsSchema(db: Cassandra, keyspace: string, replication: Replication): Promise<void> {
  await db.ensureKeyspace(keyspace, replication, followsTables(keyspace));
}

/** Where the follower graph lives; the API and the notifier read the same setting. */
export const followsStoreEnv = { FOLLOWS_KEYSPACE: env.keyspace('live_follows') };
