/**
 * Rebuilds the chat archive from the topic into a fresh keyspace:
 *   CHAT_REPLAY_KEYSPACE=live_chat_v2 node --import tsx src/sinks/chat-archiver/replay-cli.ts
 */
import { Cassandra } from '../../platform/cassandra.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { loadArchiverConfig } from './config.ts';
import { rebuildChatArchive } from './replay.ts';

const cfg = loadArchiverConfig();
const log = createLogger('chat-replay', cfg.LOG_LEVEL);
const target = cfg.CHAT_REPLAY_KEYSPACE;
if (!target || target === cfg.CHAT_KEYSPACE) {
  console.error('set CHAT_REPLAY_KEYSPACE to a keyspace other than CHAT_KEYSPACE');
  process.exit(2);
}
const bus = busFromConfig(cfg, 'chat-replay', new Metrics('chat-replay', { defaults: false }), log);
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
