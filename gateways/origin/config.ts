import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { DEFAULT_MEDIA_ROOT } from '../../domain/media/layout.ts';
import { DEFAULT_CACHE_POLICY } from '../../domain/media/hls-paths.ts';

/** The origin's configuration; the only reader of process.env for it. */
const schema = z.object({
  /** What the origin serves: segments and thumbnails from the workers, playlists from the packager. */
  MEDIA_ROOT: env.str(DEFAULT_MEDIA_ROOT),
  ORIGIN_HOST: env.str('127.0.0.1'),
  ORIGIN_PORT: env.port(8070),
  /** Cache lifetimes (s) the origin announces; segments are always immutable. */
  ORIGIN_MASTER_MAX_AGE_S: env.int(DEFAULT_CACHE_POLICY.masterMaxAgeS, 0),
  ORIGIN_PLAYLIST_MAX_AGE_S: env.int(DEFAULT_CACHE_POLICY.playlistMaxAgeS, 0),
  ORIGIN_VOD_MAX_AGE_S: env.int(DEFAULT_CACHE_POLICY.vodMaxAgeS, 0),
  ORIGIN_VOD_SETTLE_S: env.int(DEFAULT_CACHE_POLICY.vodSettleS, 0),
  ORIGIN_THUMBNAIL_MAX_AGE_S: env.int(DEFAULT_CACHE_POLICY.thumbnailMaxAgeS, 0),
  METRICS_PORT: env.port(9453),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type OriginConfig = z.infer<typeof schema>;

export const loadOriginConfig = (source: NodeJS.ProcessEnv = process.env): OriginConfig => loadConfig(schema, source);
