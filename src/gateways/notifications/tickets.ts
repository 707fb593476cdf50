import { createHmac, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Principal } from '../api/auth.ts';
import { Unauthorized } from '../api/auth.ts';

/**
 * Push tickets: what a browser puts in the WebSocket URL instead of its bearer token (browsers
 * cannot set headers on a WebSocket, and URLs end up in logs). An HS256 JWT for one user, valid
 * for seconds, signed with a key derived from the API's JWT key, so every gateway instance
 * verifies every other's tickets. Not valid as an API token nor as a chat ticket.
 *
 *   POST /api/v1/notifications/tickets  (Authorization: Bearer <token>)  ->  {"ticket", "expires_in"}
 *   ws://<gateway>/notifications?ticket=<ticket>
 */
const AUDIENCE = 'live-notify-ticket';
const ALG = 'HS256';

export const pushTicketKey = (jwtKey: Uint8Array): Uint8Array =>
  createHmac('sha256', jwtKey).update('live-notify-ticket/v1').digest();

export class PushTickets {
  constructor(
    private readonly key: Uint8Array,
    readonly ttlSeconds: number,
  ) {}

  issue(user: Principal): Promise<string> {
    return new SignJWT({ name: user.username })
      .setProtectedHeader({ alg: ALG })
      .setSubject(user.userId)
      .setAudience(AUDIENCE)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + this.ttlSeconds)
      .sign(this.key);
  }

  async verify(ticket: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(ticket, this.key, {
        algorithms: [ALG],
        audience: AUDIENCE,
        requiredClaims: ['sub', 'exp'],
      });
      if (typeof payload.name !== 'string' || !payload.sub) throw new Error('ticket names no user');
      return { userId: payload.sub, username: payload.name };
    } catch {
      throw new Unauthorized('the push ticket is not valid (it lasts seconds: get a new one)');
    }
  }
}
