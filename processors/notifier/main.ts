/**
 * Notifier process: StreamWentLive -> one NotificationCreated per follower on live.notifications.
 *   node --import tsx processors/notifier/main.ts
 * Start order: Cassandra (its job table), the producer, the stream registry caught up with the
 * topic, metrics, then the notifier (recovers orphaned fan-outs, then consumes). Stop runs back.
 */
import { Cassandra } from '../../platform/cassandra.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { FollowGraph } from '../../domain/follows/graph.ts';
import { StreamRegistryProjection } from '../../domain/stream/projection.ts';
import { StreamRegistry } from '../../domain/stream/registry.ts';
import { loadNotifierConfig } from './config.ts';
import { FanoutJobs } from './jobs.ts';
import { Notifier } from './notifier.ts';
import { SinkLag } from './pacing.ts';

const cfg = loadNotifierConfig();
const log = createLogger('notifier', cfg.LOG_LEVEL).child({ instance: cfg.NOTIFIER_INSTANCE_ID });
const metrics = new Metrics('notifier');
const bus = busFromConfig(cfg, 'notifier', metrics, log);
const db = new Cassandra(cfg);
const producer = bus.producer();
const registry = new StreamRegistry();
const graph = new FollowGraph(db, cfg.FOLLOWS_KEYSPACE);
const jobs = new FanoutJobs(db, cfg.NOTIFIER_KEYSPACE);
let stopAll: (reason: string) => Promise<void> = async () => undefined;
const onFatal = (err: Error): void => fatal(log, stopAll)(err);

const projection = new StreamRegistryProjection(bus, registry, {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}notifier.registry.${cfg.NOTIFIER_INSTANCE_ID}`,
  catchUpDeadlineMs: cfg.NOTIFIER_CATCHUP_MS,
  onFatal,
});
const notifier = new Notifier(
  {
    bus,
    producer,
    registry,
    followerIds: (streamerId, after, limit) => graph.followerIds(streamerId, after, limit),
    jobs,
    pacing: new SinkLag(bus, `${cfg.LIVE_TOPIC_PREFIX}${cfg.NOTIFICATIONS_SINK_GROUP_ID}`, cfg.NOTIFIER_MAX_SINK_LAG),
    log,
    metrics,
  },
  {
    groupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.NOTIFIER_GROUP_ID}`,
    instanceId: cfg.NOTIFIER_INSTANCE_ID,
    inlineMax: cfg.NOTIFIER_INLINE_MAX,
    pageSize: cfg.NOTIFIER_PAGE_SIZE,
    leaseMs: cfg.NOTIFIER_LEASE_MS,
    recoverEveryMs: cfg.NOTIFIER_RECOVER_EVERY_MS,
    progressEveryMs: cfg.NOTIFIER_PROGRESS_EVERY_MS,
    concurrency: cfg.NOTIFIER_CONCURRENCY,
    maxAgeMs: cfg.NOTIFIER_MAX_AGE_MS,
    onFatal,
  },
);

const { stop } = await runService(log, [
  {
    name: 'cassandra',
    start: async () => {
      await db.connect();
      await jobs.ensureSchema({ replicationFactor: cfg.CASSANDRA_REPLICATION_FACTOR, localDc: cfg.CASSANDRA_LOCAL_DC });
    },
    stop: () => db.shutdown(),
  },
  { name: 'producer', start: () => producer.connect(), stop: () => producer.disconnect() },
  projection,
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({
    ok: projection.healthy && notifier.healthy,
  })),
  notifier,
]);
stopAll = stop;
