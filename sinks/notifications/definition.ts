import type { Cassandra } from '../../platform/cassandra.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { DerivedStore } from '../../platform/store/definition.ts';
import { keyspaceStore } from '../../platform/store/keyspace.ts';
import { TopicSink } from '../../platform/store/topic-sink.ts';
import { ensureNotificationsSchema } from '../../domain/notifications/schema.ts';
import type { NotificationsSinkConfig } from './config.ts';
import { planNotifications } from './plan.ts';
import { NotificationWriter } from './store.ts';

/**
 * Users' notifications, defined once: live.notifications -> notifications_by_user, at least once,
 * idempotent by (recipient, notification id), rows stamped with event time and a TTL counted
 * from the notification. Offsets are committed every NOTIFICATIONS_SINK_COMMIT_MS, so the group's
 * committed lag (what the notifier paces large fan-outs by) is never far behind.
 *
 * A rebuild (`npm run replay -- notifications`) goes into a keyspace of its own; readers switch
 * by NOTIFICATIONS_KEYSPACE. Read flags are user state the topic does not hold: rebuilt
 * notifications are unread, and stores are compared without them.
 */
export function notificationsStore(cfg: NotificationsSinkConfig, deps: { bus: EventBus; db: Cassandra }): DerivedStore {
  const { bus, db } = deps;
  const ttlSeconds = cfg.NOTIFICATIONS_RETENTION_DAYS * 86_400;
  return keyspaceStore({
    name: 'notifications',
    bus,
    db,
    topic: 'notifications',
    liveGroupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.NOTIFICATIONS_SINK_GROUP_ID}`,
    live: {
      keyspace: cfg.NOTIFICATIONS_KEYSPACE,
      variable: 'NOTIFICATIONS_KEYSPACE',
      readers: 'the API and notifications sink',
    },
    switchNote: '(read flags start over)',
    ensureSchema: (keyspace) =>
      ensureNotificationsSchema(db, keyspace, {
        replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
        localDc: cfg.CASSANDRA_LOCAL_DC,
        ttlSeconds,
      }),
    writer(keyspace, opts) {
      const writer = new NotificationWriter(db, keyspace, cfg.NOTIFICATIONS_SINK_CONCURRENCY, {
        maxPartitions: cfg.NOTIFICATIONS_SINK_BATCH_PARTITIONS,
        maxBytes: cfg.NOTIFICATIONS_SINK_BATCH_BYTES,
      });
      return new TopicSink(
        'notifications-sink',
        bus,
        'notifications',
        {
          ...opts,
          maxBatch: cfg.NOTIFICATIONS_SINK_MAX_RECORDS,
          commitIntervalMs: cfg.NOTIFICATIONS_SINK_COMMIT_MS,
          partitionsConcurrently: cfg.NOTIFICATIONS_SINK_PARTITIONS_AT_ONCE,
        },
        (records) =>
          writer.apply(
            planNotifications(
              records.map((r) => r.event),
              Date.now(),
              ttlSeconds,
            ),
          ),
      );
    },
    dump: async (keyspace) =>
      new Map([...(await dumpNotifications(db, keyspace))].map(([k, v]) => [k, { ...(v as object), read: undefined }])),
  });
}

/** Every notification row with its write time (not TTLs: they count down), keyed by user and id. */
async function dumpNotifications(db: Cassandra, ks: string): Promise<Map<string, unknown>> {
  const rows = await db.scan(
    'dump notifications',
    `SELECT user_id, notification_id, kind, stream_id, streamer_id, streamer_name, title, read,
       WRITETIME(title) AS at FROM ${ks}.notifications_by_user`,
  );
  return new Map(rows.map((r) => [`${String(r.user_id)}/${String(r.notification_id)}`, r]));
}
