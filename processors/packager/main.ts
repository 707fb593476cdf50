/**
 * Packager process: live.media.segments + live.stream.lifecycle -> HLS playlists under MEDIA_ROOT,
 * and live.vod.recordings when a recorded stream ends; deletes the media of ended streams that were
 * not recorded.
 *   npx tsx processors/packager/main.ts
 */
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { loadPackagerConfig } from './config.ts';
import { Packager } from './packager.ts';
import { UnrecordedMediaRetention } from './retention.ts';
import { PackagerStorage } from './storage.ts';

const cfg = loadPackagerConfig();
const log = createLogger('packager', cfg.LOG_LEVEL);
const metrics = new Metrics('packager');
const bus = busFromConfig(cfg, 'packager', metrics, log);
let stopAll: (reason: string) => Promise<void> = async () => undefined;

const storage = new PackagerStorage(cfg.MEDIA_ROOT, cfg.MEDIA_ROOT);
const packager = new Packager(bus, storage, log, {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.PACKAGER_GROUP_ID}`,
  windowSize: cfg.PACKAGER_WINDOW_SEGMENTS,
  announce: true,
  from: 'earliest',
  onFatal: (err) => fatal(log, stopAll)(err),
});

log.info({ mediaRoot: cfg.MEDIA_ROOT }, 'packaging into media root');
const { stop } = await runService(log, [
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({ ok: packager.healthy })),
  packager,
  new UnrecordedMediaRetention(storage, log, metrics, {
    keepMs: cfg.PACKAGER_UNRECORDED_KEEP_S * 1000,
    everyMs: cfg.PACKAGER_RETENTION_EVERY_S * 1000,
  }),
]);
stopAll = stop;
