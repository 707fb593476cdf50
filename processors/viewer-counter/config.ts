import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';

/** The viewer counter's configuration; the only reader of process.env for it. */

export const viewerWindowEnv = {
  /** A session counts while its latest heartbeat is younger than this (players beat every 10 s). */
  VIEWER_WINDOW_MS: env.int(30_000, 1000),
  /** How far a heartbeat's time may run ahead of its broker timestamp before it is pulled back. */
  VIEWER_MAX_SKEW_MS: env.int(5000, 0),
  /**
   * Count a session only while its player fetches media through an edge (live.viewer.playback,
   * issue #28): a socket that only beats adds nothing. Off counts every beating session.
   */
  VIEWER_REQUIRE_PLAYBACK: env.bool(true),
};

const schema = z.object({
  ...kafkaEnv,
  ...viewerWindowEnv,
  /** The counters' shared consumer group: instances split the heartbeat partitions. */
  VIEWER_COUNTER_GROUP_ID: env.str('viewer-counter'),
  /** Names this process's own stream-registry group; unique per process unless set. */
  VIEWER_COUNTER_INSTANCE_ID: env.instanceId(),
  /**
   * After an assignment, heartbeats are re-read from this long before the window: a restart within
   * it loses no peak (the re-read's first window only counts, it sets no peaks).
   */
  VIEWER_REBUILD_MARGIN_MS: env.int(30_000, 0),
  /** At most one count per stream per this long. */
  VIEWER_MIN_EMIT_INTERVAL_MS: env.int(1000, 100),
  /** A moved buffering ratio alone is published at most this often. */
  VIEWER_BUFFERING_EMIT_INTERVAL_MS: env.int(10_000, 1000),
  /** How often due counts are looked for. */
  VIEWER_TICK_MS: env.int(200, 20),
  VIEWER_CATCHUP_MS: env.int(120_000, 1000),
  METRICS_PORT: env.listenPort(9431),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type ViewerCounterConfig = z.infer<typeof schema>;

export const loadViewerCounterConfig = (source: NodeJS.ProcessEnv = process.env): ViewerCounterConfig =>
  loadConfig(schema, source);
