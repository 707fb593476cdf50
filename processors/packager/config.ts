import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';
import { DEFAULT_MEDIA_ROOT } from '../../domain/media/layout.ts';

/** The packager's (and its rebuild's) configuration; the only reader of process.env for them. */
const schema = z.object({
  ...kafkaEnv,
  /** Origin storage: workers write segments here, the packager playlists, the origin serves it. */
  MEDIA_ROOT: env.str(DEFAULT_MEDIA_ROOT),
  /** Shared by all packager instances: they split the partitions (a stream is on one of them). */
  PACKAGER_GROUP_ID: env.str('packager'),
  /**
   * Segments in a live media playlist. HLS wants at least three target durations listed; six
   * 2-second segments give players 12 s to join and rejoin without a 404.
   */
  PACKAGER_WINDOW_SEGMENTS: env.int(6, 3),
  /**
   * How far back viewers can rewind a live stream (the seed's DVR: 2 hours), through the DVR
   * playlists beside the live ones; 0 writes none. The media stays on disk for the whole broadcast
   * anyway (it is the recording), so the window costs playlist size, not storage.
   */
  PACKAGER_DVR_WINDOW_S: env.int(7200, 0),
  /** How long the media of an ended stream that was not recorded stays, for players that were behind. */
  PACKAGER_UNRECORDED_KEEP_S: env.int(300, 0),
  /** How long the media of a recording its streamer deleted stays (the grace period; default a day). */
  PACKAGER_DELETED_KEEP_S: env.int(86_400, 0),
  /** How often the media root is swept for such streams. */
  PACKAGER_RETENTION_EVERY_S: env.int(60, 1),
  /** How long a rebuild may take to reach the end of the topics before it gives up. */
  PACKAGER_REBUILD_DEADLINE_MS: env.int(30 * 60_000, 1000),
  METRICS_PORT: env.port(9455),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type PackagerConfig = z.infer<typeof schema>;

export const loadPackagerConfig = (source: NodeJS.ProcessEnv = process.env): PackagerConfig =>
  loadConfig(schema, source);
