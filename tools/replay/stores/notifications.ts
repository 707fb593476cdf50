import { loadNotificationsSinkConfig } from '../../../sinks/notifications/config.ts';
import { dumpNotifications, rebuildNotifications } from '../../../sinks/notifications/replay.ts';
import type { StoreEntry } from '../store.ts';
import { openKeyspaceStore } from './keyspace-store.ts';

/**
 * Users' notifications: rebuilt into a keyspace of its own; readers switch by
 * NOTIFICATIONS_KEYSPACE. Read flags are not on the topic: rebuilt notifications are unread.
 */
export const notificationsStore: StoreEntry = {
  description: 'Cassandra notifications per user (live.notifications); into a new keyspace, all unread',
  open() {
    const cfg = loadNotificationsSinkConfig();
    return openKeyspaceStore({
      name: 'notifications',
      cfg,
      live: {
        keyspace: cfg.NOTIFICATIONS_KEYSPACE,
        variable: 'NOTIFICATIONS_KEYSPACE',
        readers: 'the API and notifications sink',
      },
      switchNote: '(read flags start over)',
      liveGroupId: cfg.NOTIFICATIONS_SINK_GROUP_ID,
      topic: 'notifications',
      rebuild: (deps, o) =>
        rebuildNotifications(deps, {
          ...o,
          maxRecords: cfg.NOTIFICATIONS_SINK_MAX_RECORDS,
          concurrency: cfg.NOTIFICATIONS_SINK_CONCURRENCY,
          batch: {
            maxPartitions: cfg.NOTIFICATIONS_SINK_BATCH_PARTITIONS,
            maxBytes: cfg.NOTIFICATIONS_SINK_BATCH_BYTES,
          },
          ttlSeconds: cfg.NOTIFICATIONS_RETENTION_DAYS * 86_400,
          deadlineMs: cfg.NOTIFICATIONS_REPLAY_DEADLINE_MS,
          replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
          localDc: cfg.CASSANDRA_LOCAL_DC,
        }),
      // Read flags are user state the rebuild cannot have: compared without them.
      dump: async (db, keyspace) =>
        new Map(
          [...(await dumpNotifications(db, keyspace))].map(([k, v]) => [k, { ...(v as object), read: undefined }]),
        ),
    });
  },
};
