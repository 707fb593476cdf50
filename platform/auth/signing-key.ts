import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ConfigError, env } from '../config.ts';
import type { TokenSettings } from './tokens.ts';

/** HS256 needs a key at least as long as its hash (RFC 7518 §3.2): 256 bits. */
export const MIN_KEY_BYTES = 32;

/** The API's bearer-token settings; every process that checks or mints its tokens reads the same ones. */
export const signingKeyEnv = {
  /** HS256 key, at least 32 bytes. Unset: a random key in API_JWT_SECRET_FILE (local use). */
  API_JWT_SECRET: z
    .string()
    .refine((s) => Buffer.byteLength(s) >= MIN_KEY_BYTES, `an HS256 key needs at least ${MIN_KEY_BYTES} bytes`)
    .optional(),
  API_JWT_SECRET_FILE: env.str('.data/api-jwt.secret'),
  API_JWT_ISSUER: env.str('live-platform'),
  API_JWT_AUDIENCE: env.str('live-api'),
  /**
   * Epoch seconds: every token issued before it is refused (sign everyone out at once, e.g. after
   * a leak, without changing the key). Tokens carry `iat`; unset, tokens live until they expire.
   */
  API_TOKENS_NOT_BEFORE: z.coerce.number().int().min(0).optional(),
};

type SigningKeyConfig = {
  API_JWT_ISSUER: string;
  API_JWT_AUDIENCE: string;
  API_TOKENS_NOT_BEFORE?: number | undefined;
};

/** What every verifier of the API's tokens (API, chat, push) and every minter checks them against. */
export function tokenSettings(cfg: SigningKeyConfig): TokenSettings {
  return {
    issuer: cfg.API_JWT_ISSUER,
    audience: cfg.API_JWT_AUDIENCE,
    ...(cfg.API_TOKENS_NOT_BEFORE !== undefined && { notBefore: cfg.API_TOKENS_NOT_BEFORE }),
  };
}

/**
 * The JWT signing key: API_JWT_SECRET when set (production: from a secret store), otherwise a
 * random key kept in a local file (created on first use, mode 600) that the API and
 * `npm run token` share, so local development needs no setup and ships no default secret.
 *
 * Refused, with what to do: a key shorter than 32 bytes (an empty file included), and a key file
 * that group or others may read. Deleting the file (a new random key is made at the next start)
 * or changing API_JWT_SECRET revokes every token and ticket signed with the old key.
 */
export function loadSigningKey(
  cfg: { API_JWT_SECRET?: string | undefined; API_JWT_SECRET_FILE: string },
  listensOn?: string,
): Uint8Array {
  if (cfg.API_JWT_SECRET !== undefined) return checkedLength(cfg.API_JWT_SECRET, 'API_JWT_SECRET');
  // The file is per machine: instances on other hosts would each mint their own key and refuse
  // each other's tokens and tickets with nothing but 401s to show for it.
  if (listensOn !== undefined && !isLoopback(listensOn)) {
    throw new ConfigError([
      `API_JWT_SECRET: required when listening on ${listensOn} (not set; the local key file is for one machine)`,
    ]);
  }
  const path = cfg.API_JWT_SECRET_FILE;
  const existing = readKeyFile(path);
  if (existing !== undefined) return existing;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString('base64url');
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readKeyFile(path) ?? checkedLength('', `API_JWT_SECRET_FILE ${path}`);
  }
  return new TextEncoder().encode(secret);
}

/** The key in the file, undefined when there is no file; refused when others may read it or it is short. */
function readKeyFile(path: string): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    // The mode of the file that is read (fstat of the open descriptor), not of whatever the path names later.
    const mode = fstatSync(fd).mode & 0o777;
    if (mode & 0o077) {
      throw new ConfigError([
        `API_JWT_SECRET_FILE ${path}: readable by group or others (mode ${mode.toString(8)}); whoever reads it ` +
          `can sign in as anyone. Run: chmod 600 ${path}`,
      ]);
    }
    return checkedLength(readFileSync(fd, 'utf8').trim(), `API_JWT_SECRET_FILE ${path}`);
  } finally {
    closeSync(fd);
  }
}

function checkedLength(secret: string, name: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.length < MIN_KEY_BYTES) {
    throw new ConfigError([
      `${name}: ${key.length} bytes; an HS256 key needs at least ${MIN_KEY_BYTES} ` +
        '(e.g. `openssl rand -base64 48`; for the local key file, delete it and a new one is made)',
    ]);
  }
  return key;
}

const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('::ffff:127.');
