import type { UserTokensRevoked } from '../../schemas/generated/events.ts';

/**
 * Per-user token revocation (issue #28, finding 8). Pure.
 *
 * "Revoke a user's tokens" is one event on live.user.revocations (compacted, keyed by user):
 * every bearer token and WebSocket ticket of the user issued before `revokedBefore` is refused.
 * Tokens carry `iat` in whole seconds, so the cut is a whole second: `revokedBefore` is the second
 * after the request (ceil), which refuses every token issued up to the request, and one minted in
 * that same second too; a token issued from the next second on works (sign in again a second
 * later). The cut only ever moves forward, so events applied in any order, or again, give the same
 * answer, and the compacted topic's latest value per user is all a verifier needs.
 */
export function revokeTokens(
  userId: string,
  nowMs: number,
  revokedBy: string | null,
  newId: () => string,
): UserTokensRevoked {
  return { eventId: newId(), occurredAt: nowMs, userId, revokedBefore: Math.ceil(nowMs / 1000), revokedBy };
}

/** Every user's cut, folded from live.user.revocations. */
export class RevokedTokens {
  private readonly before = new Map<string, number>();

  get size(): number {
    return this.before.size;
  }

  /** True when the event moved the user's cut forward. */
  apply(e: Pick<UserTokensRevoked, 'userId' | 'revokedBefore'>): boolean {
    if (e.revokedBefore <= (this.before.get(e.userId) ?? Number.NEGATIVE_INFINITY)) return false;
    this.before.set(e.userId, e.revokedBefore);
    return true;
  }

  /** Epoch seconds, or undefined for a user never revoked. */
  revokedBefore(userId: string): number | undefined {
    return this.before.get(userId);
  }

  /** Whether a token (or ticket) of `userId` issued at `issuedAt` (epoch seconds, its `iat`) is revoked. */
  isRevoked(userId: string, issuedAt: number): boolean {
    const cut = this.before.get(userId);
    return cut !== undefined && issuedAt < cut;
  }
}
