import type { Runtime } from '../platform/runtime.ts';

/**
 * The platform's long-running services as `./live up` starts them: entry point, environment
 * (derived from the server endpoints) and the port of their /metrics and /healthz.
 */
export interface ServiceDef {
  name: string;
  entry: string;
  /** The Node.js it runs on (platform/runtime.ts): the machine's unless its libraries need Node 24. */
  runtime?: Runtime;
  env: Record<string, string>;
  metricsPort: number;
  /** Where a person reaches it, for the `up` summary. */
  url?: string;
}

export function platformServices(endpoints: Record<string, string>): ServiceDef[] {
  const shared = { ...endpoints, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };
  // RTMPS is off unless whoever runs `./live up` names a port and a certificate (INGEST_RTMPS_PORT,
  // INGEST_TLS_CERT_FILE, INGEST_TLS_KEY_FILE reach ingest with the rest of the environment);
  // then the API tells streamers its URL instead of `"rtmps": null`.
  const rtmpsPort = process.env.INGEST_RTMPS_PORT;
  const rtmpsUrl = rtmpsPort ? (process.env.INGEST_RTMPS_URL ?? `rtmps://127.0.0.1:${rtmpsPort}/live`) : undefined;
  return [
    {
      name: 'discovery-indexer',
      entry: 'processors/discovery-indexer/main.ts',
      env: { ...shared, METRICS_PORT: '9410' },
      metricsPort: 9410,
    },
    {
      name: 'chat-archiver',
      entry: 'sinks/chat-archiver/main.ts',
      env: { ...shared, METRICS_PORT: '9421' },
      metricsPort: 9421,
    },
    {
      // Every topic to Parquet under .data/archive (#27); `npm run sql` reads it.
      name: 'archive',
      entry: 'sinks/archive/main.ts',
      env: { ...shared, METRICS_PORT: '9460' },
      metricsPort: 9460,
    },
    {
      name: 'chat-gateway',
      entry: 'gateways/chat/main.ts',
      env: { ...shared, METRICS_PORT: '9420', CHAT_PORT: '8090' },
      metricsPort: 9420,
      url: 'ws://127.0.0.1:8090/streams/<id>/chat',
    },
    {
      name: 'viewer-gateway',
      entry: 'gateways/viewer/main.ts',
      env: { ...shared, METRICS_PORT: '9430', VIEWER_PORT: '8091' },
      metricsPort: 9430,
      url: 'ws://127.0.0.1:8091/streams/<id>/viewers',
    },
    {
      name: 'viewer-counter',
      entry: 'processors/viewer-counter/main.ts',
      env: { ...shared, METRICS_PORT: '9431' },
      metricsPort: 9431,
    },
    {
      name: 'follows-sink',
      entry: 'sinks/follows/main.ts',
      env: { ...shared, METRICS_PORT: '9441' },
      metricsPort: 9441,
    },
    {
      name: 'notifications-sink',
      entry: 'sinks/notifications/main.ts',
      env: { ...shared, METRICS_PORT: '9443' },
      metricsPort: 9443,
    },
    {
      name: 'notifier',
      entry: 'processors/notifier/main.ts',
      env: { ...shared, METRICS_PORT: '9442' },
      metricsPort: 9442,
    },
    {
      name: 'push-gateway',
      entry: 'gateways/notifications/main.ts',
      env: { ...shared, METRICS_PORT: '9440', NOTIFY_PORT: '8092' },
      metricsPort: 9440,
      url: 'ws://127.0.0.1:8092/notifications',
    },
    {
      name: 'ingest',
      entry: 'producers/ingest/main.ts',
      // node-rtsp-rtmp-server's RTMP handshake creates an RC4 cipher: OpenSSL 3 has it only in the legacy provider.
      env: { ...shared, METRICS_PORT: '9450', INGEST_RTMP_PORT: '1935', NODE_OPTIONS: '--openssl-legacy-provider' },
      metricsPort: 9450,
      url: `rtmp://127.0.0.1:1935/live/<stream key>${rtmpsUrl ? `, ${rtmpsUrl}/<stream key>` : ''}`,
    },
    {
      // Ends the streams of an ingest node that stopped renewing its lease (#24): apart from ingest,
      // so it works when the lost node was the only one.
      name: 'ingest-watchdog',
      entry: 'processors/ingest-watchdog/main.ts',
      env: { ...shared, METRICS_PORT: '9459' },
      metricsPort: 9459,
    },
    {
      name: 'webrtc',
      entry: 'gateways/webrtc/main.ts',
      runtime: 'node24',
      env: { ...shared, METRICS_PORT: '9458', WEBRTC_PORT: '8095' },
      metricsPort: 9458,
      url: 'http://127.0.0.1:8095/whip (WHIP, stream key as bearer token), /whep/<id> (WHEP)',
    },
    {
      name: 'media-worker',
      entry: 'media/worker/main.ts',
      env: { ...shared, METRICS_PORT: '9451' },
      metricsPort: 9451,
    },
    {
      name: 'packager',
      entry: 'processors/packager/main.ts',
      env: { ...shared, METRICS_PORT: '9455' },
      metricsPort: 9455,
    },
    {
      name: 'origin',
      entry: 'gateways/origin/main.ts',
      env: { ...shared, METRICS_PORT: '9453', ORIGIN_PORT: '8070' },
      metricsPort: 9453,
      url: 'http://127.0.0.1:8070/hls/<id>/master.m3u8',
    },
    {
      name: 'edge',
      entry: 'gateways/edge/main.ts',
      env: { ...shared, METRICS_PORT: '9456', EDGE_PORT: '8088', ORIGIN_PORT: '8070' },
      metricsPort: 9456,
      url: 'http://127.0.0.1:8088/hls/<id>/master.m3u8',
    },
    {
      name: 'cdn-prefetcher',
      entry: 'processors/cdn-prefetcher/main.ts',
      env: { ...shared, METRICS_PORT: '9454', EDGE_URLS: 'http://127.0.0.1:8088' },
      metricsPort: 9454,
    },
    {
      name: 'api',
      entry: 'gateways/api/main.ts',
      // Local platform: the web page's sign-in form mints development identities (dev-token.ts).
      env: {
        ...shared,
        METRICS_PORT: '9400',
        API_PORT: '8080',
        API_DEV_SIGN_IN: 'true',
        // The operator dashboard reads the Prometheus `./live up` starts beside the servers.
        ...(endpoints.PROMETHEUS_URL && { API_PROMETHEUS_URL: endpoints.PROMETHEUS_URL }),
        INGEST_WEBRTC_URL: 'http://127.0.0.1:8095/whip',
        WEBRTC_PLAYBACK_URL: 'http://127.0.0.1:8095/whep',
        ...(rtmpsUrl && { INGEST_RTMPS_URL: rtmpsUrl }),
      },
      metricsPort: 9400,
      url: 'http://127.0.0.1:8080 (web page; API under /api/v1)',
    },
    {
      // Last: it creates its stream through the API above and publishes to ingest.
      name: 'demo-broadcast',
      entry: 'media/demo/main.ts',
      env: { ...shared, METRICS_PORT: '9457', DEMO_API_URL: 'http://127.0.0.1:8080' },
      metricsPort: 9457,
    },
  ];
}
