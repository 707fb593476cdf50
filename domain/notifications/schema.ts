import type { Cassandra, Replication } from '../../platform/cassandra.ts';
import { env } from '../../platform/config.ts';

/**
 * Notifications per user. The notifications sink owns the table (its only creator, and the only
 * writer of notifications); the API reads it and sets the read flag.
 *
 * notifications_by_user one partition per recipient, newest first (the id is a timeuuid of the
 *                       go-live time), expiring 30 days after the go-live (per-row TTL counted
 *                       from the notification, so a replay expires rows when the live sink's
 *                       would). `read` is written only by the API's mark-read, never by the sink,
 *                       so a redelivered notification never makes a read one unread again. A
 *                       mark-read is user state, not derived from the topic: a rebuild from
 *                       the topic brings every notification back unread.
 */
export function notificationsTables(keyspace: string, ttlSeconds: number): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${keyspace}.notifications_by_user (
       user_id text, notification_id timeuuid,
       kind text, stream_id text, streamer_id text, streamer_name text, title text, read boolean,
       PRIMARY KEY (user_id, notification_id)
     ) WITH CLUSTERING ORDER BY (notification_id DESC)
       AND default_time_to_live = ${ttlSeconds}`,
  ];
}

export async function ensureNotificationsSchema(
  db: Cassandra,
  keyspace: string,
  opts: Replication & { ttlSeconds: number },
): Promise<void> {
  await db.ensureKeyspace(keyspace, opts, notificationsTables(keyspace, opts.ttlSeconds));
}

/** Where notifications live and for how long; the API reads the same settings. */
export const notificationsStoreEnv = {
  NOTIFICATIONS_KEYSPACE: env.keyspace('live_notifications'),
  NOTIFICATIONS_RETENTION_DAYS: env.int(30, 1),
};
