/**
 * Viewer counter process: live.viewer.heartbeats joined with live.viewer.playback -> live.viewer.counts.
 *   npx tsx processors/viewer-counter/main.ts            the live counter
 *   npx tsx processors/viewer-counter/main.ts replay ...  rebuild and verify its peaks (npm run replay -- viewer-peaks)
 * Start order: the stream registry caught up (which streams ended, and the counts published so
 * far), metrics, then the counter's consumer group. Stop runs backwards.
 */
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { StreamRegistryProjection } from '../../domain/stream/projection.ts';
import { StreamRegistry } from '../../domain/stream/registry.ts';
import { loadViewerCounterConfig } from './config.ts';
import { CounterMetrics } from './metrics.ts';
import { viewerPeaks } from './peaks.ts';
import { ViewerCounterProcessor } from './processor.ts';
import { replayCommand } from '../../platform/store/replay-command.ts';

const cfg = loadViewerCounterConfig();
const log = createLogger('viewer-counter', cfg.LOG_LEVEL).child({ instance: cfg.VIEWER_COUNTER_INSTANCE_ID });
const metrics = new Metrics('viewer-counter');
const bus = busFromConfig(cfg, `viewer-counter-${cfg.VIEWER_COUNTER_INSTANCE_ID}`, metrics, log);
if (process.argv[2] === 'replay') {
  const store = viewerPeaks(cfg, { bus });
  process.exit(await replayCommand({ bus, log }, store, process.argv.slice(3), { deadlineMs: cfg.VIEWER_CATCHUP_MS }));
}
const registry = new StreamRegistry();
let stopAll: (reason: string) => Promise<void> = async () => undefined;
const onFatal = (err: Error): void => fatal(log, stopAll)(err);

const projection = new StreamRegistryProjection(bus, registry, {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}viewer-counter.${cfg.VIEWER_COUNTER_INSTANCE_ID}.registry`,
  catchUpDeadlineMs: cfg.VIEWER_CATCHUP_MS,
  onFatal,
});
const processor = new ViewerCounterProcessor(
  bus,
  {
    ended: (id) => registry.get(id)?.status === 'ended',
    lastPublished: (id) => registry.viewerStats(id),
  },
  {
    groupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.VIEWER_COUNTER_GROUP_ID}`,
    counter: {
      windowMs: cfg.VIEWER_WINDOW_MS,
      maxSkewMs: cfg.VIEWER_MAX_SKEW_MS,
      minEmitIntervalMs: cfg.VIEWER_MIN_EMIT_INTERVAL_MS,
      bufferingEmitIntervalMs: cfg.VIEWER_BUFFERING_EMIT_INTERVAL_MS,
    },
    rebuildMarginMs: cfg.VIEWER_REBUILD_MARGIN_MS,
    ...(cfg.VIEWER_REQUIRE_PLAYBACK && {
      playback: {
        groupId: `${cfg.LIVE_TOPIC_PREFIX}viewer-counter.${cfg.VIEWER_COUNTER_INSTANCE_ID}.playback`,
        catchUpDeadlineMs: cfg.VIEWER_CATCHUP_MS,
      },
    }),
    tickMs: cfg.VIEWER_TICK_MS,
    onFatal,
  },
  log,
  new CounterMetrics(metrics),
);

const { stop } = await runService(log, [
  projection,
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST, log }, () => ({
    ok: projection.healthy && processor.healthy,
  })),
  processor,
]);
stopAll = stop;
log.info('viewer counter started');
