import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kafkaSecurityOf } from './security.ts';

describe('kafka client security from the environment', () => {
  it('nothing set: plaintext', () => {
    assert.deepEqual(kafkaSecurityOf({}), {});
  });

  it('SCRAM over TLS with a private CA', () => {
    const read = (f: string) => `PEM of ${f}`;
    assert.deepEqual(
      kafkaSecurityOf(
        {
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: 'live',
          KAFKA_SASL_PASSWORD: 'secret',
          KAFKA_TLS: true,
          KAFKA_TLS_CA_FILE: '/secrets/ca.pem',
        },
        read,
      ),
      {
        sasl: { mechanism: 'scram-sha-512', username: 'live', password: 'secret' },
        tls: { ca: 'PEM of /secrets/ca.pem' },
      },
    );
  });

  it('refuses half a setting, plain passwords without TLS and an unreadable CA, naming each', () => {
    assert.throws(() => kafkaSecurityOf({ KAFKA_SASL_USERNAME: 'live' }), /set all three or none/);
    assert.throws(
      () => kafkaSecurityOf({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }),
      /set KAFKA_TLS=true/,
    );
    assert.throws(
      () =>
        kafkaSecurityOf({ KAFKA_TLS: true, KAFKA_TLS_CA_FILE: '/nope' }, () => {
          throw new Error('ENOENT');
        }),
      /cannot read \/nope/,
    );
  });
});
