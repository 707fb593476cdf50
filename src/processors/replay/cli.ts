/**
 * Rebuilds a derived store from the topics and swaps it in:
 *   npm run replay -- discovery [--keep-old]   fresh index, then an atomic alias swap
 *   npm run replay -- chat --into <keyspace>    the chat archive into a fresh keyspace
 *                                               (point CHAT_KEYSPACE at it to switch)
 * The stream registry needs no command: every API instance rebuilds it from the topic at start.
 */
import { parseArgs } from 'node:util';
import { clusterReady, createElasticsearch } from '../../platform/elasticsearch.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { discoveryIndex } from '../../sinks/elasticsearch/discovery-index.ts';
import { loadIndexerConfig } from '../discovery-indexer/config.ts';
import { rebuildDiscoveryIndex } from '../discovery-indexer/replay.ts';
import { Cassandra } from '../../platform/cassandra.ts';
import { loadArchiverConfig } from '../../sinks/chat-archiver/config.ts';
import { rebuildChatArchive } from '../../sinks/chat-archiver/replay.ts';

interface Options {
  keepOld: boolean;
  into: string | undefined;
}

const STORES = {
  async discovery({ keepOld }: Options): Promise<void> {
    const cfg = loadIndexerConfig();
    const log = createLogger('replay', cfg.LOG_LEVEL);
    const bus = busFromConfig(cfg, 'replay', new Metrics('replay', { defaults: false }), log);
    const es = createElasticsearch({ url: cfg.ELASTICSEARCH_URL });
    try {
      await clusterReady(es, { deadlineMs: 60_000 });
      const result = await rebuildDiscoveryIndex(
        { bus, es, log },
        {
          alias: cfg.DISCOVERY_ALIAS,
          definition: discoveryIndex({ shards: cfg.DISCOVERY_SHARDS, replicas: cfg.DISCOVERY_REPLICAS }),
          groupPrefix: `${cfg.LIVE_TOPIC_PREFIX}${cfg.DISCOVERY_GROUP_ID}`,
          catchUpDeadlineMs: cfg.DISCOVERY_REBUILD_DEADLINE_MS,
          keepOld,
        },
      );
      log.info(result, `${cfg.DISCOVERY_ALIAS} now points at the rebuilt index`);
    } finally {
      await es.close();
    }
  },

  async chat({ into }: Options): Promise<void> {
    const cfg = loadArchiverConfig();
    const target = into ?? cfg.CHAT_REPLAY_KEYSPACE;
    if (!target || target === cfg.CHAT_KEYSPACE) {
      throw new Error(`give --into <keyspace> other than the live one (${cfg.CHAT_KEYSPACE})`);
    }
    const log = createLogger('replay', cfg.LOG_LEVEL);
    const bus = busFromConfig(cfg, 'replay', new Metrics('replay', { defaults: false }), log);
    const db = new Cassandra(cfg);
    try {
      await db.connect();
      await rebuildChatArchive(
        { bus, db, log },
        {
          keyspace: target,
          groupPrefix: `${cfg.LIVE_TOPIC_PREFIX}${cfg.CHAT_ARCHIVER_GROUP_ID}`,
          limits: {
            maxRows: cfg.CHAT_ARCHIVER_BATCH_ROWS,
            maxBytes: cfg.CHAT_ARCHIVER_BATCH_BYTES,
            ttlSeconds: cfg.CHAT_RETENTION_DAYS * 86_400,
          },
          concurrency: cfg.CHAT_ARCHIVER_CONCURRENCY,
          maxRecords: cfg.CHAT_ARCHIVER_MAX_RECORDS,
          deadlineMs: cfg.CHAT_REPLAY_DEADLINE_MS,
          replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
          localDc: cfg.CASSANDRA_LOCAL_DC,
        },
      );
      log.info({ keyspace: target }, 'chat archive rebuilt');
    } finally {
      await db.shutdown();
    }
  },
};

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'keep-old': { type: 'boolean', default: false }, into: { type: 'string' } },
});
const name = positionals[0];
if (!name || !(name in STORES)) {
  console.error('usage: npm run replay -- discovery [--keep-old] | chat --into <keyspace>');
  process.exit(2);
}
await STORES[name as keyof typeof STORES]({ keepOld: values['keep-old'] ?? false, into: values.into });
