import type { BusAdmin } from '../../platform/kafka/admin.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';

/**
 * Back-pressure for the background lane: large fan-outs publish only while the notifications
 * sink's consumer group is less than `maxLag` records behind on live.notifications. Every
 * notification shares that topic, so without this a million-follower fan-out would sit in the
 * sink's partitions ahead of a small streamer's handful, and those followers would wait for the
 * whole backlog. Paced, the queue in front of them stays about `maxLag` records long.
 * maxLag 0 turns pacing off.
 */
export class SinkLag {
  private admin: BusAdmin | undefined;
  private reading: Promise<number> | undefined;
  private readAt = 0;
  private last = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly groupId: string,
    readonly maxLag: number,
    private readonly freshMs = 50,
  ) {}

  async start(): Promise<void> {
    if (this.maxLag <= 0) return;
    this.admin = this.bus.admin();
  }

  async stop(): Promise<void> {
    await this.admin?.close();
  }

  /** Resolves once the lag is under the limit, or false when `deadlineMs` passed first. */
  async waitBelowLimit(deadlineMs: number, stopped: () => boolean): Promise<boolean> {
    if (this.maxLag <= 0) return true;
    const until = Date.now() + deadlineMs;
    for (;;) {
      if ((await this.lag()) < this.maxLag) return true;
      if (Date.now() >= until || stopped()) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The group's committed lag; concurrent callers within `freshMs` share one reading. */
  lag(): Promise<number> {
    if (this.reading) return this.reading;
    if (Date.now() - this.readAt < this.freshMs) return Promise.resolve(this.last);
    this.reading = this.read().finally(() => {
      this.reading = undefined;
      this.readAt = Date.now();
    });
    return this.reading;
  }

  private async read(): Promise<number> {
    const admin = this.admin!;
    const topic = this.bus.topicName('notifications');
    const [ends, committed] = await Promise.all([
      admin.topicOffsets(topic),
      admin.committedOffsets(this.groupId, [topic]),
    ]);
    const at = new Map(committed.map((c) => [c.partition, c.offset]));
    this.last = ends.reduce((n, p) => {
      const c = at.get(p.partition) ?? -1;
      return n + p.high - (c < 0 ? p.low : c);
    }, 0);
    return this.last;
  }
}
