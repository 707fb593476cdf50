import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import { cassandraEnv } from '../../platform/cassandra.ts';
import { elasticsearchEnv, kafkaEnv } from '../../platform/infra-config.ts';
import { followsStoreEnv } from '../../domain/follows/schema.ts';
import { notificationsStoreEnv } from '../../domain/notifications/schema.ts';
import { chatStoreEnv } from '../../domain/chat/schema.ts';
import { discoveryEnv } from '../../domain/discovery/index-definition.ts';
import { signingKeyEnv } from '../../platform/auth/signing-key.ts';
import { DEFAULT_ENDED_CACHE_SIZE } from '../../domain/stream/registry.ts';
import { DEFAULT_WRITE_LIMITS as W, type WriteLimits } from './rate-limits.ts';

/** The API gateway's configuration (and the token CLI's); the only reader of process.env for them. */
const optionalUrl = z
  .string()
  .default('')
  .transform((s) => s || null)
  .pipe(z.url().nullable());

const schema = z.object({
  ...kafkaEnv,
  ...elasticsearchEnv,
  ...discoveryEnv,
  ...cassandraEnv,
  ...followsStoreEnv,
  ...notificationsStoreEnv,
  ...chatStoreEnv,
  /** How long an instance remembers its own follow decisions (refusing a double follow before the graph shows it). */
  API_FOLLOW_PENDING_MS: env.int(30_000, 0),
  API_HOST: env.str('127.0.0.1'),
  API_PORT: env.port(8080),
  /** Largest request body accepted; larger ones are answered 413 without being read. */
  API_MAX_BODY_BYTES: env.int(16 * 1024, 256),
  ...signingKeyEnv,
  /** Lifetime of tokens `npm run token` mints. */
  API_TOKEN_TTL_S: env.int(12 * 3600, 60),
  /** Streams one streamer may hold not yet ended; starting another is refused (409 too_many_open_streams). */
  API_MAX_OPEN_STREAMS: env.int(10, 1),
  /** How long a write waits for this instance's own registry to apply it before answering anyway. */
  API_READ_YOUR_WRITES_MS: env.int(5000, 0),
  /** How long start-up may take to load the registry from the topic. */
  API_REGISTRY_CATCHUP_MS: env.int(120_000, 1000),
  /**
   * Ended streams the registry keeps in memory (every stream not yet ended is always kept);
   * older ones are answered from the discovery index.
   */
  API_ENDED_STREAMS_CACHED: env.int(DEFAULT_ENDED_CACHE_SIZE, 100),
  /**
   * Write budgets (POST, PATCH, DELETE; rate-limits.ts), each `points` per `..._S` seconds, over
   * which a caller is answered 429 rate_limited with Retry-After: per user, per client address,
   * and stream starts on top (per user, per address).
   */
  API_RATE_USER_WRITES: env.int(W.perUser.points, 1),
  API_RATE_USER_WRITES_S: env.int(W.perUser.durationS, 1),
  API_RATE_ADDRESS_WRITES: env.int(W.perAddress.points, 1),
  API_RATE_ADDRESS_WRITES_S: env.int(W.perAddress.durationS, 1),
  API_RATE_USER_STARTS: env.int(W.startsPerUser.points, 1),
  API_RATE_USER_STARTS_S: env.int(W.startsPerUser.durationS, 1),
  API_RATE_ADDRESS_STARTS: env.int(W.startsPerAddress.points, 1),
  API_RATE_ADDRESS_STARTS_S: env.int(W.startsPerAddress.durationS, 1),
  /**
   * Comma-separated addresses of proxies in front of the API whose X-Forwarded-For is believed
   * for the per-address budgets. Empty (the default): the header is ignored and the connection's
   * peer is the client.
   */
  API_TRUSTED_PROXIES: env.optionalList(z.union([z.ipv4(), z.ipv6()])),
  /** Retry-After (seconds) on 503s. */
  API_RETRY_AFTER_S: env.int(5, 1),
  /** Streamers' encoders connect here; the stream key goes after it. */
  INGEST_RTMP_URL: z.url().default('rtmp://127.0.0.1:1935/live'),
  INGEST_RTMPS_URL: optionalUrl,
  /** WHIP: a browser or OBS publishes here with the stream key as its bearer token. */
  INGEST_WEBRTC_URL: optionalUrl,
  /** WHEP base for ultra-low streams (playback_urls.webrtc = <base>/<id>). */
  WEBRTC_PLAYBACK_URL: optionalUrl,
  /** Viewer-facing site (playback_url = <PUBLIC_BASE_URL>/streams/<id>). */
  PUBLIC_BASE_URL: z.url().default('http://127.0.0.1:8080'),
  /** Edge cache / origin serving HLS (<CDN_BASE_URL>/hls/<id>/master.m3u8). */
  CDN_BASE_URL: z.url().default('http://127.0.0.1:8088'),
  /** Chat gateway (<WS_BASE_URL>/streams/<id>/chat). */
  WS_BASE_URL: z.url().default('ws://127.0.0.1:8090'),
  /** Viewer presence gateway (<VIEWER_WS_BASE_URL>/streams/<id>/viewers), told to the web page. */
  VIEWER_WS_BASE_URL: z.url().default('ws://127.0.0.1:8091'),
  /** Notification push gateway (WebSocket /notifications and its ticket route), told to the web page. */
  NOTIFY_BASE_URL: z.url().default('http://127.0.0.1:8092'),
  /** The web page's build (web/dist), served at /. */
  WEB_DIST_DIR: env.str('web/dist'),
  /** Prometheus the operator dashboard reads (GET /api/v1/admin/dashboard); unset: that route answers 503. */
  API_PROMETHEUS_URL: optionalUrl,
  /** Development identities: POST /api/v1/dev/token mints a token for any name (dev-token.ts). Local use only. */
  API_DEV_SIGN_IN: env.bool(false),
  METRICS_PORT: env.port(9400),
  METRICS_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
});

export type ApiConfig = z.infer<typeof schema>;

export const loadApiConfig = (source: NodeJS.ProcessEnv = process.env): ApiConfig => loadConfig(schema, source);

/** The write budgets as the gateway takes them. */
export const writeLimitsOf = (cfg: ApiConfig): WriteLimits => ({
  perUser: { points: cfg.API_RATE_USER_WRITES, durationS: cfg.API_RATE_USER_WRITES_S },
  perAddress: { points: cfg.API_RATE_ADDRESS_WRITES, durationS: cfg.API_RATE_ADDRESS_WRITES_S },
  startsPerUser: { points: cfg.API_RATE_USER_STARTS, durationS: cfg.API_RATE_USER_STARTS_S },
  startsPerAddress: { points: cfg.API_RATE_ADDRESS_STARTS, durationS: cfg.API_RATE_ADDRESS_STARTS_S },
  trustedProxies: cfg.API_TRUSTED_PROXIES,
});
