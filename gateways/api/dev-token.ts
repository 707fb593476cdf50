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
 *
 * Listening on loopback is not enough on its own: a page on any web site can point its own name
 * at 127.0.0.1 (DNS rebinding) and then post here as a same-origin page of that name. So a request
 * is answered only when its Host is a loopback name with the API's port, and its Origin, when the
 * browser sends one (it does on every POST), is this page's own: http://<that host>. Anything else
 * is 403 forbidden_origin, saying why.
 */
export interface DevTokenSettings {
  key: Uint8Array;
  token: TokenSettings;
  ttlSeconds: number;
  /** The API's listen address: must be loopback. */
  host: string;
  /** The API's port (a function where it is known only once listening: port 0). */
  port: number | (() => number);
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
/** How a browser writes a loopback host in Host and Origin. */
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

export class ForbiddenOrigin extends Error {
  readonly code = 'forbidden_origin';
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenOrigin';
  }
}

/** Throws ForbiddenOrigin unless Host (and Origin, when sent) name this loopback API. */
export function assertLoopbackRequest(headers: Record<string, string>, port: number): void {
  // A browser leaves the port out of Host and Origin when it is the scheme's default.
  const allowed = LOOPBACK_HOSTS.flatMap((h) => (port === 80 ? [h, `${h}:80`] : [`${h}:${port}`]));
  const host = (headers.host ?? '').toLowerCase();
  if (!allowed.includes(host)) {
    throw new ForbiddenOrigin(
      `development sign-in answers only requests to this machine's loopback (Host ${allowed.join(', ')}), ` +
        `not Host ${JSON.stringify(headers.host ?? '')}: a page under another name reached it (DNS rebinding?)`,
    );
  }
  const origin = headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host}`) {
    throw new ForbiddenOrigin(
      `development sign-in answers only its own page (http://${host}), not a page from ${origin}`,
    );
  }
}

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
        assertLoopbackRequest(req.headers, typeof s.port === 'function' ? s.port() : s.port);
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
