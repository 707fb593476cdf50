/**
 * Chat gateway process: WebSockets at /streams/:id/chat, fan-out from live.chat.messages.
 *   node --import tsx gateways/chat/main.ts
 * Start order: Cassandra (history reads; a missing cluster is tolerated), the producer, the stream
 * registry, the token revocations and the chat topic caught up, metrics, the sweeper, then the socket listener last, so
 * no client is served before this instance holds what the others show. Stop runs backwards.
 */
import { Cassandra } from '../../platform/cassandra.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { TimeUuidGenerator } from '../../platform/timeuuid.ts';
import { deleteConsumerGroup } from '../../platform/kafka/groups.ts';
import { StreamRegistryProjection } from '../../domain/stream/projection.ts';
import { StreamRegistry } from '../../domain/stream/registry.ts';
import { ChatHistoryReader } from '../../domain/chat/history.ts';
import { Authenticator } from '../../platform/auth/tokens.ts';
import { loadSigningKey, tokenSettings } from '../../platform/auth/signing-key.ts';
import { RevocationProjection } from '../../domain/users/revocation-projection.ts';
import { RevokedTokens } from '../../domain/users/revocation.ts';
import { loadChatGatewayConfig } from './config.ts';
import { ChatFanout } from './fanout.ts';
import { ChatMetrics } from './metrics.ts';
import { ChatService } from './service.ts';
import { CHAT_TICKET, Tickets } from '../../platform/auth/tickets.ts';
import { ChatTransport } from './transport.ts';

const cfg = loadChatGatewayConfig();
const log = createLogger('chat-gateway', cfg.LOG_LEVEL).child({ instance: cfg.CHAT_INSTANCE_ID });
const metrics = new Metrics('chat-gateway');
const chatMetrics = new ChatMetrics(metrics);
const bus = busFromConfig(cfg, `chat-gateway-${cfg.CHAT_INSTANCE_ID}`, metrics, log);
const db = new Cassandra(cfg);
const producer = bus.producer();
const registry = new StreamRegistry();
const jwtKey = loadSigningKey(cfg, cfg.CHAT_HOST);
let stopAll: (reason: string) => Promise<void> = async () => undefined;
const onFatal = (err: Error): void => fatal(log, stopAll)(err);
const groupBase = `${cfg.LIVE_TOPIC_PREFIX}chat-gateway.${cfg.CHAT_INSTANCE_ID}`;
// Per-user revocation (live.user.revocations): old tokens and tickets refused, open sockets closed.
const revoked = new RevokedTokens();
const isRevoked = (userId: string, issuedAt: number): boolean => revoked.isRevoked(userId, issuedAt);
const revocations = new RevocationProjection(bus, revoked, {
  groupId: `${groupBase}.revocations`,
  catchUpDeadlineMs: cfg.CHAT_CATCHUP_MS,
  onFatal,
  onRevoked: (e) => {
    const closed = transport.closeUser(e.userId);
    if (closed) log.info({ userId: e.userId, closed }, "closed a revoked user's sockets");
  },
});

