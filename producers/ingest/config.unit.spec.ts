import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../platform/config.ts';
import { loadIngestConfig } from './config.ts';

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
  });
});
