import type { ChatEvent } from '../../schemas/generated/events.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import { deleteConsumerGroup, waitForGroupToReachEnd } from '../../platform/kafka/groups.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';

/**
 * Every gateway instance reads the whole chat topic, in its own consumer group, and hands each
 * record to the service in topic order; the service publishes it to the instance's local
 * sockets. This is the fan-out across instances: no instance talks to another.
 *
 * The group is new per process and starts `lookbackMs` back in the topic (offsets looked up by
 * timestamp), not at its end: a restarted instance then holds, in topic order, what was accepted
 * while it was down and what the archiver may not have written yet, so a reconnecting client's
 * `since` is answered exactly. `start` resolves once that backlog is applied; only then does the
 * transport open. The group is deleted on a clean stop.
 */
export interface FanoutOptions {
  groupId: string;
  lookbackMs: number;
  catchUpDeadlineMs: number;
  onFatal?: (err: Error) => void;
}

export class ChatFanout implements Component {
  readonly name = 'chat-fanout';
  private consumer: EventConsumer | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly apply: (event: ChatEvent) => void,
    private readonly opts: FanoutOptions,
    private readonly log: Logger,
  ) {}

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  async start(): Promise<void> {
    await this.bus.init(['chatMessages']);
    const topic = this.bus.topic('chatMessages');
    this.consumer = this.bus
      .consumer({
        groupId: this.opts.groupId,
        from: { timestamp: Date.now() - this.opts.lookbackMs },
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
      })
      .on(topic, async (records) => {
        for (const r of records) this.apply(r.event);
      });
    await this.consumer.start();
    await waitForGroupToReachEnd(this.bus, this.opts.groupId, [topic.name], {
      deadlineMs: this.opts.catchUpDeadlineMs,
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await deleteConsumerGroup(this.bus, this.opts.groupId, this.log);
  }
}
