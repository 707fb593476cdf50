import { randomUUID } from 'node:crypto';
import type { UserTokensRevoked } from '../../schemas/generated/events.ts';
import type { Route } from '../../platform/http/server.ts';
import type { Authenticator } from '../../platform/auth/tokens.ts';
import { ValidationError } from '../../platform/validation.ts';
import { revokeTokens, type RevokedTokens } from '../../domain/users/revocation.ts';

/**
 * Per-user token revocation (issue #28, finding 8):
 *
 *   POST /api/v1/users/:id/tokens/revoke   (bearer: the user themself, or an admin)
 *     -> 200 {"user_id", "revoked_before"}   UserTokensRevoked on live.user.revocations
 *
 * Every token and ticket of the user issued up to now is refused from then on by every process
 * that reads the topic (API, chat and push gateways; domain/users/revocation.ts); the caller's own
 * token included when it revokes itself ("sign out everywhere"). This instance applies the event
 * as soon as Kafka has it, so the next request here already sees it; the others within a moment.
 */
export class NotAllowedToRevoke extends Error {
  readonly code = 'not_admin';
  constructor() {
    super("only the user or an operator (a token with the admin role) may revoke a user's tokens");
  }
}

export interface RevocationRouteDeps {
  auth: Authenticator;
  revoked: RevokedTokens;
  publish: (event: UserTokensRevoked) => Promise<void>;
  clock: () => number;
}

export function revocationRoutes(d: RevocationRouteDeps): Route[] {
  return [
    {
      method: 'post',
      path: '/api/v1/users/:id/tokens/revoke',
      handle: async (req) => {
        const who = await d.auth.require(req.headers.authorization);
        const userId = req.params.id!;
        if (!userId || userId.length > 200) throw new ValidationError({ id: 'must be 1-200 characters' });
        if (who.userId !== userId && !who.admin) throw new NotAllowedToRevoke();
        const event = revokeTokens(userId, d.clock(), who.userId, randomUUID);
        await d.publish(event);
        d.revoked.apply(event);
        return {
          status: 200,
          headers: { 'cache-control': 'no-store' },
          body: { user_id: userId, revoked_before: new Date(event.revokedBefore * 1000).toISOString() },
        };
      },
    },
  ];
}