const service = new ChatService(
  {
    streams: registry,
    archive: new ChatHistoryReader(db, cfg.CHAT_KEYSPACE),
    publish: (event) => producer.publish(bus.topic('chatMessages'), [event]),
    // The transport is built next; the service only broadcasts once the fan-out runs, after start.
    broadcast: (streamId, frame) => transport.broadcast(streamId, frame),
    ids: new TimeUuidGenerator(),
    clock: Date.now,
    log,
    metrics: chatMetrics,
  },
  {
    historyOnJoin: cfg.CHAT_HISTORY_ON_JOIN,
    recentPerStream: cfg.CHAT_RECENT_PER_STREAM,
    resumeMax: cfg.CHAT_RESUME_MAX,
    pageMax: cfg.CHAT_PAGE_MAX,
    retentionMs: cfg.CHAT_RETENTION_DAYS * 86_400_000,
    roomIdleMs: cfg.CHAT_ROOM_IDLE_MS,
    storeWaitMs: cfg.CHAT_STORE_WAIT_MS,
    commandWaitMs: cfg.CHAT_COMMAND_WAIT_MS,
    limits: {
      maxMessages: cfg.CHAT_RATE_MESSAGES,
      windowMs: cfg.CHAT_RATE_WINDOW_MS,
      duplicateWindowMs: cfg.CHAT_DUPLICATE_WINDOW_MS,
    },
    flood: { frames: cfg.CHAT_FLOOD_FRAMES, windowMs: cfg.CHAT_FLOOD_WINDOW_MS },
  },
);
const transport = new ChatTransport(
  service,
  new Tickets(CHAT_TICKET, jwtKey, cfg.CHAT_TICKET_TTL_S, { isRevoked }),
  new Authenticator(jwtKey, tokenSettings(cfg), isRevoked),
  {
    host: cfg.CHAT_HOST,
    port: cfg.CHAT_PORT,
    allowedOrigins: cfg.CHAT_ALLOWED_ORIGINS,
    maxFrameBytes: cfg.CHAT_MAX_FRAME_BYTES,
    hardMaxPayloadBytes: cfg.CHAT_HARD_MAX_PAYLOAD_BYTES,
    idleTimeoutSeconds: cfg.CHAT_IDLE_TIMEOUT_S,
    maxBackpressureBytes: cfg.CHAT_MAX_BACKPRESSURE_BYTES,
    maxConnections: cfg.CHAT_MAX_CONNECTIONS,
    maxConnectionsPerAddress: cfg.CHAT_MAX_CONNECTIONS_PER_ADDRESS,
    maxConnectionsPerUser: cfg.CHAT_MAX_CONNECTIONS_PER_USER,
    ticketsPerAddress: cfg.CHAT_TICKETS_PER_ADDRESS,
    ticketWindowSeconds: cfg.CHAT_TICKET_WINDOW_S,
    fanoutGroupSize: cfg.CHAT_FANOUT_GROUP_SIZE,
    fanoutGroupsPerTurn: cfg.CHAT_FANOUT_GROUPS_PER_TURN,
    pageDefault: cfg.CHAT_PAGE_DEFAULT,
  },
  log,
  chatMetrics,
);
const projection = new StreamRegistryProjection(bus, registry, {
  groupId: `${groupBase}.registry`,
  catchUpDeadlineMs: cfg.CHAT_CATCHUP_MS,
  onFatal,
});
const fanout = new ChatFanout(
  bus,
  (event) => service.apply(event),
  { groupId: `${groupBase}.fanout`, lookbackMs: cfg.CHAT_LOOKBACK_MS, catchUpDeadlineMs: cfg.CHAT_CATCHUP_MS, onFatal },
  log,
);
let sweeper: NodeJS.Timeout | undefined;

const { stop } = await runService(log, [
  {
    name: 'cassandra',
    start: async () => {
      // History and moderation reads retry on their own; a gateway without Cassandra still relays live chat.
      await db
        .connect(5000)
        .catch((err: unknown) => log.warn({ err }, 'cassandra unreachable at start; reads will retry'));
    },
    stop: () => db.shutdown(),
  },
  { name: 'producer', start: () => producer.connect(), stop: () => producer.disconnect() },
  {
    name: 'stream-registry',
    // Caught up side by side: both must be complete before a socket is served, neither needs the other.
    start: async () => void (await Promise.all([projection.start(), revocations.start()])),
    // The groups are this process's alone: nothing resumes them.
    stop: async () => {
      await revocations.stop();
      await projection.stop();
      await deleteConsumerGroup(bus, `${groupBase}.registry`, log);
    },
  },
  fanout,
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST, log }, () => ({
    ok: projection.healthy && fanout.healthy && revocations.healthy,
  })),
  {
    name: 'sweeper',
    start: async () => void (sweeper = setInterval(() => service.sweep(), 5000)),
    stop: async () => clearInterval(sweeper),
  },
  transport,
]);
stopAll = stop;
