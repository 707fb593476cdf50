/**
 * Media worker process: live streams of its lifecycle partitions -> ffmpeg ladder -> PartReady, SegmentReady,
 * RenditionLadder and ThumbnailReady on live.media.segments; its load (WorkerCapacity) on live.media.capacity.
 *   npx tsx media/worker/main.ts
 */
import { mkdirSync } from 'node:fs';
import { DEBIAN_TOOLS, ensureDebianTools } from '../../platform/debian.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { detectMediaPath, ffmpegLauncher, systemGpuCheck } from '../../platform/ffmpeg.ts';
import { loadWorkerConfig } from './config.ts';
import { MediaWorker } from './worker.ts';

const cfg = loadWorkerConfig();
const log = createLogger('media-worker', cfg.LOG_LEVEL);
const metrics = new Metrics('media-worker');
const bus = busFromConfig(cfg, 'media-worker', metrics, log);
let stopAll: (reason: string) => Promise<void> = async () => undefined;
let worker: MediaWorker | undefined;

const { stop } = await runService(
  log,
  [
    {
      name: 'worker',
      start: async () => {
        const tools = ensureDebianTools([DEBIAN_TOOLS.ffmpeg, DEBIAN_TOOLS.ffprobe], {
          info: (m) => log.info(m),
          warn: (m) => log.warn(m),
        });
        const { encoder, decoder, reason } = detectMediaPath(
          { encoder: cfg.MEDIA_ENCODER, decoder: cfg.MEDIA_DECODER },
          systemGpuCheck(tools.ffmpeg),
        );
        log.info(
          { encoder, decoder, reason, mediaRoot: cfg.MEDIA_ROOT, workerId: cfg.MEDIA_WORKER_ID },
          'media path chosen',
        );
        mkdirSync(cfg.MEDIA_ROOT, { recursive: true });
        worker = new MediaWorker(bus, log, {
          groupId: `${cfg.LIVE_TOPIC_PREFIX}${cfg.MEDIA_WORKER_GROUP_ID}`,
          workerId: cfg.MEDIA_WORKER_ID,
          mediaRoot: cfg.MEDIA_ROOT,
          encoder,
          decoder,
          x264Preset: cfg.MEDIA_X264_PRESET,
          ladder: cfg.MEDIA_LADDER,
          drainTimeoutMs: cfg.MEDIA_DRAIN_TIMEOUT_S * 1000,
          partTargets: { standardMs: cfg.MEDIA_PART_MS_STANDARD, lowMs: cfg.MEDIA_PART_MS_LOW },
          sourceLimits: { maxHeight: cfg.MEDIA_MAX_SOURCE_HEIGHT, maxFrameRate: cfg.MEDIA_MAX_SOURCE_FPS },
          thumbnailEveryS: cfg.MEDIA_THUMBNAIL_EVERY_S,
          stallTimeoutS: cfg.MEDIA_STALL_TIMEOUT_S,
          catchUpDeadlineMs: cfg.MEDIA_CATCHUP_MS,
          ffmpegPath: ffmpegLauncher(tools.ffmpeg),
          threads: cfg.MEDIA_FFMPEG_THREADS,
          ladderHoldDownMs: cfg.MEDIA_LADDER_HOLD_DOWN_S * 1000,
          capacityEveryMs: cfg.MEDIA_CAPACITY_EVERY_S * 1000,
          onFatal: (err) => fatal(log, stopAll)(err),
        });
        await worker.start();
        log.info({}, 'media worker started');
      },
      stop: async () => worker?.stop(),
    },
    metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({
      ok: worker?.healthy ?? false,
      detail: { transcoding: worker?.transcoding ?? [] },
    })),
  ],
  { shutdownDeadlineMs: 30_000 },
);
stopAll = stop;
