import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../platform/config.ts';
import { loadIngestConfig, rtmpsListener } from './config.ts';

const problems = (env: Record<string, string>): string => {
  try {
    loadIngestConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n');
    throw err;
  }
  return '';
};

describe('ingest configuration', () => {
  it('listens on loopback unless told otherwise, and takes an address or host name to listen wider', () => {
    assert.equal(loadIngestConfig({}).INGEST_RTMP_HOST, '127.0.0.1');
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'ingest.internal']) {
      assert.equal(loadIngestConfig({ INGEST_RTMP_HOST: host }).INGEST_RTMP_HOST, host);
    }
    assert.match(problems({ INGEST_RTMP_HOST: 'rtmp://0.0.0.0' }), /INGEST_RTMP_HOST: an IP address/);
    assert.match(problems({ INGEST_RTMPS_HOST: '' }), /INGEST_RTMPS_HOST: an IP address/);
  });

  it('serves no RTMPS unless a port is given, and then needs both files, reported together', () => {
    assert.equal(rtmpsListener(loadIngestConfig({})), null);
    const missing = problems({ INGEST_RTMPS_PORT: '1936' });
    assert.match(missing, /INGEST_TLS_CERT_FILE: required when INGEST_RTMPS_PORT is set/);
    assert.match(missing, /INGEST_TLS_KEY_FILE: required when INGEST_RTMPS_PORT is set/);
    assert.match(problems({ INGEST_TLS_CERT_FILE: '/x.crt' }), /INGEST_RTMPS_PORT: must be set/);
    assert.match(problems({ INGEST_RTMPS_PORT: '1935' }), /INGEST_RTMPS_PORT: must differ from INGEST_RTMP_PORT/);
    assert.equal(loadIngestConfig({}).INGEST_AUTH_TIMEOUT_MS, 10_000);
  });

  it('holds a lease of 15 s renewed every 3 s, and refuses a ttl shorter than two renewals', () => {
    const cfg = loadIngestConfig({});
    assert.equal(cfg.INGEST_LEASE_INTERVAL_MS, 3000);
    assert.equal(cfg.INGEST_LEASE_TTL_MS, 15_000);
    assert.match(
      problems({ INGEST_LEASE_INTERVAL_MS: '5000', INGEST_LEASE_TTL_MS: '9000' }),
      /INGEST_LEASE_TTL_MS: must be at least twice INGEST_LEASE_INTERVAL_MS/,
    );
    assert.equal(problems({ INGEST_LEASE_INTERVAL_MS: '500', INGEST_LEASE_TTL_MS: '1000' }), '');
  });
});
