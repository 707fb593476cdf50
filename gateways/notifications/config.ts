import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';
import { signingKeyEnv } from '../../platform/auth/signing-key.ts';

/** The push gateway's configuration; the only reader of process.env for it. */
const schema = z.object({
  ...kafkaEnv,
  NOTIFY_HOST: env.str('127.0.0.1'),
  /** WebSocket and the ticket route on one port; 0 picks a free one (logged). */
  NOTIFY_PORT: env.listenPort(8092),
  NOTIFY_ALLOWED_ORIGINS: env.list('http://127.0.0.1:8080,http://localhost:8080'),
  /** Names this process's consumer group; unique per process unless set. */
  NOTIFY_INSTANCE_ID: env.instanceId(),
  ...signingKeyEnv,
  /** Seconds a ticket lasts; each opens one socket (single-use per instance, platform/auth/tickets.ts). */
  NOTIFY_TICKET_TTL_S: env.int(30, 5),
  NOTIFY_IDLE_TIMEOUT_S: env.int(120, 8),
  NOTIFY_MAX_BACKPRESSURE_BYTES: env.int(256 * 1024, 1024),
  /** Sockets this instance holds at once, upgrades in progress included. */
  NOTIFY_MAX_CONNECTIONS: env.int(50_000, 1),
  /**
   * Sockets (and upgrades in progress) per remote address, IPv6 per /64, and per user; over either,
   * the upgrade is refused with 503 too_many_connections. The address is the TCP peer's: behind a
   * proxy that hides it, raise the per-address limit.
   */
  NOTIFY_MAX_CONNECTIONS_PER_ADDRESS: env.int(20, 1),
  NOTIFY_MAX_CONNECTIONS_PER_USER: env.int(10, 1),
  /** Tickets (POST /api/v1/notifications/tickets) per remote address per window; past it, 429 with Retry-After. */
  NOTIFY_TICKETS_PER_ADDRESS: env.int(30, 1),
  NOTIFY_TICKET_WINDOW_S: env.int(60, 1),
  /** Notification ids remembered to push each only once per process. */
  NOTIFY_DEDUPE_IDS: env.int(200_000, 1),
  METRICS_PORT: env.listenPort(9440),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type PushGatewayConfig = z.infer<typeof schema>;

export const loadPushGatewayConfig = (source: NodeJS.ProcessEnv = process.env): PushGatewayConfig =>
  loadConfig(schema, source);
