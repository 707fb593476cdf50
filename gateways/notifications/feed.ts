import type { NotificationCreated } from '../../schemas/generated/events.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import { deleteConsumerGroup } from '../../platform/kafka/groups.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';

/**
 * Every push-gateway instance reads all of live.notifications in a consumer group of its own
 * (a user's sockets may be on any instance) and hands each notification to `push`. The group is
 * new per process and starts at the end of the topic as it was at start: a push is for who is connected now; what
 * was missed is in the inbox (GET /api/v1/me/notifications). Nothing appended after
 * `start` began is missed. Deleted on a clean stop.
 */
export class NotificationFeed implements Component {
  readonly name = 'notification-feed';
  private consumer: EventConsumer | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly push: (n: NotificationCreated) => void,
    private readonly opts: { groupId: string; onFatal?: (err: Error) => void },
    private readonly log: Logger,
  ) {}

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  async start(): Promise<void> {
    await this.bus.init(['notifications']);
    // The end as it is now, not at the join ('latest'): whatever is appended from here on is pushed.
    const ends = await this.bus.withAdmin((admin) => admin.topicOffsets(this.bus.topicName('notifications')));
    this.consumer = this.bus
      .consumer({
        groupId: this.opts.groupId,
        from: { offsets: ends.map(({ topic, partition, high }) => ({ topic, partition, offset: high })) },
        maxBatch: 5000,
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
      })
      .on(this.bus.topic('notifications'), async (records) => {
        for (const r of records) this.push(r.event);
      });
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await deleteConsumerGroup(this.bus, this.opts.groupId, this.log);
  }
}
