import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';

/** The push gateway's configuration; the only reader of process.env for it. */
const port = (def: number) => z.coerce.number().int().min(0).max(65535).default(def);

const schema = z.object({
  ...kafkaEnv,
  NOTIFY_HOST: env.str('127.0.0.1'),
  /** WebSocket and the ticket route on one port; 0 picks a free one (logged). */
  NOTIFY_PORT: port(8092),
  NOTIFY_ALLOWED_ORIGINS: env.list('http://127.0.0.1:8080,http://localhost:8080'),
  /** Names this process's consumer group; unique per process unless set. */
  NOTIFY_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .default(() => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`),
  API_JWT_SECRET: z.string().min(32).optional(),
  API_JWT_SECRET_FILE: env.str('.data/api-jwt.secret'),
  API_JWT_ISSUER: env.str('live-platform'),
  API_JWT_AUDIENCE: env.str('live-api'),
  NOTIFY_TICKET_TTL_S: env.int(30, 5),
  NOTIFY_IDLE_TIMEOUT_S: env.int(120, 8),
  NOTIFY_MAX_BACKPRESSURE_BYTES: env.int(256 * 1024, 1024),
  NOTIFY_MAX_CONNECTIONS: env.int(50_000, 1),
  /** Notification ids remembered to push each only once per process. */
  NOTIFY_DEDUPE_IDS: env.int(200_000, 1),
  METRICS_PORT: port(9440),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type PushGatewayConfig = z.infer<typeof schema>;

export const loadPushGatewayConfig = (source: NodeJS.ProcessEnv = process.env): PushGatewayConfig =>
  loadConfig(schema, source);
