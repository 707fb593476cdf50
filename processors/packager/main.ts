/**
 * Packager process: live.media.segments + live.stream.lifecycle -> HLS playlists under MEDIA_ROOT,
 * and live.vod.recordings when a recorded stream ends; deletes the media of ended streams that were
 * not recorded.
 *   npx tsx processors/packager/main.ts            the live packager
 *   npx tsx processors/packager/main.ts replay ...  a rebuild (npm run replay -- playlists)
 */
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { runStore } from '../../platform/store/run.ts';
import { loadPackagerConfig } from './config.ts';
import { playlistsStore } from './definition.ts';
import { UnrecordedMediaRetention } from './retention.ts';
import { PackagerStorage } from './storage.ts';

const cfg = loadPackagerConfig();
const log = createLogger('packager', cfg.LOG_LEVEL);
const metrics = new Metrics('packager');
const bus = busFromConfig(cfg, 'packager', metrics, log);

await runStore({ bus, log, metrics }, playlistsStore(cfg, { bus, log }), {
  metricsAt: { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST },
  replayDeadlineMs: cfg.PACKAGER_REBUILD_DEADLINE_MS,
  extra: [
    new UnrecordedMediaRetention(new PackagerStorage(cfg.MEDIA_ROOT, cfg.MEDIA_ROOT), log, metrics, {
      keepMs: cfg.PACKAGER_UNRECORDED_KEEP_S * 1000,
      deletedKeepMs: cfg.PACKAGER_DELETED_KEEP_S * 1000,
      everyMs: cfg.PACKAGER_RETENTION_EVERY_S * 1000,
    }),
  ],
});
