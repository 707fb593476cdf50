import { CodedError } from '../../platform/errors.ts';
import { canonicalAddress } from '../../platform/http/address.ts';
import { RequestLimiter } from '../../platform/http/limits.ts';
import type { HttpRequest, Route } from '../../platform/http/server.ts';
import type { Authenticator } from '../../platform/auth/tokens.ts';

/**
 * Per-caller limits on the API's writes: every route but GET (start, update, end, follow,
 * unfollow, notifications read, and any write added later) costs one point per client address
 * and, with a bearer token, one per user; starting a stream also costs one from a slower budget
 * of starts, because every stream ever created is an event on a topic kept forever. Reads are
 * not limited here. A caller over a budget is answered 429 `rate_limited` with Retry-After
 * before any work is done for it (the address before the token is even checked).
 *
 * The defaults are far above what a person does by hand and far below a script's churn
 * (issue #28: 200 streams started and ended in 10 s). Held in this instance's memory
 * (platform/http/limits.ts): N instances behind a balancer allow up to N times each budget.
 *
 * The client address is the connection's peer. X-Forwarded-For is believed only when the peer
 * is a configured trusted proxy (none by default): then the client is the rightmost address in
 * the header that is not itself a trusted proxy, the one the nearest proxy saw, which a client
 * cannot forge by sending the header itself.
 */
export interface Budget {
  points: number;
  durationS: number;
}

export interface WriteLimits {
  /** Writes per user (bearer token). */
  perUser: Budget;
  /** Writes per client address, signed in or not (many people may share one address). */
  perAddress: Budget;
  /** Stream starts per user, on top of `perUser`. */
  startsPerUser: Budget;
  /** Stream starts per client address, on top of `perAddress`. */
  startsPerAddress: Budget;
  /** Peers whose X-Forwarded-For is believed; empty: the header is ignored. */
  trustedProxies: string[];
}

export const DEFAULT_WRITE_LIMITS: WriteLimits = {
  perUser: { points: 60, durationS: 60 },
  perAddress: { points: 600, durationS: 60 },
  startsPerUser: { points: 30, durationS: 3600 },
  startsPerAddress: { points: 120, durationS: 3600 },
  trustedProxies: [],
};

export const START_PATH = '/api/v1/streams/start';

export class RateLimited extends CodedError<'rate_limited'> {
  constructor(
    readonly retryAfterS: number,
    what: string,
  ) {
    super('rate_limited', `too many ${what}; try again in ${retryAfterS} s`);
  }
}

/** Who a request comes from, as far as this gateway can tell (see above). */
export function clientAddress(
  req: Pick<HttpRequest, 'remoteAddress' | 'headers'>,
  trusted: ReadonlySet<string>,
): string {
  let client = req.remoteAddress;
  if (!trusted.has(client)) return client;
  const hops = (req.headers['x-forwarded-for'] ?? '').split(',').map(canonicalAddress).filter(Boolean);
  while (hops.length && trusted.has(client)) client = hops.pop()!;
  return client;
}

/** The routes with every write limited; reads are returned as they are. */
export function limitWrites(routes: Route[], limits: Partial<WriteLimits>, auth: Authenticator): Route[] {
  const l = { ...DEFAULT_WRITE_LIMITS, ...limits };
  const trusted = new Set(l.trustedProxies.map(canonicalAddress));
  const perUser = new RequestLimiter(l.perUser);
  const perAddress = new RequestLimiter(l.perAddress);
  const startsPerUser = new RequestLimiter(l.startsPerUser);
  const startsPerAddress = new RequestLimiter(l.startsPerAddress);
  const take = async (limiter: RequestLimiter, key: string, what: string) => {
    const taken = await limiter.take(key);
    if (!taken.ok) throw new RateLimited(taken.retryAfterS, what);
  };
  return routes.map((route) =>
    route.method === 'get'
      ? route
      : {
          ...route,
          handle: async (req) => {
            const starts = route.path === START_PATH;
            const address = clientAddress(req, trusted);
            await take(perAddress, address, 'writes from your address');
            if (starts) await take(startsPerAddress, address, 'streams started from your address');
            const who = await auth.optional(req.headers.authorization);
            if (who) {
              await take(perUser, who.userId, 'writes');
              if (starts) await take(startsPerUser, who.userId, 'streams started');
            }
            return route.handle(req);
          },
        },
  );
}
