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
});
