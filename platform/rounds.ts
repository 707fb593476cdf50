import { isRetriable } from './errors.ts';

/**
 * Group commit for a handler that several partitions (of one topic or several) call at once, as
 * the consumer runner does with `partitionsConcurrently`: each call hands over its chunk and waits;
 * what is handed over while a round is being written goes into the next round, together, so one
 * write serves every partition's chunk and can fold what they say about the same entity.
 *
 * A caller's promise settles only once the round holding its chunk is written (or failed), so
 * the runner still commits a partition's offsets only after its records' effect is durable, and
 * a partition never has two chunks in rounds at once (it waits for one before handing the next).
 *
 * Up to `maxInFlight` rounds are written at once: the next round is cut and handed to `write` while
 * the one before is still being written, so what `write` does before its requests (reading,
 * folding) overlaps the store's work on the round before. `write` sees rounds in the order they
 * were cut; keeping one round from building on another's unfinished write is its own business.
 *
 * Failures: a retriable one fails the whole round (every caller backs off and hands its chunk
 * again). Any other failure of a round of several chunks is not blamed on all of them: each
 * chunk is written again alone, so only the caller whose records cannot be written hears of it
 * (and the runner isolates the record and dead-letters it) while the others' chunks land.
 */
export class Rounds<T> {
  private pending: Array<{ items: T[]; resolve: () => void; reject: (err: unknown) => void }> = [];
  private draining = false;

  /**
   * @param write writes one round; may be called again with the same items (after a failure).
   * @param maxItems a round takes chunks until it holds at least this many items (1 chunk at least).
   * @param maxInFlight rounds being written at once.
   */
  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly maxItems: number,
    private readonly maxInFlight = 1,
  ) {}

  submit(items: T[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    const writing = new Set<Promise<void>>();
    for (;;) {
      // One turn of the event loop first: the partitions started together (and those whose last
      // round just settled) hand over their chunks before the round is cut.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!this.pending.length && !writing.size) break;
      if (!this.pending.length || writing.size >= this.maxInFlight) {
        await Promise.race(writing);
        continue;
      }
      let count = 0;
      let take = 0;
      while (take < this.pending.length && (take === 0 || count < this.maxItems))
        count += this.pending[take++]!.items.length;
      const round = this.run(this.pending.splice(0, take)).finally(() => writing.delete(round));
      writing.add(round);
    }
    this.draining = false;
  }

  private async run(round: typeof this.pending): Promise<void> {
    try {
      await this.write(round.length === 1 ? round[0]!.items : round.flatMap((c) => c.items));
      for (const c of round) c.resolve();
      return;
    } catch (err) {
      if (round.length === 1 || isRetriable(err)) {
        for (const c of round) c.reject(err);
        return;
      }
    }
    for (const c of round) {
      try {
        await this.write(c.items);
        c.resolve();
      } catch (err) {
        c.reject(err);
      }
    }
  }
}
