import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { cassandraEnv } from '../../platform/cassandra.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';
import { followsStoreEnv } from '../../domain/follows/schema.ts';

/** The follows sink's (and its replay's) configuration; the only reader of process.env for them. */
const schema = z.object({
  ...kafkaEnv,
  ...cassandraEnv,
  ...followsStoreEnv,
  /** Shared by every follows-sink instance: they split the partitions. */
  FOLLOWS_SINK_GROUP_ID: env.str('follows-sink'),
  /** Records handed to one write round, at most. */
  FOLLOWS_SINK_MAX_RECORDS: env.int(2000, 1),
  /**
   * The same for a rebuild, which reads a backlog: every round recounts each user it touched
   * (store.ts), so a busy streamer's followers are counted once a round. Rounds of 20,000 rebuilt
   * 100,000 follows at 5,074 events/s, rounds of 2,000 at 2,972 (npm run bench -- replay).
   */
  FOLLOWS_REPLAY_MAX_RECORDS: env.int(20_000, 1),
  /** Statements in flight at once. */
  FOLLOWS_SINK_CONCURRENCY: env.int(32, 1),
  FOLLOWS_REPLAY_DEADLINE_MS: env.int(30 * 60_000, 1000),
  METRICS_PORT: env.listenPort(9441),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type FollowsSinkConfig = z.infer<typeof schema>;

export const loadFollowsSinkConfig = (source: NodeJS.ProcessEnv = process.env): FollowsSinkConfig =>
  loadConfig(schema, source);
