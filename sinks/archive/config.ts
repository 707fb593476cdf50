import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';
import { dataPath } from '../../platform/paths.ts';
import { TOPICS, type TopicKey } from '../../schemas/topics.ts';

const topicKeys = Object.keys(TOPICS) as [TopicKey, ...TopicKey[]];

/** The archive sink's configuration; the only reader of process.env for it. */
const schema = z.object({
  ...kafkaEnv,
  /** Where the Parquet files go (domain/archive/layout.ts); `npm run sql` reads the same folder. */
  ARCHIVE_ROOT: env.str(dataPath('archive')),
  /** Catalog topics to archive (keys of schemas/topics.ts, comma-separated); every topic when empty. */
  ARCHIVE_TOPICS: env.optionalList(z.enum(topicKeys)),
  /** Shared by every archive instance: they split the partitions. */
  ARCHIVE_GROUP_ID: env.str('archive'),
  /** A partition's file is written once it holds this many records... */
  ARCHIVE_FLUSH_RECORDS: env.int(100_000, 1),
  /**
   * ...or once its oldest record has waited this long. Longer means fewer, larger files (every
   * partition of every topic with traffic writes one per interval); `npm run sql -- --live` reads
   * what is not written yet straight from Kafka.
   */
  ARCHIVE_FLUSH_MS: env.int(5 * 60_000, 100),
  /** Records handed to the archive at once, at most. */
  ARCHIVE_MAX_BATCH: env.int(5000, 1),
  /** Partitions taken in at once (each keeps its order). */
  ARCHIVE_PARTITIONS_AT_ONCE: env.int(4, 1),
  METRICS_PORT: env.listenPort(9460),
  METRICS_HOST: env.str('127.0.0.1'),
  SHUTDOWN_DEADLINE_MS: env.int(60_000, 1000),
  LOG_LEVEL: env.logLevel(),
});

export type ArchiveConfig = z.infer<typeof schema>;

export const loadArchiveConfig = (source: NodeJS.ProcessEnv = process.env): ArchiveConfig => loadConfig(schema, source);
