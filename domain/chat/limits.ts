/**
 * Per user, per stream: at most `maxMessages` in any `windowMs` (a sliding log, not fixed
 * windows, so no burst of 2x at a window edge), and no message identical to one the same user
 * sent to the same stream within `duplicateWindowMs`.
 *
 * The log is fed twice: by this gateway when it accepts a message (`tryAcquire`, before it
 * publishes, so a burst of frames cannot all pass the check while their publishes are in flight)
 * and by every message on the chat topic (`observe`), so a user spreading sends over several
 * gateway instances meets the same limit, give or take the topic's delivery delay. Both are keyed
 * by message id, so a message counts once however it arrives.
 */
export interface LimitsConfig {
  maxMessages: number;
  windowMs: number;
  duplicateWindowMs: number;
}

export type LimitVerdict =
  { ok: true } | { ok: false; code: 'rate_limited'; retryAfterMs: number } | { ok: false; code: 'duplicate_message' };

interface Entry {
  messageId: string;
  at: number;
  content: string;
}

export class IntakeLimits {
  private readonly logs = new Map<string, Entry[]>();
  private readonly horizonMs: number;

  constructor(private readonly cfg: LimitsConfig) {
    this.horizonMs = Math.max(cfg.windowMs, cfg.duplicateWindowMs);
  }

  /** Checks a message about to be published and, if it passes, counts it at once. */
  tryAcquire(streamId: string, userId: string, messageId: string, content: string, now: number): LimitVerdict {
    const log = this.live(keyOf(streamId, userId), now);
    if (log.some((e) => e.content === content && now - e.at < this.cfg.duplicateWindowMs)) {
      return { ok: false, code: 'duplicate_message' };
    }
    const inWindow = log.filter((e) => now - e.at < this.cfg.windowMs);
    if (inWindow.length >= this.cfg.maxMessages) {
      const oldest = Math.min(...inWindow.map((e) => e.at));
      return { ok: false, code: 'rate_limited', retryAfterMs: Math.max(1, oldest + this.cfg.windowMs - now) };
    }
    this.add(streamId, userId, { messageId, at: now, content });
    return { ok: true };
  }

  /** Gives back what `tryAcquire` took for a message that was never published. */
  release(streamId: string, userId: string, messageId: string): void {
    const key = keyOf(streamId, userId);
    const log = this.logs.get(key);
    if (!log) return;
    const rest = log.filter((e) => e.messageId !== messageId);
    if (rest.length) this.logs.set(key, rest);
    else this.logs.delete(key);
  }

  /** A message seen on the topic (from any gateway); no-op if it was already counted. */
  observe(streamId: string, userId: string, messageId: string, content: string, at: number): void {
    this.add(streamId, userId, { messageId, at, content });
  }

  /** Forgets every log with nothing inside the horizon; call now and then to bound memory. */
  prune(now: number): void {
    for (const key of [...this.logs.keys()]) this.live(key, now);
  }

  /** How many users have a log: what memory the limiter holds. */
  get size(): number {
    return this.logs.size;
  }

  private add(streamId: string, userId: string, entry: Entry): void {
    const key = keyOf(streamId, userId);
    const log = this.logs.get(key) ?? [];
    if (log.some((e) => e.messageId === entry.messageId)) return;
    log.push(entry);
    this.logs.set(key, log);
  }

  private live(key: string, now: number): Entry[] {
    const log = this.logs.get(key);
    if (!log) return [];
    const kept = log.filter((e) => now - e.at < this.horizonMs);
    if (kept.length) this.logs.set(key, kept);
    else this.logs.delete(key);
    return kept;
  }
}

const keyOf = (streamId: string, userId: string): string => `${streamId}\u0000${userId}`;
