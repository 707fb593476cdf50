/**
 * Chat archiver process: live.chat.messages -> Cassandra (history, moderation, per-minute stats).
 *   node --import tsx sinks/chat-archiver/main.ts
 * Creates its keyspace and tables on start (it is their only writer).
 */
import { Cassandra } from '../../platform/cassandra.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { ChatArchiver } from './archiver.ts';
import { loadArchiverConfig } from './config.ts';
import { ensureChatSchema } from '../../domain/chat/schema.ts';
import { ChatArchiveWriter } from './store.ts';

const cfg = loadArchiverConfig();
const log = createLogger('chat-archiver', cfg.LOG_LEVEL);
const metrics = new Metrics('chat-archiver');
const bus = busFromConfig(cfg, 'chat-archiver', metrics, log);
const db = new Cassandra(cfg);
const ttlSeconds = cfg.CHAT_RETENTION_DAYS * 86_400;
let stopAll: (reason: string) => Promise<void> = async () => undefined;

const archiver = new ChatArchiver(bus, new ChatArchiveWriter(db, cfg.CHAT_KEYSPACE, cfg.CHAT_ARCHIVER_CONCURRENCY), {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.CHAT_ARCHIVER_GROUP_ID}`,
  maxRecords: cfg.CHAT_ARCHIVER_MAX_RECORDS,
  partitionsConcurrently: cfg.CHAT_ARCHIVER_PARTITIONS_AT_ONCE,
  limits: { maxRows: cfg.CHAT_ARCHIVER_BATCH_ROWS, maxBytes: cfg.CHAT_ARCHIVER_BATCH_BYTES, ttlSeconds },
  onFatal: (err) => fatal(log, stopAll)(err),
});

const { stop } = await runService(log, [
  {
    name: 'cassandra',
    start: async () => {
      await db.connect();
      await ensureChatSchema(db, cfg.CHAT_KEYSPACE, {
        replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
        localDc: cfg.CASSANDRA_LOCAL_DC,
        ttlSeconds,
      });
      log.info({ keyspace: cfg.CHAT_KEYSPACE }, 'chat archive schema ready');
    },
    stop: () => db.shutdown(),
  },
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({ ok: archiver.healthy })),
  archiver,
]);
stopAll = stop;
