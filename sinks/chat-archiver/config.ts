import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { cassandraEnv } from '../../platform/cassandra.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';
import { chatStoreEnv } from '../../domain/chat/schema.ts';

/** The chat archiver's (and its replay's) configuration; the only reader of process.env for them. */
const schema = z.object({
  ...kafkaEnv,
  ...cassandraEnv,
  ...chatStoreEnv,
  /** Shared by every archiver instance: they split the partitions. */
  CHAT_ARCHIVER_GROUP_ID: env.str('chat-archiver'),
  /** Rows per unlogged batch, at most. */
  CHAT_ARCHIVER_BATCH_ROWS: env.int(100, 1),
  /**
   * Estimated bytes per unlogged batch, at most. Every batch holds one partition, and Cassandra
   * (5.0: BatchStatement.verifyBatchSize) applies batch_size_warn_threshold (5 KiB) and
   * batch_size_fail_threshold only to batches spanning partitions, so this only keeps one request
   * modest. At 4 KiB a batch held ~28 chat rows and the archiver ran 15% slower than at 64 KiB,
   * where CHAT_ARCHIVER_BATCH_ROWS decides (npm run bench -- chat --only-archive).
   */
  CHAT_ARCHIVER_BATCH_BYTES: env.int(65_536, 256),
  /**
   * Records handed to one write round, at most. The per-minute stats no longer re-read a minute
   * each round (tally.ts), so rounds can be small; 2,000 ran a little faster than 5,000 (less
   * in flight at once for the collector).
   */
  CHAT_ARCHIVER_MAX_RECORDS: env.int(2000, 1),
  /** Batches in flight at once, per partition being written. */
  CHAT_ARCHIVER_CONCURRENCY: env.int(8, 1),
  /**
   * Partitions written at once (each keeps its order; a stream lives in one). One at a time left
   * Cassandra idle while a round read and wrote its stats: 33k msg/s with 1, 37-40k with 4.
   */
  CHAT_ARCHIVER_PARTITIONS_AT_ONCE: env.int(4, 1),
  /**
   * The same for a rebuild (`replay`), which reads a backlog (platform/store/topic-sink.ts REBUILD)
   * into a keyspace nothing else writes: bigger rounds and batches (fewer requests for Cassandra,
   * which spent more CPU than the replay itself) and every partition at once.
   */
  CHAT_REPLAY_MAX_RECORDS: env.int(5000, 1),
  CHAT_REPLAY_BATCH_ROWS: env.int(500, 1),
  CHAT_REPLAY_CONCURRENCY: env.int(8, 1),
  CHAT_REPLAY_PARTITIONS_AT_ONCE: env.int(12, 1),
  /** Replay only: the keyspace to rebuild into (it must not be CHAT_KEYSPACE). */
  CHAT_REPLAY_KEYSPACE: env.optionalKeyspace(),
  CHAT_REPLAY_DEADLINE_MS: env.int(30 * 60_000, 1000),
  METRICS_PORT: env.listenPort(9421),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type ArchiverConfig = z.infer<typeof schema>;

export const loadArchiverConfig = (source: NodeJS.ProcessEnv = process.env): ArchiverConfig =>
  loadConfig(schema, source);
