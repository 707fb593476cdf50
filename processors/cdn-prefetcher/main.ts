/**
 * CDN prefetcher process: live.media.segments -> a GET of each new part, segment and init section through every edge.
 *   npx tsx processors/cdn-prefetcher/main.ts
 */
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { loadPrefetcherConfig } from './config.ts';
import { CdnPrefetcher } from './prefetcher.ts';

const cfg = loadPrefetcherConfig();
const log = createLogger('cdn-prefetcher', cfg.LOG_LEVEL);
const metrics = new Metrics('cdn-prefetcher');
const bus = busFromConfig(cfg, 'cdn-prefetcher', metrics, log);
let stopAll: (reason: string) => Promise<void> = async () => undefined;

const prefetcher = new CdnPrefetcher(bus, log, {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.CDN_PREFETCH_GROUP_ID}`,
  edges: cfg.EDGE_URLS,
  timeoutMs: cfg.CDN_PREFETCH_TIMEOUT_MS,
  maxAgeMs: cfg.CDN_PREFETCH_MAX_AGE_MS,
  concurrency: cfg.CDN_PREFETCH_CONCURRENCY,
  onFatal: (err) => fatal(log, stopAll)(err),
});

log.info({ edges: cfg.EDGE_URLS }, 'warming edges');
const { stop } = await runService(log, [
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({
    ok: prefetcher.healthy,
  })),
  prefetcher,
]);
stopAll = stop;
