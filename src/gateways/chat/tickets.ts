import { createHmac, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Identity } from '../../producers/chat/decide.ts';
import { ChatError } from './errors.ts';

/**
 * Chat tickets: what a browser puts in the WebSocket URL instead of its bearer token (browsers
 * cannot set headers on a WebSocket, and URLs end up in proxy logs and history). A ticket is an
 * HS256 JWT for one user and one stream, valid for seconds, signed with a key derived from the
 * API's JWT key, so every gateway instance verifies every other's tickets without shared state.
 * A leaked ticket is worth little: one stream's chat, for under a minute.
 *
 *   POST /api/v1/streams/:id/chat/tickets  (Authorization: Bearer <token>)  ->  {"ticket", "expires_in"}
 *   wss://<chat>/streams/:id/chat?ticket=<ticket>
 */
const AUDIENCE = 'live-chat-ticket';
const ALG = 'HS256';

export function ticketKey(jwtKey: Uint8Array): Uint8Array {
  // Derived, not the JWT key itself: a ticket is never a valid API token, nor the other way round.
  return createHmac('sha256', jwtKey).update('live-chat-ticket/v1').digest();
}

export class Tickets {
  constructor(
    private readonly key: Uint8Array,
    readonly ttlSeconds: number,
  ) {}

  issue(user: Identity, streamId: string): Promise<string> {
    return new SignJWT({ name: user.username, sid: streamId })
      .setProtectedHeader({ alg: ALG })
      .setSubject(user.userId)
      .setAudience(AUDIENCE)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + this.ttlSeconds)
      .sign(this.key);
  }

  /** The user a ticket was issued to, if it is valid now and for this stream; ChatError('unauthorized') otherwise. */
  async verify(ticket: string, streamId: string): Promise<Identity> {
    try {
      const { payload } = await jwtVerify(ticket, this.key, {
        algorithms: [ALG],
        audience: AUDIENCE,
        requiredClaims: ['sub', 'exp'],
      });
      if (payload.sid !== streamId) throw new Error('ticket is for another stream');
      if (typeof payload.name !== 'string' || !payload.sub) throw new Error('ticket names no user');
      return { userId: payload.sub, username: payload.name };
    } catch {
      throw new ChatError(
        'unauthorized',
        'the chat ticket is not valid for this stream (it lasts seconds: get a new one)',
      );
    }
  }
}
