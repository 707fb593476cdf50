/**
 * Edge cache process: nginx in front of the origin, with its hit ratio on /metrics.
 *   npx tsx gateways/edge/main.ts
 * Run several (EDGE_NAME, EDGE_PORT, METRICS_PORT apart) for several edges; list them all in the
 * CDN prefetcher's EDGE_URLS.
 */
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { edgeDir, loadEdgeConfig } from './config.ts';
import { EdgeServer } from './edge.ts';
import { nginxBinary } from './nginx-bin.ts';

const cfg = loadEdgeConfig();
const log = createLogger('edge', cfg.LOG_LEVEL);
const metrics = new Metrics('edge');
let stopAll: (reason: string) => Promise<void> = async () => undefined;

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
});

const { stop } = await runService(log, [
  edge,
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({ ok: edge.healthy })),
]);
stopAll = stop;
