import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';
import { RENDITION_NAMES } from '../ladder.ts';
import { REPO_ROOT } from '../../platform/paths.ts';

const repoRoot = REPO_ROOT;

/** The media worker's configuration; the only reader of process.env for it. */
const schema = z.object({
  ...kafkaEnv,
  /** Origin storage: `<MEDIA_ROOT>/<streamId>/…` (shared with the packager and origin). */
  MEDIA_ROOT: env.str(resolve(repoRoot, '.data', 'media')),
  /** auto: h264_nvenc when an NVIDIA GPU can encode, else libx264. */
  MEDIA_ENCODER: z.enum(['auto', 'libx264', 'h264_nvenc']).default('auto'),
  /** auto: NVDEC decode and scale_cuda when an NVIDIA GPU can (also without NVENC), else the CPU. */
  MEDIA_DECODER: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  MEDIA_X264_PRESET: z
    .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'])
    .default('veryfast'),
  /** Rungs this deployment may produce (a small box can drop the costly ones). */
  MEDIA_LADDER: env.list(RENDITION_NAMES.join(',')).pipe(z.array(z.enum(RENDITION_NAMES))),
  /**
   * LL-HLS part length per tier, rounded to whole frames. Players sit three parts behind the live
   * edge (PART-HOLD-BACK), so the part is most of the low tier's budget; shorter parts mean more
   * requests per viewer and more events (docs/media.md).
   */
  MEDIA_PART_MS_STANDARD: env.int(333, 100),
  MEDIA_PART_MS_LOW: env.int(200, 100),
  MEDIA_THUMBNAIL_EVERY_S: env.int(10, 1),
  /** How long an ended broadcast's ffmpeg may take to encode what it already received before it is stopped. */
  MEDIA_DRAIN_TIMEOUT_S: env.int(60, 0),
  /** A source taller than this (pixels) or faster than MEDIA_MAX_SOURCE_FPS is refused (TranscodeRefused OVER_LIMITS). */
  MEDIA_MAX_SOURCE_HEIGHT: env.int(2160, 1),
  MEDIA_MAX_SOURCE_FPS: env.int(120, 1),
  /** Threads per video encoder; 0: the encoder's own choice (about one per core). Caps what one stream can take. */
  MEDIA_FFMPEG_THREADS: env.int(0, 0),
  /**
   * After a ladder change, how long before a dropped rung may come back (doubled at every drop, up
   * to 8x): the hysteresis that keeps a stream from flapping between ladders (media/capacity.ts).
   */
  MEDIA_LADDER_HOLD_DOWN_S: env.int(30, 1),
  /** How often the worker publishes its load on live.media.capacity when nothing changed. */
  MEDIA_CAPACITY_EVERY_S: env.int(10, 1),
  /** A live source silent for this long ends the ffmpeg run (it is restarted while the stream is live). */
  MEDIA_STALL_TIMEOUT_S: env.int(10, 1),
  /** Workers sharing this group split the streams by lifecycle partition. */
  MEDIA_WORKER_GROUP_ID: env.str('media-worker'),
  MEDIA_WORKER_ID: env.str(`media-worker-${hostname()}-${process.pid}`),
  /** How long start-up may take to read the lifecycle topic. */
  MEDIA_CATCHUP_MS: env.int(120_000, 1000),
  METRICS_PORT: env.listenPort(9451),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type WorkerConfig = z.infer<typeof schema>;

export const loadWorkerConfig = (source: NodeJS.ProcessEnv = process.env): WorkerConfig => loadConfig(schema, source);
