import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { cassandraEnv } from '../../platform/cassandra.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';
import { notificationsStoreEnv } from '../../domain/notifications/schema.ts';

/** The notifications sink's (and its replay's) configuration; the only reader of process.env for them. */
const schema = z.object({
  ...kafkaEnv,
  ...cassandraEnv,
  ...notificationsStoreEnv,
  /** Shared by every notifications-sink instance; the notifier paces large fan-outs by this group's lag. */
  NOTIFICATIONS_SINK_GROUP_ID: env.str('notifications-sink'),
  /**
   * Records handed to one write round, at most. Each round is committed once written (at most
   * every NOTIFICATIONS_SINK_COMMIT_MS), so the lag the notifier paces by falls while a fetch is
   * being written, not only at its end: with rounds of 2,000 and commits every 200 ms the notifier
   * waited out whole fetches and a 1M fan-out ran at 11k/s; with 300 and 50 ms, 17k/s on the same
   * machine (npm run bench -- follows).
   */
  NOTIFICATIONS_SINK_MAX_RECORDS: env.int(300, 1),
  /** Writes (batches, or single inserts) in flight at once, per partition being written. */
  NOTIFICATIONS_SINK_CONCURRENCY: env.int(16, 1),
  /**
   * Recipients per unlogged batch (all on the same replicas), at most. Over 10 Cassandra logs a
   * warning unless unlogged_batch_across_partitions_warn_threshold is raised, as the platform's
   * own Cassandra does (docs/follows.md).
   */
  NOTIFICATIONS_SINK_BATCH_PARTITIONS: env.int(40, 1),
  /** Estimated bytes per batch, at most: under the batch_size_warn_threshold the platform sets (32 KiB). */
  NOTIFICATIONS_SINK_BATCH_BYTES: env.int(16_384, 256),
  /** Committed often, so the notifier's lag reading is current. */
  NOTIFICATIONS_SINK_COMMIT_MS: env.int(50, 50),
  /** Partitions written at once (each keeps its order); a fan-out spreads over all of them. */
  NOTIFICATIONS_SINK_PARTITIONS_AT_ONCE: env.int(6, 1),
  NOTIFICATIONS_REPLAY_DEADLINE_MS: env.int(30 * 60_000, 1000),
  METRICS_PORT: env.listenPort(9443),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type NotificationsSinkConfig = z.infer<typeof schema>;

export const loadNotificationsSinkConfig = (source: NodeJS.ProcessEnv = process.env): NotificationsSinkConfig =>
  loadConfig(schema, source);
