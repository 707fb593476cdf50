import type { Cassandra, Replication } from '../../platform/cassandra.ts';
import { env } from '../../platform/config.ts';

/**
 * The chat archive's tables. The archiver owns them: it is the only writer and the only process
 * that changes the schema (concurrent CREATEs from many processes can leave a cluster with
 * disagreeing table ids); gateways only read.
 *
 * chat_messages   one partition per stream per hour (`bucket` = epoch hours), so even a stream
 *                 chatting at 20 msg/s for a day never makes a partition past ~25 MB; newest
 *                 first; rows keyed by message id (a time-based UUID), so replays and
 *                 redeliveries overwrite rather than add. Time-window compaction in day windows
 *                 (~30 windows over the TTL): whole SSTables expire together. Badges are a frozen
 *                 list, so writing a row does not first write a tombstone for the old list.
 *                 A deleted message keeps its row (sender and time still count in the stats) with
 *                 its content removed and `deleted_by` set.
 * chat_buckets    which hour buckets of a stream hold messages, newest first: paging back
 *                 through a quiet stream reads the buckets that exist, not every hour.
 * chat_moderation a stream's bans, timeouts and moderators; each cell's write time is its event's
 *                 time, so events applied in any order end in the same state (gateways merge it
 *                 with what they fold from the topic the same way). No TTL: a ban outlives chat.
 * chat_stats_by_minute messages and distinct chatters per stream per minute, partitioned by
 *                 stream and day (1,440 rows at most), written as absolute values recomputed from
 *                 chat_messages, never as counters (a counter cannot be replayed or redelivered
 *                 without counting twice).
 */
export function chatTables(ks: string, ttlSeconds: number): string[] {
  const twcs = `compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}`;
  return [
    `CREATE TABLE IF NOT EXISTS ${ks}.chat_messages (
       stream_id text, bucket int, message_id timeuuid,
       user_id text, username text, badges frozen<list<text>>, content text, color text, deleted_by text,
       PRIMARY KEY ((stream_id, bucket), message_id)
     ) WITH CLUSTERING ORDER BY (message_id DESC)
       AND default_time_to_live = ${ttlSeconds}
       AND ${twcs}`,
    `CREATE TABLE IF NOT EXISTS ${ks}.chat_buckets (
       stream_id text, bucket int,
       PRIMARY KEY (stream_id, bucket)
     ) WITH CLUSTERING ORDER BY (bucket DESC)
       AND default_time_to_live = ${ttlSeconds}`,
    `CREATE TABLE IF NOT EXISTS ${ks}.chat_moderation (
       stream_id text, user_id text, banned boolean, timeout_until timestamp, moderator boolean,
       PRIMARY KEY (stream_id, user_id)
     )`,
    `CREATE TABLE IF NOT EXISTS ${ks}.chat_stats_by_minute (
       stream_id text, day int, minute timestamp, messages int, chatters int,
       PRIMARY KEY ((stream_id, day), minute)
     ) WITH CLUSTERING ORDER BY (minute DESC)
       AND default_time_to_live = ${ttlSeconds}
       AND ${twcs}`,
  ];
}

export async function ensureChatSchema(
  db: Cassandra,
  keyspace: string,
  opts: Replication & { ttlSeconds: number },
): Promise<void> {
  await db.ensureKeyspace(keyspace, opts, chatTables(keyspace, opts.ttlSeconds));
}

/** Where the chat archive lives and how long it keeps messages; the gateway reads the same settings. */
export const chatStoreEnv = {
  CHAT_KEYSPACE: env.keyspace('live_chat'),
  CHAT_RETENTION_DAYS: env.int(30, 1),
};

/** Per-minute stats are partitioned by stream and day: a day since the epoch (UTC). */
export const dayOf = (ms: number): number => Math.floor(ms / 86_400_000);

/** Messages are partitioned by stream and hour: a bucket is an hour since the epoch. */
export const BUCKET_MS = 3_600_000;
export const bucketOf = (ms: number): number => Math.floor(ms / BUCKET_MS);
