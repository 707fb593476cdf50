import type { MinuteWrite } from './plan.ts';

/**
 * Per-minute chat stats (messages, distinct chatters) carried from round to round, so that a
 * busy minute is read back from chat_messages once instead of after every round: counted from
 * the table each round, a minute of a hot stream was read again and again, and rows read grew
 * with the square of the minute's messages.
 *
 * A minute's tally is the set of message ids and the set of senders in it. It starts from what
 * chat_messages holds for the minute (read after the round's rows are written, so they are in
 * it), and each later round adds its messages; message ids dedupe redeliveries, so the counts
 * stay the absolute ones a recount would give. The archiver writes them as absolute values.
 *
 * What the tallies may not know: rows another archiver wrote while it held the stream's
 * partition. So they are forgotten at every rebalance (`clear`), and a process starts with none.
 * Minutes a stream has moved past, and streams gone quiet, are dropped to bound memory; a late
 * message for a dropped minute reads that minute back again.
 *
 * Except in a target this writer made empty and writes alone (a rebuild's fresh keyspace): there
 * every row went through these tallies, so a minute never tallied holds only the round's own rows
 * and needs no read (`unseen`). Read back, such minutes were nine rows read for every ten written.
 * That holds until the tallies lose something: a dropped minute (each stream remembers the newest
 * it dropped) or a rebalance.
 */
export interface Tally {
  ids: Set<string>;
  users: Set<string>;
  usedAt: number;
}

export interface TallyLimits {
  /** Minutes behind a stream's newest one that keep their tally. */
  keepMinutes: number;
  /** A tally untouched this long is dropped. */
  idleMs: number;
}

const key = (streamId: string, minute: number): string => `${streamId}\u0000${minute}`;

export class MinuteTallies {
  private readonly tallies = new Map<string, Tally & { streamId: string; minute: number }>();
  private readonly newest = new Map<string, number>();
  /** Per stream, the newest minute whose tally was dropped: what is older may hold untallied rows. */
  private readonly dropped = new Map<string, number>();
  private complete: boolean;

  /** `complete`: the target holds nothing these tallies did not count (see above). */
  constructor(
    private readonly limits: TallyLimits = { keepMinutes: 2, idleMs: 120_000 },
    opts: { complete: boolean } = { complete: false },
  ) {
    this.complete = opts.complete;
  }

  get size(): number {
    return this.tallies.size;
  }

  /** The minute's tally with the round's messages added; undefined when the minute must be read back first. */
  add(m: MinuteWrite, now: number): Tally | undefined {
    this.newest.set(m.streamId, Math.max(m.minute, this.newest.get(m.streamId) ?? m.minute));
    const t = this.tallies.get(key(m.streamId, m.minute));
    if (!t) return undefined;
    for (const s of m.sent) {
      t.ids.add(s.messageId);
      t.users.add(s.userId);
    }
    t.usedAt = now;
    return t;
  }

  /** True when chat_messages can hold no row of this minute but the round's own: no need to read it back. */
  unseen(m: MinuteWrite): boolean {
    return this.complete && m.minute > (this.dropped.get(m.streamId) ?? -Infinity);
  }

  /** Starts a minute's tally from every row chat_messages holds for it, the round's own included. */
  seed(m: MinuteWrite, rows: Array<{ messageId: string; userId: string }>, now: number): Tally {
    const t = {
      streamId: m.streamId,
      minute: m.minute,
      ids: new Set(rows.map((r) => r.messageId)),
      users: new Set(rows.map((r) => r.userId)),
      usedAt: now,
    };
    this.tallies.set(key(m.streamId, m.minute), t);
    return t;
  }

  /** Drops the tallies of minutes their stream has moved past and of minutes left untouched. */
  evict(now: number): void {
    const behind = this.limits.keepMinutes * 60_000;
    for (const [k, t] of this.tallies) {
      const newest = this.newest.get(t.streamId) ?? t.minute;
      if (t.minute < newest - behind || now - t.usedAt > this.limits.idleMs) {
        this.tallies.delete(k);
        this.dropped.set(t.streamId, Math.max(t.minute, this.dropped.get(t.streamId) ?? t.minute));
      }
    }
    for (const [streamId, minute] of this.newest) {
      if (!this.tallies.has(key(streamId, minute))) this.newest.delete(streamId);
    }
  }

  /** Forgets every tally: after a rebalance, another archiver may have written to any of these minutes. */
  clear(): void {
    if (this.tallies.size || this.dropped.size) this.complete = false;
    this.tallies.clear();
    this.newest.clear();
  }
}
