import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import type { Component } from '../../platform/service.ts';
import { deleteConsumerGroup, waitForGroupToReachEnd } from '../../platform/kafka/groups.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import type { StreamRegistry } from './registry.ts';

/**
 * Keeps a StreamRegistry up to date from the topics. The consumer group must be unique to the
 * process instance: every API instance needs every partition, not a share of them. `start`
 * resolves only once everything already on the topics is applied, so an instance never answers
 * 404 for a stream that exists.
 *
 * Start-up reads the whole lifecycle topic (kept forever) and folds every stream's events; the
 * registry drops ended streams beyond its cache as it goes, so memory stays bounded, but the time
 * to catch up still grows with history. Skipping ended streams cheaply needs to know they ended
 * before reading them: a compacted snapshot topic of open streams, or a start offset saved with
 * such a snapshot, would do it; not done yet.
 */
export interface RegistryProjectionOptions {
  groupId: string;
  catchUpDeadlineMs: number;
  onFatal?: (err: Error) => void;
  /** Called with each lifecycle event once the registry has applied it. */
  onLifecycle?: (event: StreamLifecycleEvent) => void;
}

export class StreamRegistryProjection implements Component {
  readonly name = 'stream-registry';
  private consumer: EventConsumer | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly registry: StreamRegistry,
    private readonly opts: RegistryProjectionOptions,
  ) {}

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  async start(): Promise<void> {
    await this.bus.init(['streamLifecycle', 'viewerCounts']);
    const lifecycle = this.bus.topic('streamLifecycle');
    const counts = this.bus.topic('viewerCounts');
    this.consumer = this.bus
      .consumer({
        groupId: this.opts.groupId,
        from: 'earliest',
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
      })
      .on(lifecycle, async (records) => {
        for (const r of records) {
          this.registry.applyLifecycle(r.event, Number(r.version));
          this.opts.onLifecycle?.(r.event);
        }
      })
      .on(counts, async (records) => {
        for (const r of records) this.registry.applyViewers(r.event, Number(r.version));
      });
    await this.consumer.start();
    await waitForGroupToReachEnd(this.bus, this.opts.groupId, [lifecycle.name, counts.name], {
      deadlineMs: this.opts.catchUpDeadlineMs,
    });
  }

  /** The group is this instance's alone: once stopped, nothing will resume it, so it is deleted. */
  async stop(): Promise<void> {
    await this.consumer?.stop();
    await deleteConsumerGroup(this.bus, this.opts.groupId, this.bus.log);
  }
}
