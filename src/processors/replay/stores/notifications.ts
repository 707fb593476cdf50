import { Cassandra } from '../../../platform/cassandra.ts';
import { waitForGroupToReachEnd } from '../../../platform/consumer-groups.ts';
import { busFromConfig } from '../../../platform/infra-config.ts';
import { createLogger } from '../../../platform/logger.ts';
import { Metrics } from '../../../platform/metrics.ts';
import { loadNotificationsSinkConfig } from '../../../sinks/notifications/config.ts';
import { dumpNotifications, rebuildNotifications } from '../../../sinks/notifications/replay.ts';
import type { ReplayStore, StoreEntry } from '../store.ts';

/**
 * Users' notifications: rebuilt into a keyspace of its own; readers switch by
 * NOTIFICATIONS_KEYSPACE. Read flags are not on the topic: rebuilt notifications are unread.
 */
export const notificationsStore: StoreEntry = {
  description: 'Cassandra notifications per user (live.notifications); into a new keyspace, all unread',
  async open(): Promise<ReplayStore> {
    const cfg = loadNotificationsSinkConfig();
    const log = createLogger('replay', cfg.LOG_LEVEL);
    const bus = busFromConfig(cfg, 'replay', new Metrics('replay', { defaults: false }), log);
    const db = new Cassandra(cfg);
    await db.connect();
    const groupPrefix = `${cfg.LIVE_TOPIC_PREFIX}${cfg.NOTIFICATIONS_SINK_GROUP_ID}`;
    return {
      name: 'notifications',
      async rebuild(req) {
        const target = req.into ?? `${cfg.NOTIFICATIONS_KEYSPACE}_r${Date.now().toString(36)}`;
        if (target === cfg.NOTIFICATIONS_KEYSPACE)
          throw new Error(`give --into a keyspace other than the live one (${target})`);
        await rebuildNotifications(
          { bus, db, log },
          {
            keyspace: target,
            groupPrefix,
            maxRecords: cfg.NOTIFICATIONS_SINK_MAX_RECORDS,
            concurrency: cfg.NOTIFICATIONS_SINK_CONCURRENCY,
            ttlSeconds: cfg.NOTIFICATIONS_RETENTION_DAYS * 86_400,
            deadlineMs: cfg.NOTIFICATIONS_REPLAY_DEADLINE_MS,
            replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
            localDc: cfg.CASSANDRA_LOCAL_DC,
            ...(req.asOf !== undefined && { until: req.asOf }),
            ...(req.onProgress && { onProgress: req.onProgress }),
          },
        );
        return {
          target,
          notes:
            req.mode === 'swap'
              ? [
                  `set NOTIFICATIONS_KEYSPACE=${target} on the API and notifications sink to switch (read flags start over)`,
                ]
              : [],
        };
      },
      async settledLiveTarget() {
        await waitForGroupToReachEnd(bus, groupPrefix, [bus.topicName('notifications')], { deadlineMs: 120_000 });
        return cfg.NOTIFICATIONS_KEYSPACE;
      },
      // Read flags are user state the rebuild cannot have: compared without them.
      dump: async (keyspace) =>
        new Map(
          [...(await dumpNotifications(db, keyspace))].map(([k, v]) => [k, { ...(v as object), read: undefined }]),
        ),
      drop: (keyspace) => db.ddl(`DROP KEYSPACE IF EXISTS ${keyspace}`),
      close: () => db.shutdown(),
    };
  },
};
