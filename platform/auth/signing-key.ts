import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ConfigError, env } from '../config.ts';

/** The API's bearer-token settings; every process that checks or mints its tokens reads the same ones. */
export const signingKeyEnv = {
  /** HS256 key, at least 32 characters. Unset: a random key in API_JWT_SECRET_FILE (local use). */
  API_JWT_SECRET: z.string().min(32).optional(),
  API_JWT_SECRET_FILE: env.str('.data/api-jwt.secret'),
  API_JWT_ISSUER: env.str('live-platform'),
  API_JWT_AUDIENCE: env.str('live-api'),
};

/**
 * The JWT signing key: API_JWT_SECRET when set (production: from a secret store), otherwise a
 * random key kept in a local file (created on first use, mode 600) that the API and
 * `npm run token` share, so local development needs no setup and ships no default secret.
 */
export function loadSigningKey(
  cfg: { API_JWT_SECRET?: string | undefined; API_JWT_SECRET_FILE: string },
  listensOn?: string,
): Uint8Array {
  if (cfg.API_JWT_SECRET) return new TextEncoder().encode(cfg.API_JWT_SECRET);
  // The file is per machine: instances on other hosts would each mint their own key and refuse
  // each other's tokens and tickets with nothing but 401s to show for it.
  if (listensOn !== undefined && !isLoopback(listensOn)) {
    throw new ConfigError([
      `API_JWT_SECRET: required when listening on ${listensOn} (not set; the local key file is for one machine)`,
    ]);
  }
  try {
    return new TextEncoder().encode(readFileSync(cfg.API_JWT_SECRET_FILE, 'utf8').trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(cfg.API_JWT_SECRET_FILE), { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  try {
    writeFileSync(cfg.API_JWT_SECRET_FILE, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return new TextEncoder().encode(readFileSync(cfg.API_JWT_SECRET_FILE, 'utf8').trim());
  }
  return new TextEncoder().encode(secret);
}

const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('::ffff:127.');
