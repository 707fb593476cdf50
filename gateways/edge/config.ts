import { resolve } from 'node:path';
import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';
import { dataPath } from '../../platform/paths.ts';

/** The edge wrapper's configuration; the only reader of process.env for it. */
const schema = z.object({
  ...kafkaEnv,
  EDGE_HOST: env.str('127.0.0.1'),
  EDGE_PORT: env.port(8088),
  /** Tells edges apart in the X-Edge header and in their folder. */
  EDGE_NAME: env.str('edge-1'),
  /** Folder for nginx's config, pid, cache and temporary files (default .data/edge/<EDGE_NAME>). */
  EDGE_DIR: z.string().optional(),
  EDGE_WORKERS: env.int(1, 1),
  EDGE_CACHE_MAX_SIZE: env.str('2g'),
  /** The in-process collapser nginx sends its misses to, on 127.0.0.1; 0 picks a free port. */
  EDGE_COLLAPSER_PORT: env.listenPort(0),
  ORIGIN_HOST: env.str('127.0.0.1'),
  ORIGIN_PORT: env.port(8070),
  /**
   * Publish the players' media fetches (one ViewerPlayback per session and stream per interval) to
   * live.viewer.playback, which the viewer counter joins with heartbeats (issue #28). Off: no Kafka.
   */
  EDGE_PLAYBACK_EVENTS: env.bool(true),
  EDGE_PLAYBACK_FLUSH_MS: env.int(5000, 100),
  /** Sessions folded per interval; media requests of more are not reported (counted). */
  EDGE_PLAYBACK_MAX_SESSIONS: env.int(200_000, 1),
  /** An nginx binary to use instead of Debian's (found on PATH, installed if missing). */
  NGINX_BIN: z.string().optional(),
  METRICS_PORT: env.port(9456),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type EdgeConfig = z.infer<typeof schema>;

export const loadEdgeConfig = (source: NodeJS.ProcessEnv = process.env): EdgeConfig => loadConfig(schema, source);

export const edgeDir = (cfg: EdgeConfig): string => resolve(cfg.EDGE_DIR ?? dataPath('edge', cfg.EDGE_NAME));
