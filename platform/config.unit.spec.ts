import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, env, loadConfig } from './config.ts';

const schema = z.object({
  HTTP_PORT: env.port(8080),
  KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  STRICT: env.bool(false),
  JWT_SECRET: z.string().min(32),
});

describe('loadConfig', () => {
  it('applies defaults and parses values', () => {
    const c = loadConfig(schema, { KAFKA_BROKERS: 'a:1, b:2', STRICT: 'yes', JWT_SECRET: 'x'.repeat(32) });
    assert.deepEqual(c, { HTTP_PORT: 8080, KAFKA_BROKERS: ['a:1', 'b:2'], STRICT: true, JWT_SECRET: 'x'.repeat(32) });
  });

  it('reports every bad variable at once and never echoes a secret', () => {
    assert.throws(
      () => loadConfig(schema, { HTTP_PORT: '70000', STRICT: 'maybe', JWT_SECRET: 'short-secret' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 3);
        assert.match(err.message, /HTTP_PORT/);
        assert.match(err.message, /STRICT/);
        assert.match(err.message, /JWT_SECRET.*\[redacted\]/);
        assert.doesNotMatch(err.message, /short-secret/);
        return true;
      },
    );
  });

  it('lets a listening port be 0 (the kernel picks) and gives each process its own instance id', () => {
    const listening = z.object({ METRICS_PORT: env.listenPort(9420), INSTANCE_ID: env.instanceId() });
    assert.equal(loadConfig(listening, { METRICS_PORT: '0' }).METRICS_PORT, 0);
    assert.equal(loadConfig(listening, {}).METRICS_PORT, 9420);
    const a = loadConfig(listening, {}).INSTANCE_ID;
    const b = loadConfig(listening, {}).INSTANCE_ID;
    assert.match(a, new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
    assert.notEqual(a, b);
    assert.throws(
      () => loadConfig(listening, { METRICS_PORT: '65536', INSTANCE_ID: 'has space' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(
          err.problems.map((p) => p.split(':')[0]),
          ['METRICS_PORT', 'INSTANCE_ID'],
        );
        return true;
      },
    );
  });
});
