import type { ApiSettings } from '../../gateways/api/gateway.ts';
import { uniqueName } from './isolation.ts';

/** An in-process API's settings for a spec: a free loopback port, its own groups, example links. */
export function testApiSettings(name: string, discoveryAlias = uniqueName(name)): ApiSettings {
  return {
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 16 * 1024,
    registryGroupId: uniqueName(`${name}-api`),
    registryCatchUpMs: 60_000,
    readYourWritesMs: 10_000,
    discoveryAlias,
    retryAfterS: 5,
    token: { issuer: 'live-platform', audience: 'live-api' },
    links: {
      publicBaseUrl: 'https://example.test',
      cdnBaseUrl: 'https://cdn.example.test',
      wsBaseUrl: 'wss://ws.example.test',
      ingest: { rtmp: 'rtmp://ingest.example.test/live', rtmps: null, webrtc: null },
      whepBaseUrl: null,
    },
  };
}
