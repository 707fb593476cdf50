import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import type { Component } from '../../platform/service.ts';
import { planNotifications } from './plan.ts';
import type { NotificationWriter } from './store.ts';

/**
 * The notifications sink: live.notifications -> notifications_by_user, at least once, idempotent
 * by (recipient, notification id). Offsets are committed every `commitIntervalMs`, so the
 * group's committed lag (what the notifier paces large fan-outs by) is never far behind.
 */
export interface NotificationsSinkOptions {
  groupId: string;
  maxRecords: number;
  ttlSeconds: number;
  commitIntervalMs: number;
  /** Partitions written at once: a fan-out spreads over all of them, and one partition's round leaves Cassandra idle at its tail. */
  partitionsConcurrently?: number;
  onFatal?: (err: Error) => void;
  until?: number;
}

export class NotificationsSink implements Component {
  readonly name = 'notifications-sink';
  private consumer: EventConsumer | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly writer: NotificationWriter,
    private readonly opts: NotificationsSinkOptions,
  ) {}

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  async start(): Promise<void> {
    await this.bus.init(['notifications']);
    this.consumer = this.bus
      .consumer({
        groupId: this.opts.groupId,
        from: 'earliest',
        maxBatch: this.opts.maxRecords,
        commitIntervalMs: this.opts.commitIntervalMs,
        partitionsConcurrently: this.opts.partitionsConcurrently ?? 1,
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
        ...(this.opts.until !== undefined && { until: this.opts.until }),
      })
      .on(this.bus.topic('notifications'), async (records) => {
        await this.writer.apply(
          planNotifications(
            records.map((r) => r.event),
            Date.now(),
            this.opts.ttlSeconds,
          ),
        );
      });
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}
