/**
 * Notifications push gateway: WebSockets at /notifications; every instance reads all of
 * live.notifications and pushes each to the recipient's sockets here.
 *   node --import tsx gateways/notifications/main.ts
 * Start order: the token revocations caught up, the feed (pinned at the topic's end), metrics, then the listener. Stop runs back.
 */
import { Counter, Gauge } from 'prom-client';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { Authenticator } from '../../platform/auth/tokens.ts';
import { loadSigningKey, tokenSettings } from '../../platform/auth/signing-key.ts';
import { RevocationProjection } from '../../domain/users/revocation-projection.ts';
import { RevokedTokens } from '../../domain/users/revocation.ts';
import { loadPushGatewayConfig } from './config.ts';
import { NotificationFeed } from './feed.ts';
import { RecentIds, notificationFrame } from './protocol.ts';
import { PUSH_TICKET, Tickets } from '../../platform/auth/tickets.ts';
import { PushTransport } from './transport.ts';

const cfg = loadPushGatewayConfig();
const log = createLogger('push-gateway', cfg.LOG_LEVEL).child({ instance: cfg.NOTIFY_INSTANCE_ID });
const metrics = new Metrics('push-gateway');
const bus = busFromConfig(cfg, `push-gateway-${cfg.NOTIFY_INSTANCE_ID}`, metrics, log);
const jwtKey = loadSigningKey(cfg, cfg.NOTIFY_HOST);
let stopAll: (reason: string) => Promise<void> = async () => undefined;
// Per-user revocation (live.user.revocations): a revoked user's old tokens and tickets open nothing.
const revoked = new RevokedTokens();
const isRevoked = (userId: string, issuedAt: number): boolean => revoked.isRevoked(userId, issuedAt);
const revocations = new RevocationProjection(bus, revoked, {
  groupId: `${cfg.LIVE_TOPIC_PREFIX}push-gateway.${cfg.NOTIFY_INSTANCE_ID}.revocations`,
  catchUpDeadlineMs: 120_000,
  onFatal: (err) => fatal(log, stopAll)(err),
});

const transport = new PushTransport(
  new Tickets(PUSH_TICKET, jwtKey, cfg.NOTIFY_TICKET_TTL_S, { isRevoked }),
  new Authenticator(jwtKey, tokenSettings(cfg), isRevoked),
  {
    host: cfg.NOTIFY_HOST,
    port: cfg.NOTIFY_PORT,
    allowedOrigins: cfg.NOTIFY_ALLOWED_ORIGINS,
    idleTimeoutSeconds: cfg.NOTIFY_IDLE_TIMEOUT_S,
    maxBackpressureBytes: cfg.NOTIFY_MAX_BACKPRESSURE_BYTES,
    maxConnections: cfg.NOTIFY_MAX_CONNECTIONS,
    maxConnectionsPerAddress: cfg.NOTIFY_MAX_CONNECTIONS_PER_ADDRESS,
    maxConnectionsPerUser: cfg.NOTIFY_MAX_CONNECTIONS_PER_USER,
    ticketsPerAddress: cfg.NOTIFY_TICKETS_PER_ADDRESS,
    ticketWindowSeconds: cfg.NOTIFY_TICKET_WINDOW_S,
  },
  log,
);
const pushed = new Counter({
  name: 'live_push_notifications_total',
  help: 'Notifications pushed to at least one socket on this instance',
  registers: [metrics.registry],
});
new Gauge({
  name: 'live_push_connections',
  help: 'Open push sockets',
  registers: [metrics.registry],
  collect() {
    this.set(transport.connections);
  },
});
new Gauge({
  name: 'live_push_upgrades_in_progress',
  help: 'WebSocket upgrades admitted to a connection slot and not yet open (ticket check)',
  registers: [metrics.registry],
  collect() {
    this.set(transport.upgrading);
  },
});
const recent = new RecentIds(cfg.NOTIFY_DEDUPE_IDS);
const feed = new NotificationFeed(
  bus,
  (n) => {
    if (recent.firstTime(n.notificationId) && transport.push(n.recipientId, notificationFrame(n))) pushed.inc();
  },
  {
    groupId: `${cfg.LIVE_TOPIC_PREFIX}push-gateway.${cfg.NOTIFY_INSTANCE_ID}`,
    onFatal: (err) => fatal(log, stopAll)(err),
  },
  log,
);

const { stop } = await runService(log, [
  revocations,
  feed,
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({
    ok: feed.healthy && revocations.healthy,
  })),
  transport,
]);
stopAll = stop;
