/**
 * HTTP API gateway process: the stream lifecycle API and discovery search.
 *   npx tsx gateways/api/main.ts
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Cassandra } from '../../platform/cassandra.ts';
import { createElasticsearch } from '../../platform/elasticsearch/client.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, metricsComponent } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { loadApiConfig, writeLimitsOf } from './config.ts';
import { apiGateway } from './gateway.ts';
import { FollowGraph } from '../../domain/follows/graph.ts';
import { Inbox } from '../../domain/notifications/inbox.ts';
import { loadSigningKey, tokenSettings } from '../../platform/auth/signing-key.ts';
import { PrometheusClient } from '../../platform/prometheus.ts';
import { chatMinutes } from '../../domain/chat/history.ts';

const cfg = loadApiConfig();
const log = createLogger('api', cfg.LOG_LEVEL);
const metrics = new Metrics('api');
const bus = busFromConfig(cfg, 'api', metrics, log);
const es = createElasticsearch({ url: cfg.ELASTICSEARCH_URL, requestTimeoutMs: 5000 });
// Follower graph and inbox reads; the follows and notifications sinks create the tables.
const db = new Cassandra(cfg);
const signingKey = loadSigningKey(cfg, cfg.API_HOST);
let stopAll: (reason: string) => Promise<void> = async () => undefined;

const api = apiGateway({
  ...(cfg.API_PROMETHEUS_URL && { prometheus: new PrometheusClient(cfg.API_PROMETHEUS_URL) }),
  // The chat archiver writes the per-minute stats; until it has, a stream has no chat minutes.
  chatMinutes: (streamId, sinceMs) => chatMinutes(db, cfg.CHAT_KEYSPACE, streamId, sinceMs),
  bus,
  es,
  signingKey,
  log,
  metrics,
  onFatal: (err) => fatal(log, stopAll)(err),
  users: {
    graph: new FollowGraph(db, cfg.FOLLOWS_KEYSPACE),
    inbox: new Inbox(db, cfg.NOTIFICATIONS_KEYSPACE, cfg.NOTIFICATIONS_RETENTION_DAYS * 86_400),
    pendingMs: cfg.API_FOLLOW_PENDING_MS,
  },
  web: {
    distDir: cfg.WEB_DIST_DIR,
    client: {
      chatApiBaseUrl: cfg.WS_BASE_URL,
      viewersWsBaseUrl: cfg.VIEWER_WS_BASE_URL,
      notificationsBaseUrl: cfg.NOTIFY_BASE_URL,
      cdnBaseUrl: cfg.CDN_BASE_URL,
      devSignIn: cfg.API_DEV_SIGN_IN,
      webrtcUrls: [cfg.INGEST_WEBRTC_URL, cfg.WEBRTC_PLAYBACK_URL].filter((u): u is string => !!u),
    },
  },
  ...(cfg.API_DEV_SIGN_IN && {
    devSignIn: {
      key: signingKey,
      token: tokenSettings(cfg),
      ttlSeconds: cfg.API_TOKEN_TTL_S,
      host: cfg.API_HOST,
      port: cfg.API_PORT,
    },
  }),
  settings: {
    host: cfg.API_HOST,
    port: cfg.API_PORT,
    maxBodyBytes: cfg.API_MAX_BODY_BYTES,
    writeLimits: writeLimitsOf(cfg),
    endedStreamsCached: cfg.API_ENDED_STREAMS_CACHED,
    registryGroupId: `${cfg.LIVE_TOPIC_PREFIX}api.stream-registry.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`,
    registryCatchUpMs: cfg.API_REGISTRY_CATCHUP_MS,
    readYourWritesMs: cfg.API_READ_YOUR_WRITES_MS,
    maxOpenStreams: cfg.API_MAX_OPEN_STREAMS,
    discoveryAlias: cfg.DISCOVERY_ALIAS,
    retryAfterS: cfg.API_RETRY_AFTER_S,
    token: tokenSettings(cfg),
    links: {
      publicBaseUrl: cfg.PUBLIC_BASE_URL,
      cdnBaseUrl: cfg.CDN_BASE_URL,
      wsBaseUrl: cfg.WS_BASE_URL,
      ingest: { rtmp: cfg.INGEST_RTMP_URL, rtmps: cfg.INGEST_RTMPS_URL, webrtc: cfg.INGEST_WEBRTC_URL },
      whepBaseUrl: cfg.WEBRTC_PLAYBACK_URL ?? null,
    },
  },
});

const { stop } = await runService(log, [
  { name: 'elasticsearch-client', start: async () => undefined, stop: () => es.close() },
  { name: 'cassandra', start: () => db.connect(), stop: () => db.shutdown() },
  ...api.components,
  metricsComponent(metrics, { port: cfg.METRICS_PORT, host: cfg.METRICS_HOST }, () => ({ ok: api.healthy() })),
]);
stopAll = stop;
