/**
 * Packager process: live.media.segments + live.stream.lifecycle -> HLS playlists under MEDIA_ROOT,
 * and live.vod.recordings when a recorded stream ends.
 *   npx tsx src/processors/packager/main.ts
 */
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { loadPackagerConfig } from './config.ts';
import { Packager } from './packager.ts';
import { PackagerStorage } from './storage.ts';

const cfg = loadPackagerConfig();
const log = createLogger('packager', cfg.LOG_LEVEL);
const metrics = new Metrics('packager');
const bus = busFromConfig(cfg, 'packager', metrics, log);
let stopAll: (reason: string) => Promise<void> = async () => undefined;

const packager = new Packager(bus, new PackagerStorage(cfg.MEDIA_ROOT, cfg.MEDIA_ROOT), log, {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.PACKAGER_GROUP_ID}`,
  windowSize: cfg.PACKAGER_WINDOW_SEGMENTS,
  announce: true,
  fromBeginning: true,
  onFatal: (err) => fatal(log, stopAll)(err),
});

log.info({ mediaRoot: cfg.MEDIA_ROOT }, 'packaging into media root');
const { stop } = await runService(log, [
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({ ok: packager.healthy })),
  packager,
]);
stopAll = stop;
