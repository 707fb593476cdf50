import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { cassandraEnv } from '../../platform/cassandra.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';
import { followsStoreEnv } from '../../domain/follows/schema.ts';

/** The notifier's configuration; the only reader of process.env for it. */
const schema = z.object({
  ...kafkaEnv,
  ...cassandraEnv,
  ...followsStoreEnv,
  /** The notifier's own table of large fan-outs in progress. */
  NOTIFIER_KEYSPACE: env.keyspace('live_notifier'),
  /** Shared by every notifier instance: they split the lifecycle partitions. */
  NOTIFIER_GROUP_ID: env.str('notifier'),
  /** Names this process as the owner of fan-out jobs; unique per process unless set. */
  NOTIFIER_INSTANCE_ID: env.instanceId(),
  /** Followers notified in the lifecycle handler itself; a go-live with more continues in the background. */
  NOTIFIER_INLINE_MAX: env.int(1000, 1),
  /**
   * Followers read and published per background page. Small pages keep the sink's queue topped up
   * in small steps under NOTIFIER_MAX_SINK_LAG (the next one is read while the last waits).
   */
  NOTIFIER_PAGE_SIZE: env.int(2000, 1),
  /** A crashed notifier's large fan-outs are taken over this long after its last page. */
  NOTIFIER_LEASE_MS: env.int(15_000, 500),
  NOTIFIER_RECOVER_EVERY_MS: env.int(5000, 100),
  /**
   * A large fan-out records its progress (an LWT) at most this often rather than after every
   * page; a crash re-sends at most about this much of it, with the same ids.
   */
  NOTIFIER_PROGRESS_EVERY_MS: env.int(1000, 0),
  NOTIFIER_CONCURRENCY: env.int(2, 1),
  /**
   * Background pages wait while the notifications sink is this many records behind (0: never
   * wait). A small streamer's notifications queue behind this backlog in the recipient-keyed
   * topic: unpaced, their p95 was 1.6 s during a 1M fan-out; paced at 5,000 (pages of 2,000, the
   * sink committing every 300 records) 0.47 s at 17k/s; at 8,000, 0.69 s and no faster
   * (npm run bench -- follows).
   */
  NOTIFIER_MAX_SINK_LAG: env.int(5000, 0),
  /** The notifications sink's group, whose lag paces the background lane. */
  NOTIFICATIONS_SINK_GROUP_ID: env.str('notifications-sink'),
  NOTIFIER_MAX_AGE_MS: env.int(3_600_000, 1000),
  NOTIFIER_CATCHUP_MS: env.int(120_000, 1000),
  METRICS_PORT: env.listenPort(9442),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type NotifierConfig = z.infer<typeof schema>;

export const loadNotifierConfig = (source: NodeJS.ProcessEnv = process.env): NotifierConfig =>
  loadConfig(schema, source);
