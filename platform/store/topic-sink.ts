import type { EventOf, TopicKey } from '../../schemas/topics.ts';
import type { EventBus } from '../kafka/bus.ts';
import type { ConsumedEvent, EventConsumer } from '../kafka/consumer.ts';
import type { StoreWriter, WriterOptions } from './definition.ts';

/**
 * The shell of every sink that writes one topic into a store: at least once, each chunk the
 * consumer runner hands over is applied (planned, then written idempotently) before the handler
 * returns, and only then is its offset committed. A store outage is a TransientError: the runner
 * backs off and retries the chunk without committing; a record that cannot be applied is
 * dead-lettered on its own.
 */
export interface TopicSinkOptions extends WriterOptions {
  /** Records handed to one `apply`, at most. */
  maxBatch: number;
  /** Partitions applied at once (the consumer's default: 1); each keeps its order. */
  partitionsConcurrently?: number;
  /** How often offsets are committed (the consumer's default when absent). */
  commitIntervalMs?: number;
  /** When this process is handed partitions: state kept per partition set is stale then. */
  onAssigned?: () => void;
}

export class TopicSink<K extends TopicKey> implements StoreWriter {
  private consumer: EventConsumer | undefined;

  constructor(
    readonly name: string,
    private readonly bus: EventBus,
    private readonly topic: K,
    private readonly opts: TopicSinkOptions,
    private readonly apply: (records: ConsumedEvent<EventOf<K>>[]) => Promise<void>,
  ) {}

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  async start(): Promise<void> {
    const o = this.opts;
    await this.bus.init([this.topic]);
    this.consumer = this.bus
      .consumer({
        groupId: o.groupId,
        from: 'earliest',
        maxBatch: o.maxBatch,
        ...(o.partitionsConcurrently !== undefined && { partitionsConcurrently: o.partitionsConcurrently }),
        ...(o.commitIntervalMs !== undefined && { commitIntervalMs: o.commitIntervalMs }),
        ...(o.onAssigned && { onAssigned: o.onAssigned }),
        ...(o.onFatal && { onFatal: o.onFatal }),
        ...(o.until !== undefined && { until: o.until }),
      })
      .on(this.bus.topic(this.topic), this.apply);
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}
