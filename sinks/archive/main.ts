/**
 * Archive sink process: every catalog topic -> Parquet files by topic and hour (#27).
 *   node --import tsx sinks/archive/main.ts
 * Reads with the `archive` consumer group; `npm run sql` queries what it wrote.
 */
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { TOPICS, type TopicKey } from '../../schemas/topics.ts';
import { Archiver } from './archiver.ts';
import { loadArchiveConfig } from './config.ts';
import { ParquetWriter } from './parquet.ts';

const cfg = loadArchiveConfig();
const log = createLogger('archive', cfg.LOG_LEVEL);
const metrics = new Metrics('archive');
const bus = busFromConfig(cfg, 'archive', metrics, log);
const writer = await ParquetWriter.open();

let stopAll: (reason: string) => Promise<void> = async () => undefined;
const archiver = new Archiver(bus, writer, log, metrics, {
  root: cfg.ARCHIVE_ROOT,
  topics: cfg.ARCHIVE_TOPICS.length ? cfg.ARCHIVE_TOPICS : (Object.keys(TOPICS) as TopicKey[]),
  groupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.ARCHIVE_GROUP_ID}`,
  flushRecords: cfg.ARCHIVE_FLUSH_RECORDS,
  flushMs: cfg.ARCHIVE_FLUSH_MS,
  maxBatch: cfg.ARCHIVE_MAX_BATCH,
  partitionsConcurrently: cfg.ARCHIVE_PARTITIONS_AT_ONCE,
  onFatal: (err) => fatal(log, stopAll)(err),
});

const { stop } = await runService(
  log,
  [
    metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST, log }, () => ({
      ok: archiver.healthy,
    })),
    // Stopped after the archiver, whose last flush writes with it.
    { name: 'parquet writer', start: async () => undefined, stop: async () => writer.close() },
    archiver,
  ],
  { shutdownDeadlineMs: cfg.SHUTDOWN_DEADLINE_MS },
);
stopAll = stop;
log.info(
  { root: cfg.ARCHIVE_ROOT, flushRecords: cfg.ARCHIVE_FLUSH_RECORDS, flushMs: cfg.ARCHIVE_FLUSH_MS },
  'archiving',
);
