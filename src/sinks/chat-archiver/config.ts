import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { cassandraEnv } from '../../platform/cassandra.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';

/** Where the chat archive lives and how long it keeps messages; the gateway reads the same settings. */
export const chatStoreEnv = {
  CHAT_KEYSPACE: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,47}$/, 'a Cassandra keyspace name (lower case, digits, _)')
    .default('live_chat'),
  CHAT_RETENTION_DAYS: env.int(30, 1),
};

/** The chat archiver's (and its replay's) configuration; the only reader of process.env for them. */
const schema = z.object({
  ...kafkaEnv,
  ...cassandraEnv,
  ...chatStoreEnv,
  /** Shared by every archiver instance: they split the partitions. */
  CHAT_ARCHIVER_GROUP_ID: env.str('chat-archiver'),
  /** Rows per unlogged batch, at most. */
  CHAT_ARCHIVER_BATCH_ROWS: env.int(100, 1),
  /** Estimated bytes per unlogged batch, at most: under Cassandra's 5 KiB batch_size_warn_threshold. */
  CHAT_ARCHIVER_BATCH_BYTES: env.int(4096, 256),
  /**
   * Records handed to one write round, at most. Each round recounts the per-minute stats of the
   * minutes it touched, so small rounds re-read a busy minute many times: with 500 the archiver
   * ran at 0.5x of one-insert-per-message, with 5000 at 1.4x (npm run bench -- chat).
   */
  CHAT_ARCHIVER_MAX_RECORDS: env.int(5000, 1),
  /** Batches in flight at once. */
  CHAT_ARCHIVER_CONCURRENCY: env.int(8, 1),
  /** Replay only: the keyspace to rebuild into (it must not be CHAT_KEYSPACE). */
  CHAT_REPLAY_KEYSPACE: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,47}$/)
    .optional(),
  CHAT_REPLAY_DEADLINE_MS: env.int(30 * 60_000, 1000),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9421),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type ArchiverConfig = z.infer<typeof schema>;

export const loadArchiverConfig = (source: NodeJS.ProcessEnv = process.env): ArchiverConfig =>
  loadConfig(schema, source);
