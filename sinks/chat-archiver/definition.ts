import type { Cassandra, Row } from '../../platform/cassandra.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { DerivedStore } from '../../platform/store/definition.ts';
import { keyspaceStore } from '../../platform/store/keyspace.ts';
import { TopicSink } from '../../platform/store/topic-sink.ts';
import { ensureChatSchema } from '../../domain/chat/schema.ts';
import type { ArchiverConfig } from './config.ts';
import { planWrites } from './plan.ts';
import { ChatArchiveWriter } from './store.ts';

/**
 * The chat archive, defined once: live.chat.messages -> Cassandra (history, moderation,
 * per-minute stats). The archiver process writes the live keyspace with this writer, and
 * `npm run replay -- chat` rebuilds into a keyspace of its own with the same one; readers switch
 * by CHAT_KEYSPACE.
 *
 * Every write is stamped with its event's time and expiry (plan.ts), so the same events give the
 * same rows live, redelivered or replayed. The time window of a batch is the consumer's fetch
 * wait: rows are written as they arrive, never held back to fill a batch.
 */
export function chatArchive(cfg: ArchiverConfig, deps: { bus: EventBus; db: Cassandra }): DerivedStore {
  const { bus, db } = deps;
  const ttlSeconds = cfg.CHAT_RETENTION_DAYS * 86_400;
  return keyspaceStore({
    name: 'chat',
    bus,
    db,
    topic: 'chatMessages',
    liveGroupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.CHAT_ARCHIVER_GROUP_ID}`,
    live: { keyspace: cfg.CHAT_KEYSPACE, variable: 'CHAT_KEYSPACE', readers: 'the chat gateways and archivers' },
    ...(cfg.CHAT_REPLAY_KEYSPACE && { defaultInto: cfg.CHAT_REPLAY_KEYSPACE }),
    ensureSchema: (keyspace) =>
      ensureChatSchema(db, keyspace, {
        replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
        localDc: cfg.CASSANDRA_LOCAL_DC,
        ttlSeconds,
      }),
    writer(keyspace, opts) {
      // The same writer live and in a rebuild; only how much it takes at once differs (config.ts).
      const pace = opts.live
        ? {
            maxBatch: cfg.CHAT_ARCHIVER_MAX_RECORDS,
            maxRows: cfg.CHAT_ARCHIVER_BATCH_ROWS,
            concurrency: cfg.CHAT_ARCHIVER_CONCURRENCY,
            partitionsConcurrently: cfg.CHAT_ARCHIVER_PARTITIONS_AT_ONCE,
          }
        : {
            maxBatch: cfg.CHAT_REPLAY_MAX_RECORDS,
            maxRows: cfg.CHAT_REPLAY_BATCH_ROWS,
            concurrency: cfg.CHAT_REPLAY_CONCURRENCY,
            partitionsConcurrently: cfg.CHAT_REPLAY_PARTITIONS_AT_ONCE,
          };
      const limits = { maxRows: pace.maxRows, maxBytes: cfg.CHAT_ARCHIVER_BATCH_BYTES, ttlSeconds };
      const writer = new ChatArchiveWriter(db, keyspace, pace.concurrency, { fresh: opts.fresh ?? false });
      return new TopicSink(
        'chat-archiver',
        bus,
        'chatMessages',
        {
          ...opts,
          maxBatch: pace.maxBatch,
          partitionsConcurrently: pace.partitionsConcurrently,
          // The per-minute tallies only know what this process wrote while it held the partitions.
          onAssigned: () => writer.forgetTallies(),
        },
        (records) =>
          writer.apply(
            planWrites(
              records.map((r) => r.event),
              Date.now(),
              limits,
            ),
          ),
      );
    },
    dump: (keyspace) => dumpChatArchive(db, keyspace),
  });
}

/**
 * Every row of a chat keyspace, keyed by table and primary key, with write times where they
 * carry meaning (the archiver stamps writes with event time), so two archives are equal exactly
 * when these maps are.
 */
async function dumpChatArchive(db: Cassandra, ks: string): Promise<Map<string, unknown>> {
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
