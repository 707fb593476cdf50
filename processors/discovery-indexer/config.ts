import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { elasticsearchEnv, kafkaEnv } from '../../platform/infra-config.ts';
import { discoveryEnv } from '../../domain/discovery/index-definition.ts';
import { WRITTEN_DOCUMENTS } from './indexer.ts';

/** The discovery indexer's (and its rebuild CLI's) configuration; the only reader of process.env for them. */
const schema = z.object({
  ...kafkaEnv,
  ...elasticsearchEnv,
  ...discoveryEnv,
  /** The live indexer's consumer group (shared by all its instances: they split the partitions). */
  DISCOVERY_GROUP_ID: env.str('discovery-indexer'),
  /** Documents the indexer remembers as written, to skip reading them back (~1 KB each; 0: always read). */
  DISCOVERY_WRITTEN_DOCUMENTS: env.int(WRITTEN_DOCUMENTS, 0),
  /** How long a rebuild may take to reach the end of the topics before it gives up. */
  DISCOVERY_REBUILD_DEADLINE_MS: env.int(30 * 60_000, 1000),
  METRICS_PORT: env.port(9410),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type IndexerConfig = z.infer<typeof schema>;

export const loadIndexerConfig = (source: NodeJS.ProcessEnv = process.env): IndexerConfig => loadConfig(schema, source);
