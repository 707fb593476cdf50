/**
 * RTMP ingest process: rtmp://<host>:1935/live/<stream key> (and rtmps:// when configured)
 * -> StreamWentLive / StreamEnded.
 *   NODE_OPTIONS=--openssl-legacy-provider npx tsx producers/ingest/main.ts
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DEBIAN_TOOLS, ensureDebianTools } from '../../platform/debian.ts';
import { probe } from '../../platform/ffmpeg.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { StreamRegistryProjection } from '../../domain/stream/projection.ts';
import { StreamRegistry } from '../../domain/stream/registry.ts';
import { loadIngestConfig, rtmpsListener } from './config.ts';
import { Ingest } from './ingest.ts';
import { IngestLeaseKeeper } from './lease.ts';
import { APP, RtmpIngestServer } from './rtmp-server.ts';

const cfg = loadIngestConfig();
const rtmps = rtmpsListener(cfg);
const log = createLogger('ingest', cfg.LOG_LEVEL);
const metrics = new Metrics('ingest');
const bus = busFromConfig(cfg, 'ingest', metrics, log);
const registry = new StreamRegistry();
let stopAll: (reason: string) => Promise<void> = async () => undefined;
const projection = new StreamRegistryProjection(bus, registry, {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}ingest.stream-registry.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`,
  catchUpDeadlineMs: cfg.INGEST_REGISTRY_CATCHUP_MS,
  onFatal: (err) => fatal(log, stopAll)(err),
  onLifecycle: (event) => ingest.onLifecycle(event),
});
let producer: EventProducer | undefined;
let port = cfg.INGEST_RTMP_PORT;
const pullBase = (): string => cfg.INGEST_PULL_BASE_URL ?? `rtmp://127.0.0.1:${port}/${APP}`;
const pullAllowed = new Set(cfg.INGEST_PULL_ALLOW);

const ingest = new Ingest({
  lookupByKeyHash: (h) => registry.byStreamKeyHash(h),
  streamStatus: (id) => registry.get(id)?.status,
  publish: (events) => producer!.publish(bus.topic('streamLifecycle'), events),
  probe: (url) => probe(url, cfg.INGEST_PROBE_TIMEOUT_S),
  disconnect: (id) => server.disconnect(id),
  streamGone: (id) => server.endStream(id),
  pullUrl: (id) => `${pullBase()}/${id}`,
  ingestNode: cfg.INGEST_NODE_ID,
  mediaTimeoutMs: cfg.INGEST_MEDIA_TIMEOUT_MS,
  reconnectGraceMs: cfg.INGEST_RECONNECT_GRACE_MS,
  log,
  metrics,
});
const server = new RtmpIngestServer(
  {
    authorizePublish: (id, key, remote) => ingest.authorizePublish(id, key, remote),
    mayPull: (remote) => pullAllowed.has(remote),
    // Only streams published here, and only for the internal network.
    authorizePlay: (name, remote) =>
      pullAllowed.has(remote) && name.startsWith(`${APP}/`) && ingest.isPublishing(name.slice(APP.length + 1)),
    onMetadata: (id, meta) => ingest.onMetadata(id, meta),
    onMedia: (id, packet) => ingest.onMedia(id, packet),
    onUnpublish: (id) => ingest.onUnpublish(id),
    onClose: (id) => ingest.onClose(id),
    log,
  },
  { idleSessionTimeoutMs: cfg.INGEST_IDLE_SESSION_TIMEOUT_MS, authTimeoutMs: cfg.INGEST_AUTH_TIMEOUT_MS },
);
// Started before the listener, stopped after it: a publisher is only ever accepted under a lease.
const lease = new IngestLeaseKeeper({
  nodeId: cfg.INGEST_NODE_ID,
  intervalMs: cfg.INGEST_LEASE_INTERVAL_MS,
  ttlMs: cfg.INGEST_LEASE_TTL_MS,
  publish: (leases) => producer!.publish(bus.topic('ingestLeases'), leases),
  log,
  metrics,
});
let sweeper: NodeJS.Timeout | undefined;

const { stop } = await runService(log, [
  {
    name: 'tools',
    start: async () => {
      ensureDebianTools([DEBIAN_TOOLS.ffprobe], { info: (m) => log.info(m), warn: (m) => log.warn(m) });
    },
    stop: async () => undefined,
  },
  {
    name: 'producer',
    start: async () => {
      await bus.init(['streamLifecycle', 'ingestLeases']);
      producer = bus.producer();
      await producer.connect();
    },
    stop: async () => {
      await ingest.drain();
      await producer?.disconnect();
    },
  },
  projection,
  lease,
  {
    name: 'orphans',
    start: async () => void ingest.adoptOrphans(),
    stop: async () => undefined,
  },
  {
    name: 'rtmp',
    start: async () => {
      port = await server.start(cfg.INGEST_RTMP_PORT, cfg.INGEST_RTMP_HOST);
      sweeper = setInterval(() => ingest.sweep(), 500);
      log.info({ port, host: cfg.INGEST_RTMP_HOST, pullBase: pullBase() }, 'rtmp listening');
      if (rtmps) {
        const tlsPort = await server.startTls(rtmps.port, rtmps.host, { cert: rtmps.cert, key: rtmps.key });
        log.info({ port: tlsPort, host: rtmps.host }, 'rtmps listening');
      }
    },
    stop: async () => {
      clearInterval(sweeper);
      ingest.shutdown();
      await server.stop();
      await ingest.drain();
    },
  },
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST, log }, () => ({
    ok: projection.healthy,
  })),
]);
stopAll = stop;
