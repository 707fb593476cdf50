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
 *
 * Live and in a rebuild it is the same shell and the same `apply`; a rebuild (`live: false`) reads
 * a backlog rather than a trickle, so it reads at the REBUILD pace below.
 */
export interface TopicSinkOptions extends WriterOptions {
  /** Records handed to one `apply`, at most. */
  maxBatch: number;
  /** Partitions applied at once (the consumer's default: 1); each keeps its order. */
  partitionsConcurrently?: number;
  /** How often offsets are committed (the consumer's default when absent; REBUILD's in a rebuild). */
  commitIntervalMs?: number;
  /** When this process is handed partitions: state kept per partition set is stale then. */
  onAssigned?: () => void;
}

/**
 * How a rebuild reads (consumer.ts): each partition two rounds ahead of its writes, so fetching
 * and decoding overlap them, and one partition's slow round holds up no other's reads; every
 * fetch brings each partition a share (the broker fills a fetch partition by partition: at the
 * consumer's 4 MiB a partition and 10 MiB a fetch, two or three partitions got all of it); offsets committed
 * five times a second, since the rebuild waits for them to reach the end.
 */
export const REBUILD = {
  roundsAhead: 2,
  fetchBytes: { perPartition: 1024 * 1024, total: 64 * 1024 * 1024 },
  commitIntervalMs: 200,
};

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
        ...(!o.live && {
          readAhead: REBUILD.roundsAhead * o.maxBatch,
          fetchBytes: REBUILD.fetchBytes,
          commitIntervalMs: REBUILD.commitIntervalMs,
        }),
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
