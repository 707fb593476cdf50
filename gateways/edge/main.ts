/**
 * Edge cache process: nginx in front of the origin, with its hit ratio on /metrics, and the
 * players' media fetches as playback events on live.viewer.playback (EDGE_PLAYBACK_EVENTS).
 *   npx tsx gateways/edge/main.ts
 * Run several (EDGE_NAME, EDGE_PORT, METRICS_PORT apart) for several edges; list them all in the
 * CDN prefetcher's EDGE_URLS.
 */
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { edgeDir, loadEdgeConfig } from './config.ts';
import { EdgeServer } from './edge.ts';
import { nginxBinary } from './nginx-bin.ts';
import { PlaybackReporter } from '../../domain/viewers/playback-reporter.ts';

const cfg = loadEdgeConfig();
const log = createLogger('edge', cfg.LOG_LEVEL);
const metrics = new Metrics('edge');
let stopAll: (reason: string) => Promise<void> = async () => undefined;

const bus = cfg.EDGE_PLAYBACK_EVENTS ? busFromConfig(cfg, `edge-${cfg.EDGE_NAME}`, metrics, log) : undefined;
const producer = bus?.producer();
const playback =
  bus &&
  producer &&
  new PlaybackReporter({
    edge: cfg.EDGE_NAME,
    metricPrefix: 'live_edge_playback',
    flushMs: cfg.EDGE_PLAYBACK_FLUSH_MS,
    maxSessions: cfg.EDGE_PLAYBACK_MAX_SESSIONS,
    send: (events) => producer.publish(bus.topic('viewerPlayback'), events),
    log,
    metrics,
  });
/** The producer, connected before the edge serves and disconnected after its last flush. */
const kafka: Component[] = producer
  ? [
      {
        name: 'edge-playback-producer',
        start: async () => {
          await bus!.init(['viewerPlayback']);
          await producer.connect();
        },
        stop: () => producer.disconnect(),
      },
    ]
  : [];

const edge = new EdgeServer({
  nginx: nginxBinary(cfg.NGINX_BIN, log),
  dir: edgeDir(cfg),
  host: cfg.EDGE_HOST,
  port: cfg.EDGE_PORT,
  name: cfg.EDGE_NAME,
  origin: { host: cfg.ORIGIN_HOST, port: cfg.ORIGIN_PORT },
  collapserPort: cfg.EDGE_COLLAPSER_PORT,
  workers: cfg.EDGE_WORKERS,
  cacheMaxSize: cfg.EDGE_CACHE_MAX_SIZE,
  log,
  metrics,
  onExit: (err) => fatal(log, stopAll)(err),
  ...(playback && { onAccess: (e) => playback.fetched({ ...e, at: Math.round(e.at * 1000) }) }),
});

const { stop } = await runService(log, [
  ...kafka,
  ...(playback ? [playback] : []),
  edge,
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({ ok: edge.healthy })),
]);
stopAll = stop;
