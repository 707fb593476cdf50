/**
 * Ingest watchdog process (issue #24): live.ingest.leases + live.stream.lifecycle ->
 * StreamEnded(INGEST_NODE_LOST) for the streams of an ingest node that stopped renewing its lease,
 * once the reconnect grace has passed without their encoders reconnecting elsewhere.
 *   npx tsx processors/ingest-watchdog/main.ts
 * A process of its own, not a task of every ingest node: it has to work when the lost node was
 * the only one (the single-machine platform), and it keeps the media path free of it.
 * Start order: the producer, the leases read to their end, the stream registry caught up, then
 * sweeps; stop runs backwards.
 */
import { busFromConfig } from '../../platform/infra-config.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { StreamRegistryProjection } from '../../domain/stream/projection.ts';
import { StreamRegistry } from '../../domain/stream/registry.ts';
import { loadWatchdogConfig } from './config.ts';
import { IngestWatchdog } from './watchdog.ts';

const cfg = loadWatchdogConfig();
const log = createLogger('ingest-watchdog', cfg.LOG_LEVEL).child({ instance: cfg.INGEST_WATCHDOG_INSTANCE_ID });
const metrics = new Metrics('ingest-watchdog');
const bus = busFromConfig(cfg, `ingest-watchdog-${cfg.INGEST_WATCHDOG_INSTANCE_ID}`, metrics, log);
const registry = new StreamRegistry();
let stopAll: (reason: string) => Promise<void> = async () => undefined;
const onFatal = (err: Error): void => fatal(log, stopAll)(err);
let producer: EventProducer | undefined;

const watchdog = new IngestWatchdog({
  bus,
  stream: (id) => registry.get(id),
  publish: (events) => producer!.publish(bus.topic('streamLifecycle'), events),
  groupId: `${cfg.LIVE_TOPIC_PREFIX}ingest-watchdog.${cfg.INGEST_WATCHDOG_INSTANCE_ID}.leases`,
  graceMs: cfg.INGEST_RECONNECT_GRACE_MS,
  sweepMs: cfg.INGEST_WATCHDOG_SWEEP_MS,
  catchUpDeadlineMs: cfg.INGEST_WATCHDOG_CATCHUP_MS,
  log,
  metrics,
  onFatal,
});
const projection = new StreamRegistryProjection(bus, registry, {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}ingest-watchdog.${cfg.INGEST_WATCHDOG_INSTANCE_ID}.registry`,
  catchUpDeadlineMs: cfg.INGEST_WATCHDOG_CATCHUP_MS,
  onFatal,
  onLifecycle: (event) => watchdog.onLifecycle(event),
});

const { stop } = await runService(log, [
  {
    name: 'producer',
    start: async () => {
      await bus.init(['streamLifecycle', 'ingestLeases']);
      producer = bus.producer();
      await producer.connect();
    },
    stop: async () => {
      await producer?.disconnect();
    },
  },
  watchdog,
  projection,
  {
    name: 'sweeps',
    start: async () => watchdog.begin(),
    stop: () => watchdog.halt(),
  },
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST, log }, () => ({
    ok: projection.healthy && watchdog.healthy,
  })),
]);
stopAll = stop;
