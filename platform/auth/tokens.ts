import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';

/**
 * Bearer tokens: HS256 JWTs signed with the key from config. `sub` is the user id, `name` the
 * display name a stream is created under, `roles` (a list) may hold "admin": an operator, who may
 * end anyone's stream. Only HS256 is accepted (no `alg: none`, no algorithm confusion), and
 * issuer, audience and expiry are checked.
 *
 * Revocation: every token carries `iat` (required), and a token issued before `notBefore`
 * (API_TOKENS_NOT_BEFORE, epoch seconds) is refused: setting it to now signs everyone out. A new
 * key (signing-key.ts) does the same, and also voids every WebSocket ticket, whose keys derive
 * from it. Per user: `isRevoked(userId, iat)` (domain/users/revocation.ts, fed by
 * live.user.revocations) refuses a user's tokens issued before their cut, on every instance.
 */
export interface Principal {
  userId: string;
  username: string;
  admin?: boolean;
}

export class Unauthorized extends Error {
  readonly code = 'unauthorized';
  constructor(message: string) {
    super(message);
    this.name = 'Unauthorized';
  }
}

export interface TokenSettings {
  issuer: string;
  audience: string;
  /** Epoch seconds: tokens issued (`iat`) before it are refused. */
  notBefore?: number;
}

const ALG = 'HS256';
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/** Whether a user's token (or ticket) issued at `issuedAt` (epoch seconds) was revoked since. */
export type RevocationCheck = (userId: string, issuedAt: number) => boolean;

export const REVOKED_MESSAGE = "the user's tokens were revoked after this one was issued: sign in again";

export class Authenticator {
  constructor(
    private readonly key: Uint8Array,
    private readonly settings: TokenSettings,
    private readonly isRevoked: RevocationCheck = () => false,
  ) {}

  /** The caller, or Unauthorized when the header is missing or the token is not valid now. */
  async require(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw new Unauthorized('send Authorization: Bearer <token>');
    const token = BEARER.exec(authorization.trim())?.[1];
    if (!token) throw new Unauthorized('the Authorization header is not a bearer token');
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALG],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      if (this.settings.notBefore !== undefined && payload.iat! < this.settings.notBefore) {
        throw new Unauthorized(
          'the token was issued before API_TOKENS_NOT_BEFORE (tokens were revoked): sign in again',
        );
      }
      const name = payload['name'];
      if (typeof name !== 'string' || !name || !payload.sub) throw new Unauthorized('the token names no user');
      if (this.isRevoked(payload.sub, payload.iat!)) throw new Unauthorized(REVOKED_MESSAGE);
      const roles = payload['roles'];
      const admin = Array.isArray(roles) && roles.includes('admin');
      return { userId: payload.sub, username: name, ...(admin && { admin }) };
    } catch (err) {
      if (err instanceof Unauthorized) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new Unauthorized('the token has expired');
      throw new Unauthorized('the token is not valid');
    }
  }

  /** For public reads: anonymous without a header, but a header that is sent must be valid. */
  async optional(authorization: string | undefined): Promise<Principal | undefined> {
    return authorization ? this.require(authorization) : undefined;
  }
}

export async function mintToken(
  key: Uint8Array,
  settings: TokenSettings,
  who: Principal,
  ttlSeconds: number,
  /** Epoch seconds; now unless given. */
  issuedAt: number = Math.floor(Date.now() / 1000),
): Promise<string> {
  return new SignJWT({ name: who.username, ...(who.admin && { roles: ['admin'] }) })
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setSubject(who.userId)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .sign(key);
}
