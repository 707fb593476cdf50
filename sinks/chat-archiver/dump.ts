import type { Cassandra, Row } from '../../platform/cassandra.ts';

/**
 * Every row of a chat keyspace, keyed by table and primary key, with write times where they
 * carry meaning (the archiver stamps writes with event time), so two archives are equal exactly
 * when these maps are.
 */
export async function dumpChatArchive(db: Cassandra, ks: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  const add = (table: string, rows: Row[], key: (r: Row) => string): void => {
    for (const r of rows) out.set(`${table}/${key(r)}`, r);
  };
  add(
    'chat_messages',
    await db.scan(
      'dump chat_messages',
      `SELECT stream_id, bucket, message_id, user_id, username, badges, content, color, deleted_by,
         WRITETIME(user_id) AS at FROM ${ks}.chat_messages`,
    ),
    (r) => `${String(r.stream_id)}/${String(r.message_id)}`,
  );
  add(
    'chat_buckets',
    await db.scan('dump chat_buckets', `SELECT stream_id, bucket FROM ${ks}.chat_buckets`),
    (r) => `${String(r.stream_id)}/${String(r.bucket)}`,
  );
  add(
    'chat_moderation',
    await db.scan(
      'dump chat_moderation',
      `SELECT stream_id, user_id, banned, WRITETIME(banned) AS banned_at, moderator, WRITETIME(moderator) AS moderator_at,
         timeout_until, WRITETIME(timeout_until) AS timeout_at FROM ${ks}.chat_moderation`,
    ),
    (r) => `${String(r.stream_id)}/${String(r.user_id)}`,
  );
  add(
    'chat_stats_by_minute',
    await db.scan(
      'dump chat_stats_by_minute',
      `SELECT stream_id, day, minute, messages, chatters FROM ${ks}.chat_stats_by_minute`,
    ),
    (r) => `${String(r.stream_id)}/${(r.minute as Date).toISOString()}`,
  );
  return out;
}
