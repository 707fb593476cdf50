import { createHmac, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { TransientError } from '../errors.ts';
import { REVOKED_MESSAGE, Unauthorized, type Principal, type RevocationCheck } from './tokens.ts';

/**
 * WebSocket tickets: what a browser puts in the WebSocket URL instead of its bearer token
 * (browsers cannot set headers on a WebSocket, and URLs end up in proxy logs and history). A ticket
 * is an HS256 JWT for one user (and, for chat, one stream), valid for seconds, signed with a key
 * derived from the API's JWT key per kind, so every gateway instance verifies every other's
 * tickets without shared state, and a ticket is never an API token, nor a ticket of another kind.
 *
 *   POST /api/v1/streams/:id/chat/tickets  ->  {"ticket", "expires_in"}   wss://<chat>/streams/:id/chat?ticket=
 *   POST /api/v1/notifications/tickets     ->  {"ticket", "expires_in"}   wss://<push>/notifications?ticket=
 *
 * A ticket is single-use: its id (`jti`) is remembered from its first good use until it expires,
 * and a second use is Unauthorized, so a ticket copied from a URL (a proxy log, a referrer, a
 * screen share) opens nothing once its owner has connected. What is remembered is this instance's
 * memory: with N instances behind a balancer, one ticket can open at most one socket per instance,
 * all within its few seconds of life, and only for its own user (whose sockets each gateway also
 * caps). A shared record of used ids would close that gap, at the price of a store round trip on
 * every connection; the gateways keep none (the push gateway has no store at all), and the short
 * life is what bounds the rest. The memory is bounded too (`remember`): when it is full of
 * unexpired ids, a new ticket is refused as unavailable (try again shortly) rather than forgetting
 * one that could then be replayed.
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
/** Our ids are UUIDs; anything longer is not one of ours, and would cost memory to remember. */
const MAX_JTI = 64;

export interface TicketOptions {
  /** Used ticket ids held at once, each until its ticket expires (~100 bytes each). */
  remember?: number;
  /** Epoch ms; for tests. */
  clock?: () => number;
  /** A ticket issued before its user's tokens were revoked is refused too (live.user.revocations). */
  isRevoked?: RevocationCheck;
}

export class Tickets {
  private readonly key: Uint8Array;
  private readonly clock: () => number;
  private readonly remember: number;
  private readonly isRevoked: RevocationCheck;
  /** Used ticket ids -> when the ticket expires (epoch ms), roughly in that order (insertion order). */
  private readonly used = new Map<string, number>();

  constructor(
    private readonly kind: TicketKind,
    jwtKey: Uint8Array,
    readonly ttlSeconds: number,
    opts: TicketOptions = {},
  ) {
    // Derived, not the JWT key itself: see above.
    this.key = createHmac('sha256', jwtKey).update(`${kind.audience}/v1`).digest();
    this.clock = opts.clock ?? Date.now;
    this.remember = opts.remember ?? 100_000;
    this.isRevoked = opts.isRevoked ?? (() => false);
  }

  /** How many used ticket ids are held now. */
  get remembered(): number {
    return this.used.size;
  }

  /** A ticket for `user`; `scope` (a stream id) narrows it to one resource. */
  issue(user: Principal, scope?: string): Promise<string> {
    const now = Math.floor(this.clock() / 1000);
    return new SignJWT({ name: user.username, ...(scope !== undefined && { sid: scope }) })
      .setProtectedHeader({ alg: ALG })
      .setSubject(user.userId)
      .setAudience(this.kind.audience)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds)
      .sign(this.key);
  }

  /**
   * The user a ticket was issued to, if it is valid now (and for `scope`) and has not been used on
   * this instance before; Unauthorized otherwise. A good ticket is spent by this call; one that
   * fails a check is not. TransientError when too many used tickets are held to remember one more.
   */
  async verify(ticket: string, scope?: string): Promise<Principal> {
    const what = scope !== undefined ? ' for this stream' : '';
    let user: Principal;
    let jti: string;
    let expiresAt: number;
    let issuedAt: number;
    try {
      const { payload } = await jwtVerify(ticket, this.key, {
        algorithms: [ALG],
        audience: this.kind.audience,
        requiredClaims: ['sub', 'exp', 'jti', 'iat'],
        currentDate: new Date(this.clock()),
      });
      if (scope !== undefined && payload.sid !== scope) throw new Error('ticket is for another stream');
      if (typeof payload.name !== 'string' || !payload.sub) throw new Error('ticket names no user');
      if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > MAX_JTI)
        throw new Error('ticket has no usable id');
      user = { userId: payload.sub, username: payload.name };
      jti = payload.jti;
      expiresAt = payload.exp! * 1000;
      issuedAt = payload.iat!;
    } catch {
      throw new Unauthorized(`the ${this.kind.noun} is not valid${what} (it lasts seconds: get a new one)`);
    }
    if (this.isRevoked(user.userId, issuedAt)) throw new Unauthorized(REVOKED_MESSAGE);
    // From here to the return nothing awaits: of two uses of one ticket at once, one wins.
    this.forgetExpired();
    if (this.used.has(jti)) throw new Unauthorized(`the ${this.kind.noun} was already used: get a new one`);
    if (this.used.size >= this.remember) {
      this.forgetExpired(true);
      if (this.used.size >= this.remember)
        throw new TransientError(`too many ${this.kind.noun}s in use at once; try again shortly`);
    }
    this.used.set(jti, expiresAt);
    return user;
  }

  /**
   * Drops used ids whose tickets have expired (jwtVerify refuses those anyway). Ids come in about
   * the order they expire, so dropping from the oldest until one is still valid is enough on each
   * use; `all` looks at every id, for when the memory is full.
   */
  private forgetExpired(all = false): void {
    const now = this.clock();
    for (const [jti, expiresAt] of this.used) {
      if (expiresAt <= now) this.used.delete(jti);
      else if (!all) return;
    }
  }
}
