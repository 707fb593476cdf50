import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../config.ts';
import { loadSigningKey } from './signing-key.ts';

describe('the JWT signing key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signing-key-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'api-jwt.secret');

  it('is API_JWT_SECRET when set, wherever the service listens', () => {
    const key = loadSigningKey({ API_JWT_SECRET: 'x'.repeat(32), API_JWT_SECRET_FILE: file }, '0.0.0.0');
    assert.equal(new TextDecoder().decode(key), 'x'.repeat(32));
  });

  it('otherwise a local key file, shared by every process of this machine, for loopback only', () => {
    const first = loadSigningKey({ API_JWT_SECRET_FILE: file }, '127.0.0.1');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadSigningKey({ API_JWT_SECRET_FILE: file }, '::1'), first);
    assert.deepEqual(loadSigningKey({ API_JWT_SECRET_FILE: file }), first);
    for (const host of ['0.0.0.0', '10.0.0.5', '::']) {
      assert.throws(
        () => loadSigningKey({ API_JWT_SECRET_FILE: file }, host),
        (err: unknown) => err instanceof ConfigError && /API_JWT_SECRET: required when listening on/.test(err.message),
        host,
      );
    }
  });
});
