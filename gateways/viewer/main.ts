/**
 * Viewer gateway process: player presence sockets at /streams/:id/viewers, heartbeats to
 * live.viewer.heartbeats, counts from live.viewer.counts pushed back to players.
 *   npx tsx gateways/viewer/main.ts
 * Start order: the producer, the stream registry caught up (which streams are live, their counts),
 * metrics, the pusher, then the socket listener last. Stop runs backwards: sockets close (1012),
 * then queued heartbeats are flushed.
 */
import { randomUUID } from 'node:crypto';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { StreamRegistryProjection } from '../../domain/stream/projection.ts';
import { StreamRegistry } from '../../domain/stream/registry.ts';
import { HeartbeatBatcher } from './batcher.ts';
import { loadViewerGatewayConfig } from './config.ts';
import { ViewerMetrics } from './metrics.ts';
import { ViewerService, type ViewerConnection } from './service.ts';
import { ViewerTransport } from './transport.ts';

const cfg = loadViewerGatewayConfig();
const log = createLogger('viewer-gateway', cfg.LOG_LEVEL).child({ instance: cfg.VIEWER_INSTANCE_ID });
const metrics = new Metrics('viewer-gateway');
const viewerMetrics = new ViewerMetrics(metrics);
const bus = busFromConfig(cfg, `viewer-gateway-${cfg.VIEWER_INSTANCE_ID}`, metrics, log);
const producer = bus.producer();
const registry = new StreamRegistry();
let stopAll: (reason: string) => Promise<void> = async () => undefined;
const onFatal = (err: Error): void => fatal(log, stopAll)(err);

const batcher = new HeartbeatBatcher(
  (events) => producer.publish(bus.topic('viewerHeartbeats'), events),
  { lingerMs: cfg.VIEWER_LINGER_MS, maxBatch: cfg.VIEWER_MAX_BATCH, maxQueued: cfg.VIEWER_MAX_QUEUED },
  log,
  viewerMetrics,
);
const service = new ViewerService(
  {
    streams: {
      status: (id) => registry.get(id)?.status,
      counts: (id) => registry.viewerStats(id),
      latencyMode: (id) => registry.get(id)?.latencyMode,
    },
    publish: (hb) => batcher.push(hb),
    // The transport is built next; the service only broadcasts once it listens.
    broadcast: (streamId, frame) => transport.broadcast(streamId, frame),
    connectionsOf: (streamId): Iterable<ViewerConnection> => transport.connectionsOf(streamId),
    newId: randomUUID,
    clock: Date.now,
    gatewayId: cfg.VIEWER_INSTANCE_ID,
    metrics: viewerMetrics,
  },
  {
    heartbeatIntervalMs: cfg.VIEWER_HEARTBEAT_INTERVAL_MS,
    minBeatIntervalMs: cfg.VIEWER_MIN_BEAT_INTERVAL_MS,
    flood: { frames: cfg.VIEWER_FLOOD_FRAMES, windowMs: cfg.VIEWER_FLOOD_WINDOW_MS },
    pushEveryMs: cfg.VIEWER_PUSH_EVERY_MS,
  },
);
const transport = new ViewerTransport(
  service,
  randomUUID,
  {
    host: cfg.VIEWER_HOST,
    port: cfg.VIEWER_PORT,
    allowedOrigins: cfg.VIEWER_ALLOWED_ORIGINS,
    maxFrameBytes: cfg.VIEWER_MAX_FRAME_BYTES,
    idleTimeoutSeconds: cfg.VIEWER_IDLE_TIMEOUT_S,
    maxBackpressureBytes: cfg.VIEWER_MAX_BACKPRESSURE_BYTES,
    maxConnections: cfg.VIEWER_MAX_CONNECTIONS,
    maxConnectionsPerAddress: cfg.VIEWER_MAX_CONNECTIONS_PER_ADDRESS,
  },
  log,
  viewerMetrics,
);
const projection = new StreamRegistryProjection(bus, registry, {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}viewer-gateway.${cfg.VIEWER_INSTANCE_ID}.registry`,
  catchUpDeadlineMs: cfg.VIEWER_CATCHUP_MS,
  onFatal,
});
let pusher: NodeJS.Timeout | undefined;

const { stop } = await runService(log, [
  {
    name: 'producer',
    start: async () => {
      await bus.init(['viewerHeartbeats']);
      await producer.connect();
    },
    stop: () => producer.disconnect(),
  },
  batcher,
  projection,
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST, log }, () => ({
    ok: projection.healthy,
  })),
  {
    name: 'pusher',
    start: async () => void (pusher = setInterval(() => service.tick(), cfg.VIEWER_PUSH_TICK_MS)),
    stop: async () => clearInterval(pusher),
  },
  transport,
]);
stopAll = stop;
