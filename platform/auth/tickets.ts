import { createHmac, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { Unauthorized, type Principal } from './tokens.ts';

/**
 * WebSocket tickets: what a browser puts in the WebSocket URL instead of its bearer token
 * (browsers cannot set headers on a WebSocket, and URLs end up in proxy logs and history). A ticket
 * is an HS256 JWT for one user (and, for chat, one stream), valid for seconds, signed with a key
 * derived from the API's JWT key per kind, so every gateway instance verifies every other's
 * tickets without shared state, and a ticket is never an API token, nor a ticket of another kind.
 *
 *   POST /api/v1/streams/:id/chat/tickets  ->  {"ticket", "expires_in"}   wss://<chat>/streams/:id/chat?ticket=
 *   POST /api/v1/notifications/tickets     ->  {"ticket", "expires_in"}   wss://<push>/notifications?ticket=
 */
export interface TicketKind {
  /** The JWT audience, and (with /v1) the label the signing key is derived with. */
  audience: string;
  /** How a person names it in an error: "chat ticket". */
  noun: string;
}

export const CHAT_TICKET: TicketKind = { audience: 'live-chat-ticket', noun: 'chat ticket' };
export const PUSH_TICKET: TicketKind = { audience: 'live-notify-ticket', noun: 'push ticket' };

const ALG = 'HS256';

export class Tickets {
  private readonly key: Uint8Array;

  constructor(
    private readonly kind: TicketKind,
    jwtKey: Uint8Array,
    readonly ttlSeconds: number,
  ) {
    // Derived, not the JWT key itself: see above.
    this.key = createHmac('sha256', jwtKey).update(`${kind.audience}/v1`).digest();
  }

  /** A ticket for `user`; `scope` (a stream id) narrows it to one resource. */
  issue(user: Principal, scope?: string): Promise<string> {
    return new SignJWT({ name: user.username, ...(scope !== undefined && { sid: scope }) })
      .setProtectedHeader({ alg: ALG })
      .setSubject(user.userId)
      .setAudience(this.kind.audience)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + this.ttlSeconds)
      .sign(this.key);
  }

  /** The user a ticket was issued to, if it is valid now (and for `scope`); Unauthorized otherwise. */
  async verify(ticket: string, scope?: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(ticket, this.key, {
        algorithms: [ALG],
        audience: this.kind.audience,
        requiredClaims: ['sub', 'exp'],
      });
      if (scope !== undefined && payload.sid !== scope) throw new Error('ticket is for another stream');
      if (typeof payload.name !== 'string' || !payload.sub) throw new Error('ticket names no user');
      return { userId: payload.sub, username: payload.name };
    } catch {
      const what = scope !== undefined ? ' for this stream' : '';
      throw new Unauthorized(`the ${this.kind.noun} is not valid${what} (it lasts seconds: get a new one)`);
    }
  }
}
