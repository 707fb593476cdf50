import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';

/** The viewer gateway's configuration; the only reader of process.env for it. */
const schema = z.object({
  ...kafkaEnv,
  VIEWER_HOST: env.str('127.0.0.1'),
  /** Player presence WebSocket; 0 picks a free one (logged). */
  VIEWER_PORT: env.listenPort(8091),
  /**
   * Browser origins allowed to open the socket (the web app's, as for chat); '*' allows any.
   * Clients that send no Origin are not browsers and pass, but still meet the per-address cap.
   */
  VIEWER_ALLOWED_ORIGINS: env.list('http://127.0.0.1:8080,http://localhost:8080'),
  /** Names this process's consumer group and its heartbeats' gatewayId; unique per process unless set. */
  VIEWER_INSTANCE_ID: env.instanceId(),
  /** Told to players in the welcome frame. */
  VIEWER_HEARTBEAT_INTERVAL_MS: env.int(10_000, 100),
  /** A connection's heartbeats closer together than this are dropped (and counted). */
  VIEWER_MIN_BEAT_INTERVAL_MS: env.int(5000, 0),
  /** Frames of any kind per connection per window before it is closed with 1008. */
  VIEWER_FLOOD_FRAMES: env.int(20, 2),
  VIEWER_FLOOD_WINDOW_MS: env.int(10_000, 1000),
  /** A stream's players get its count on every change and at least this often. */
  VIEWER_PUSH_EVERY_MS: env.int(5000, 100),
  /** How often changed counts are looked for. */
  VIEWER_PUSH_TICK_MS: env.int(200, 20),
  VIEWER_MAX_FRAME_BYTES: env.int(1024, 128),
  VIEWER_IDLE_TIMEOUT_S: env.int(60, 8),
  VIEWER_MAX_BACKPRESSURE_BYTES: env.int(64 * 1024, 1024),
  VIEWER_MAX_CONNECTIONS: env.int(100_000, 1),
  /**
   * Sockets one address may hold at once, upgrades in progress included (a household never meets
   * it; a NAT or carrier-grade NAT in front of many players may need more). Beyond it: 429.
   */
  VIEWER_MAX_CONNECTIONS_PER_ADDRESS: env.int(20, 1),
  VIEWER_LINGER_MS: env.int(20, 0),
  VIEWER_MAX_BATCH: env.int(2000, 1),
  VIEWER_MAX_QUEUED: env.int(200_000, 100),
  VIEWER_CATCHUP_MS: env.int(120_000, 1000),
  METRICS_PORT: env.listenPort(9430),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type ViewerGatewayConfig = z.infer<typeof schema>;

export const loadViewerGatewayConfig = (source: NodeJS.ProcessEnv = process.env): ViewerGatewayConfig =>
  loadConfig(schema, source);
