import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../config.ts';
import { z } from 'zod';
import { loadSigningKey, signingKeyEnv, tokenSettings } from './signing-key.ts';

describe('the JWT signing key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signing-key-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'api-jwt.secret');
  const refused = (pattern: RegExp) => (err: unknown) => err instanceof ConfigError && pattern.test(err.message);

  it('is API_JWT_SECRET when set, wherever the service listens', () => {
    const key = loadSigningKey({ API_JWT_SECRET: 'x'.repeat(32), API_JWT_SECRET_FILE: file }, '0.0.0.0');
    assert.equal(new TextDecoder().decode(key), 'x'.repeat(32));
  });

  it('refuses an API_JWT_SECRET shorter than 32 bytes', () => {
    assert.throws(
      () => loadSigningKey({ API_JWT_SECRET: 'short', API_JWT_SECRET_FILE: file }),
      refused(/API_JWT_SECRET: 5 bytes; an HS256 key needs at least 32/),
    );
    const schema = z.object(signingKeyEnv);
    assert.throws(() => loadConfig(schema, { API_JWT_SECRET: 'y'.repeat(31) }), refused(/API_JWT_SECRET/));
  });

  it('otherwise a local key file, shared by every process of this machine, for loopback only', () => {
    const first = loadSigningKey({ API_JWT_SECRET_FILE: file }, '127.0.0.1');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(first.length >= 32);
    assert.deepEqual(loadSigningKey({ API_JWT_SECRET_FILE: file }, '::1'), first);
    assert.deepEqual(loadSigningKey({ API_JWT_SECRET_FILE: file }), first);
    for (const host of ['0.0.0.0', '10.0.0.5', '::']) {
      assert.throws(
        () => loadSigningKey({ API_JWT_SECRET_FILE: file }, host),
        refused(/API_JWT_SECRET: required when listening on/),
        host,
      );
    }
  });

  it('refuses a key file that group or others may read, and says how to fix it', () => {
    const open = join(dir, 'open.secret');
    writeFileSync(open, `${'k'.repeat(48)}\n`, { mode: 0o600 });
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      chmodSync(open, mode);
      assert.throws(
        () => loadSigningKey({ API_JWT_SECRET_FILE: open }),
        refused(new RegExp(`readable by group or others \\(mode ${mode.toString(8)}\\).*chmod 600 ${open}`)),
        mode.toString(8),
      );
    }
    chmodSync(open, 0o400);
    assert.equal(loadSigningKey({ API_JWT_SECRET_FILE: open }).length, 48);
  });

  it('refuses a key file shorter than 32 bytes, empty included', () => {
    const short = join(dir, 'short.secret');
    for (const content of ['', '\n', 'x'.repeat(31), `${'x'.repeat(31)}\n`]) {
      writeFileSync(short, content, { mode: 0o600 });
      assert.throws(
        () => loadSigningKey({ API_JWT_SECRET_FILE: short }),
        refused(/API_JWT_SECRET_FILE .*: \d+ bytes; an HS256 key needs at least 32/),
        JSON.stringify(content),
      );
    }
  });

  it('reads API_TOKENS_NOT_BEFORE into the token settings every verifier uses', () => {
    const schema = z.object(signingKeyEnv);
    assert.deepEqual(tokenSettings(loadConfig(schema, {})), { issuer: 'live-platform', audience: 'live-api' });
    assert.deepEqual(tokenSettings(loadConfig(schema, { API_TOKENS_NOT_BEFORE: '1795600000' })), {
      issuer: 'live-platform',
      audience: 'live-api',
      notBefore: 1795600000,
    });
    assert.throws(() => loadConfig(schema, { API_TOKENS_NOT_BEFORE: 'yesterday' }), refused(/API_TOKENS_NOT_BEFORE/));
  });
});
