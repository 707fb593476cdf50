/**
 * HLS origin process: serves MEDIA_ROOT under /hls/<streamId>/ to the edges.
 *   npx tsx gateways/origin/main.ts
 */
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { runService } from '../../platform/service.ts';
import { loadOriginConfig } from './config.ts';
import { OriginServer } from './server.ts';

const cfg = loadOriginConfig();
const log = createLogger('origin', cfg.LOG_LEVEL);
const metrics = new Metrics('origin');
const origin = new OriginServer({
  host: cfg.ORIGIN_HOST,
  port: cfg.ORIGIN_PORT,
  mediaRoot: cfg.MEDIA_ROOT,
  cache: {
    masterMaxAgeS: cfg.ORIGIN_MASTER_MAX_AGE_S,
    playlistMaxAgeS: cfg.ORIGIN_PLAYLIST_MAX_AGE_S,
    vodMaxAgeS: cfg.ORIGIN_VOD_MAX_AGE_S,
    vodSettleS: cfg.ORIGIN_VOD_SETTLE_S,
    thumbnailMaxAgeS: cfg.ORIGIN_THUMBNAIL_MAX_AGE_S,
  },
  log,
  metrics,
});

await runService(log, [
  origin,
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({ ok: origin.healthy })),
]);
