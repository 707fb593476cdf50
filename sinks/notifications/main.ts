/**
 * Notifications sink process: live.notifications -> each user's notifications in Cassandra.
 *   node --import tsx sinks/notifications/main.ts
 * Creates its keyspace and table on start (it is their only creator).
 */
import { Cassandra } from '../../platform/cassandra.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { loadNotificationsSinkConfig } from './config.ts';
import { ensureNotificationsSchema } from '../../domain/notifications/schema.ts';
import { NotificationsSink } from './sink.ts';
import { NotificationWriter } from './store.ts';

const cfg = loadNotificationsSinkConfig();
const log = createLogger('notifications-sink', cfg.LOG_LEVEL);
const metrics = new Metrics('notifications-sink');
const bus = busFromConfig(cfg, 'notifications-sink', metrics, log);
const db = new Cassandra(cfg);
const ttlSeconds = cfg.NOTIFICATIONS_RETENTION_DAYS * 86_400;
let stopAll: (reason: string) => Promise<void> = async () => undefined;

const sink = new NotificationsSink(
  bus,
  new NotificationWriter(db, cfg.NOTIFICATIONS_KEYSPACE, cfg.NOTIFICATIONS_SINK_CONCURRENCY, {
    maxPartitions: cfg.NOTIFICATIONS_SINK_BATCH_PARTITIONS,
    maxBytes: cfg.NOTIFICATIONS_SINK_BATCH_BYTES,
  }),
  {
    groupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.NOTIFICATIONS_SINK_GROUP_ID}`,
    maxRecords: cfg.NOTIFICATIONS_SINK_MAX_RECORDS,
    ttlSeconds,
    commitIntervalMs: cfg.NOTIFICATIONS_SINK_COMMIT_MS,
    partitionsConcurrently: cfg.NOTIFICATIONS_SINK_PARTITIONS_AT_ONCE,
    onFatal: (err) => fatal(log, stopAll)(err),
  },
);

const { stop } = await runService(log, [
  {
    name: 'cassandra',
    start: async () => {
      await db.connect();
      await ensureNotificationsSchema(db, cfg.NOTIFICATIONS_KEYSPACE, {
        replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
        localDc: cfg.CASSANDRA_LOCAL_DC,
        ttlSeconds,
      });
      log.info({ keyspace: cfg.NOTIFICATIONS_KEYSPACE }, 'notifications schema ready');
    },
    stop: () => db.shutdown(),
  },
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({ ok: sink.healthy })),
  sink,
]);
stopAll = stop;
