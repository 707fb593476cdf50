/**
 * WebRTC gateway: WHIP ingest (a browser or OBS publishes; the broadcast reaches the RTMP ingest
 * and the transcoding ladder through a copy bridge) and WHEP playback of ultra-low streams (a
 * selective forwarding unit). Runs on Node 24 (werift asks for 22+); see README.
 *   compose/node24/node_modules/.bin/node --import tsx gateways/webrtc/main.ts
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DEBIAN_TOOLS, ensureDebianTools } from '../../platform/debian.ts';
import { probe } from '../../platform/ffmpeg.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { StreamRegistryProjection } from '../../domain/stream/projection.ts';
import { StreamRegistry } from '../../domain/stream/registry.ts';
import { loadWebRtcConfig } from './config.ts';
import { WebRtcGateway } from './gateway.ts';
import { WebRtcHttp } from './http.ts';
import { WebRtcMetrics } from './metrics.ts';
import { PlaybackReporter } from '../../domain/viewers/playback-reporter.ts';

const cfg = loadWebRtcConfig();
const log = createLogger('webrtc', cfg.LOG_LEVEL);
const metrics = new Metrics('webrtc');
const bus = busFromConfig(cfg, 'webrtc', metrics, log);
const registry = new StreamRegistry();
let stopAll: (reason: string) => Promise<void> = async () => undefined;
const gateway = new WebRtcGateway({
  lookupByKeyHash: (h) => registry.byStreamKeyHash(h),
  stream: (id) => registry.get(id),
  probe: (url) => probe(url, 5),
  ice: {
    address: cfg.WEBRTC_ICE_ADDRESS,
    announce: cfg.WEBRTC_ICE_ANNOUNCE,
    portRange: cfg.WEBRTC_UDP_PORT_MAX > 0 ? [cfg.WEBRTC_UDP_PORT_MIN, cfg.WEBRTC_UDP_PORT_MAX] : null,
  },
  ingestRtmpUrl: cfg.WEBRTC_INGEST_RTMP_URL,
  ingestPullUrl: cfg.WEBRTC_INGEST_PULL_URL,
  maxPublishers: cfg.WEBRTC_MAX_PUBLISHERS,
  maxViewers: cfg.WEBRTC_MAX_VIEWERS,
  maxViewersPerStream: cfg.WEBRTC_MAX_VIEWERS_PER_STREAM,
  sessionsPerAddress: cfg.WEBRTC_SESSIONS_PER_ADDRESS,
  connectTimeoutMs: cfg.WEBRTC_CONNECT_TIMEOUT_MS,
  keyframeIntervalMs: cfg.WEBRTC_KEYFRAME_INTERVAL_MS,
  bridgeLingerMs: cfg.WEBRTC_BRIDGE_LINGER_MS,
  log,
  metrics: new WebRtcMetrics(metrics),
});
// WHEP viewers' playback evidence, as the edge reports HLS players' (docs/viewers.md).
const producer = bus.producer();
const playback = new PlaybackReporter({
  edge: `webrtc-${hostname()}`,
  metricPrefix: 'live_webrtc_playback',
  flushMs: cfg.WEBRTC_PLAYBACK_FLUSH_MS,
  maxSessions: cfg.WEBRTC_MAX_VIEWERS,
  beforeFlush: (now) => {
    for (const d of gateway.takeDeliveries(now)) playback.delivered(d.streamId, d.sessionId, now, d.packets, d.bytes);
  },
  send: (events) => producer.publish(bus.topic('viewerPlayback'), events),
  log,
  metrics,
});
const projection = new StreamRegistryProjection(bus, registry, {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}webrtc.stream-registry.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`,
  catchUpDeadlineMs: 60_000,
  onFatal: (err) => fatal(log, stopAll)(err),
  onLifecycle: (event) => gateway.onLifecycle(event),
});
const http = new WebRtcHttp(gateway, {
  host: cfg.WEBRTC_HOST,
  port: cfg.WEBRTC_PORT,
  corsOrigins: cfg.WEBRTC_CORS_ORIGINS,
  offersPerAddressPerMin: cfg.WEBRTC_OFFERS_PER_ADDRESS_PER_MIN,
  log,
});

const { stop } = await runService(log, [
  {
    name: 'tools',
    start: async () => {
      ensureDebianTools([DEBIAN_TOOLS.ffmpeg, DEBIAN_TOOLS.ffprobe], {
        info: (m) => log.info(m),
        warn: (m) => log.warn(m),
      });
    },
    stop: async () => undefined,
  },
  {
    name: 'playback-producer',
    start: async () => {
      await bus.init(['viewerPlayback']);
      await producer.connect();
    },
    stop: () => producer.disconnect(),
  },
  playback,
  projection,
  {
    name: 'http',
    start: async () => {
      gateway.start();
      const port = await http.start();
      log.info({ port, host: cfg.WEBRTC_HOST, iceAddress: cfg.WEBRTC_ICE_ADDRESS }, 'webrtc listening');
    },
    stop: async () => {
      await gateway.shutdown();
      await http.stop();
    },
  },
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({
    ok: projection.healthy && gateway.healthy,
  })),
]);
stopAll = stop;
