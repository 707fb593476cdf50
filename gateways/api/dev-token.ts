import { z } from 'zod';
import type { Route } from '../../platform/http/server.ts';
import { parseOrReject } from '../../platform/validation.ts';
import { mintToken, type TokenSettings } from '../../platform/auth/tokens.ts';

/**
 * A development identity for the web page's sign-in form, NOT a login:
 *
 *   POST /api/v1/dev/token {"username": "alice"}  ->  {"token", "user_id", "username", "expires_in"}
 *
 * Anyone who can reach it becomes whoever they name (user id `dev_<username>`, so the same name
 * is the same user on every sign-in and follows survive). It does what `npm run token` does for
 * the command line. Off unless API_DEV_SIGN_IN is set (`./live up` sets it), and refused at
 * start-up unless the API listens on a loopback address only.
 */
export interface DevTokenSettings {
  key: Uint8Array;
  token: TokenSettings;
  ttlSeconds: number;
  /** The API's listen address: must be loopback. */
  host: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const body = z.strictObject({
  username: z
    .string({ error: 'username must be a string' })
    .trim()
    .regex(/^[A-Za-z0-9_]{3,25}$/, 'username must be 3-25 letters, digits or _'),
});

export const devUserId = (username: string): string => `dev_${username.toLowerCase()}`;

export function devTokenRoutes(s: DevTokenSettings): Route[] {
  if (!LOOPBACK.has(s.host)) {
    throw new Error(`API_DEV_SIGN_IN mints tokens for anyone: allowed only with a loopback API_HOST, not ${s.host}`);
  }
  return [
    {
      method: 'post',
      path: '/api/v1/dev/token',
      body: true,
      handle: async (req) => {
        const { username } = parseOrReject(body, req.body ?? {});
        const who = { userId: devUserId(username), username };
        return {
          status: 201,
          body: {
            token: await mintToken(s.key, s.token, who, s.ttlSeconds),
            user_id: who.userId,
            username,
            expires_in: s.ttlSeconds,
            development_identity: true,
          },
          headers: { 'cache-control': 'no-store' },
        };
      },
    },
  ];
}
