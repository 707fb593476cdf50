/**
 * Follows sink process: live.user.follows -> the follower graph in Cassandra.
 *   node --import tsx sinks/follows/main.ts
 * Creates its keyspace and tables on start (it is their only writer).
 */
import { Cassandra } from '../../platform/cassandra.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { loadFollowsSinkConfig } from './config.ts';
import { ensureFollowsSchema } from '../../domain/follows/schema.ts';
import { FollowsSink } from './sink.ts';
import { FollowGraphWriter } from './store.ts';

const cfg = loadFollowsSinkConfig();
const log = createLogger('follows-sink', cfg.LOG_LEVEL);
const metrics = new Metrics('follows-sink');
const bus = busFromConfig(cfg, 'follows-sink', metrics, log);
const db = new Cassandra(cfg);
let stopAll: (reason: string) => Promise<void> = async () => undefined;

const sink = new FollowsSink(bus, new FollowGraphWriter(db, cfg.FOLLOWS_KEYSPACE, cfg.FOLLOWS_SINK_CONCURRENCY), {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.FOLLOWS_SINK_GROUP_ID}`,
  maxRecords: cfg.FOLLOWS_SINK_MAX_RECORDS,
  onFatal: (err) => fatal(log, stopAll)(err),
});

const { stop } = await runService(log, [
  {
    name: 'cassandra',
    start: async () => {
      await db.connect();
      await ensureFollowsSchema(db, cfg.FOLLOWS_KEYSPACE, {
        replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR,
        localDc: cfg.CASSANDRA_LOCAL_DC,
      });
      log.info({ keyspace: cfg.FOLLOWS_KEYSPACE }, 'follower graph schema ready');
    },
    stop: () => db.shutdown(),
  },
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({ ok: sink.healthy })),
  sink,
]);
stopAll = stop;
