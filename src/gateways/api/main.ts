/**
 * HTTP API gateway process: the stream lifecycle API and discovery search.
 *   npx tsx src/gateways/api/main.ts
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createElasticsearch } from '../../platform/elasticsearch.ts';
import { busFromConfig } from '../../platform/infra-config.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics, serveMetrics } from '../../platform/metrics.ts';
import { fatal, runService } from '../../platform/service.ts';
import { loadApiConfig } from './config.ts';
import { apiGateway } from './gateway.ts';
import { loadSigningKey } from './signing-key.ts';

const cfg = loadApiConfig();
const log = createLogger('api', cfg.LOG_LEVEL);
const metrics = new Metrics('api');
const bus = busFromConfig(cfg, 'api', metrics, log);
const es = createElasticsearch({ url: cfg.ELASTICSEARCH_URL, requestTimeoutMs: 5000 });
let stopAll: (reason: string) => Promise<void> = async () => undefined;

const api = apiGateway({
  bus,
  es,
  signingKey: loadSigningKey(cfg),
  log,
  metrics,
  onFatal: (err) => fatal(log, stopAll)(err),
  settings: {
    host: cfg.API_HOST,
    port: cfg.API_PORT,
    maxBodyBytes: cfg.API_MAX_BODY_BYTES,
    registryGroupId: `${cfg.LIVE_TOPIC_PREFIX}api.stream-registry.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`,
    registryCatchUpMs: cfg.API_REGISTRY_CATCHUP_MS,
    readYourWritesMs: cfg.API_READ_YOUR_WRITES_MS,
    discoveryAlias: cfg.DISCOVERY_ALIAS,
    retryAfterS: cfg.API_RETRY_AFTER_S,
    token: { issuer: cfg.API_JWT_ISSUER, audience: cfg.API_JWT_AUDIENCE },
    links: {
      publicBaseUrl: cfg.PUBLIC_BASE_URL,
      cdnBaseUrl: cfg.CDN_BASE_URL,
      wsBaseUrl: cfg.WS_BASE_URL,
      ingest: { rtmp: cfg.INGEST_RTMP_URL, rtmps: cfg.INGEST_RTMPS_URL, webrtc: cfg.INGEST_WEBRTC_URL },
    },
  },
});
let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;

const { stop } = await runService(log, [
  { name: 'elasticsearch-client', start: async () => undefined, stop: () => es.close() },
  ...api.components,
  {
    name: 'metrics',
    start: async () => {
      metricsServer = await serveMetrics(metrics, cfg.METRICS_PORT, cfg.METRICS_HOST, () => ({ ok: api.healthy() }));
    },
    stop: async () => void metricsServer?.close(),
  },
]);
stopAll = stop;
