import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import type { Component } from '../../platform/service.ts';
import { planEdges } from './plan.ts';
import type { FollowGraphWriter } from './store.ts';

/**
 * The follows sink: live.user.follows -> the follower graph in Cassandra, at least once. A chunk
 * is planned (pure) and written (idempotent, latest per pair wins by offset) before the handler
 * returns; only then is its offset committed. A Cassandra outage is a TransientError: the runner
 * retries the chunk without committing.
 */
export interface FollowsSinkOptions {
  groupId: string;
  maxRecords: number;
  onFatal?: (err: Error) => void;
  /** Rebuilds: records appended after this broker time are skipped (see EventConsumer). */
  until?: number;
}

export class FollowsSink implements Component {
  readonly name = 'follows-sink';
  private consumer: EventConsumer | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly writer: FollowGraphWriter,
    private readonly opts: FollowsSinkOptions,
  ) {}

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  async start(): Promise<void> {
    await this.bus.init(['userFollows']);
    this.consumer = this.bus
      .consumer({
        groupId: this.opts.groupId,
        from: 'earliest',
        maxBatch: this.opts.maxRecords,
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
        ...(this.opts.until !== undefined && { until: this.opts.until }),
      })
      .on(this.bus.topic('userFollows'), async (records) => {
        const { edges, users } = planEdges(records);
        await this.writer.apply(edges, users);
      });
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}
