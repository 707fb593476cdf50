import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * The two limits every edge applies per caller (an address, a user), before any work is done for
 * them. Both are held in this process's memory: with N instances behind a balancer a caller gets
 * up to N times the limit, which is what a per-instance cap can promise without a shared store.
 */

export type Taken = { ok: true } | { ok: false; retryAfterS: number };

/** At most `points` per `durationS` per key (rate-limiter-flexible's fixed window). */
export class RequestLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(readonly opts: { points: number; durationS: number }) {
    this.limiter = new RateLimiterMemory({ points: opts.points, duration: opts.durationS });
  }

  /** Takes `cost` points for `key`, or says how long until it may try again (whole seconds, at least 1). */
  async take(key: string, cost = 1): Promise<Taken> {
    try {
      await this.limiter.consume(key, cost);
      return { ok: true };
    } catch (res) {
      if (res instanceof RateLimiterRes)
        return { ok: false, retryAfterS: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
      throw res;
    }
  }
}

/**
 * Connections held at once per key: acquired before a WebSocket upgrade is accepted (so upgrades
 * in progress count too) and released exactly once when the connection or the attempt ends.
 */
export class ConnectionCounter {
  private readonly held = new Map<string, number>();

  constructor(readonly max: number) {}

  tryAcquire(key: string): boolean {
    const n = this.held.get(key) ?? 0;
    if (n >= this.max) return false;
    this.held.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = this.held.get(key) ?? 0;
    if (n <= 1) this.held.delete(key);
    else this.held.set(key, n - 1);
  }

  count(key: string): number {
    return this.held.get(key) ?? 0;
  }
}
