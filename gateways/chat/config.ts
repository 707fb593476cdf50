import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { cassandraEnv } from '../../platform/cassandra.ts';
import { kafkaEnv } from '../../platform/infra-config.ts';
import { chatStoreEnv } from '../../domain/chat/schema.ts';
import { signingKeyEnv } from '../../platform/auth/signing-key.ts';

/** The chat gateway's configuration; the only reader of process.env for it. */
const schema = z.object({
  ...kafkaEnv,
  ...cassandraEnv,
  ...chatStoreEnv,
  CHAT_HOST: env.str('127.0.0.1'),
  /** WebSocket and HTTP on one port; 0 picks a free one (logged). The API's WS_BASE_URL points here. */
  CHAT_PORT: env.listenPort(8090),
  /** Browser origins allowed to open chat or get tickets; '*' allows any. Clients that send no Origin are not browsers and pass. */
  CHAT_ALLOWED_ORIGINS: env.list('http://127.0.0.1:8080,http://localhost:8080'),
  /** Names this process's consumer groups; unique per process unless set. */
  CHAT_INSTANCE_ID: env.instanceId(),
  ...signingKeyEnv,
  /** Seconds a ticket lasts; each opens one socket (single-use per instance, platform/auth/tickets.ts). */
  CHAT_TICKET_TTL_S: env.int(30, 5),
  /** Largest text frame handled; a larger one closes the socket with 1009. */
  CHAT_MAX_FRAME_BYTES: env.int(4096, 256),
  /** uWS drops a connection sending a frame larger than this without reading it. */
  CHAT_HARD_MAX_PAYLOAD_BYTES: env.int(16 * 1024, 1024),
  /** Seconds without traffic before uWS closes a socket; it pings idle clients first. */
  CHAT_IDLE_TIMEOUT_S: env.int(120, 8),
  /** Unsent bytes a socket may hold before it is dropped as too slow. */
  CHAT_MAX_BACKPRESSURE_BYTES: env.int(256 * 1024, 1024),
  /** Sockets this instance holds at once, upgrades in progress included. */
  CHAT_MAX_CONNECTIONS: env.int(50_000, 1),
  /**
   * Sockets (and upgrades in progress) per remote address, IPv6 per /64, and per signed-in user;
   * over either, the upgrade is refused with 503 too_many_connections. The address is the TCP
   * peer's: behind a proxy that hides it, raise the per-address limit.
   */
  CHAT_MAX_CONNECTIONS_PER_ADDRESS: env.int(20, 1),
  CHAT_MAX_CONNECTIONS_PER_USER: env.int(10, 1),
  /** Tickets (POST .../chat/tickets) per remote address per window; past it, 429 with Retry-After. */
  CHAT_TICKETS_PER_ADDRESS: env.int(30, 1),
  CHAT_TICKET_WINDOW_S: env.int(60, 1),
  /**
   * The fan-out gives a stream's frames to groups of this many readers, this many groups per
   * event-loop turn, so pending I/O (the Kafka consumer, other sockets) waits at most one turn.
   */
  CHAT_FANOUT_GROUP_SIZE: env.int(256, 1),
  CHAT_FANOUT_GROUPS_PER_TURN: env.int(1, 1),
  CHAT_RATE_MESSAGES: env.int(20, 1),
  CHAT_RATE_WINDOW_MS: env.int(30_000, 1000),
  CHAT_DUPLICATE_WINDOW_MS: env.int(30_000, 0),
  /** Frames of any kind per connection per window before it is closed with 1008. */
  CHAT_FLOOD_FRAMES: env.int(40, 5),
  CHAT_FLOOD_WINDOW_MS: env.int(10_000, 1000),
  CHAT_HISTORY_ON_JOIN: env.int(50, 1),
  CHAT_RECENT_PER_STREAM: env.int(200, 50),
  CHAT_RESUME_MAX: env.int(500, 50),
  CHAT_PAGE_DEFAULT: env.int(50, 1),
  CHAT_PAGE_MAX: env.int(100, 1),
  /** How far back in the topic a starting instance begins, to hold what was sent while it was down. */
  CHAT_LOOKBACK_MS: env.int(120_000, 0),
  CHAT_ROOM_IDLE_MS: env.int(600_000, 1000),
  /** How long a join waits on Cassandra before answering from what this instance holds. */
  CHAT_STORE_WAIT_MS: env.int(2000, 100),
  /** How long a command waits for the stream's bans and moderators before it is refused as unavailable. */
  CHAT_COMMAND_WAIT_MS: env.int(10_000, 100),
  CHAT_CATCHUP_MS: env.int(120_000, 1000),
  METRICS_PORT: env.listenPort(9420),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type ChatGatewayConfig = z.infer<typeof schema>;

export const loadChatGatewayConfig = (source: NodeJS.ProcessEnv = process.env): ChatGatewayConfig =>
  loadConfig(schema, source);
