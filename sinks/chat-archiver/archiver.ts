import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventConsumer } from '../../platform/kafka/consumer.ts';
import type { Component } from '../../platform/service.ts';
import { planWrites, type BatchLimits } from './plan.ts';
import type { ChatArchiveWriter } from './store.ts';

/**
 * The chat archiver: live.chat.messages -> Cassandra, at least once. Each chunk the consumer
 * runner hands over is planned (pure) and written (idempotent) before the handler returns, and
 * only then is its offset committed. A Cassandra outage surfaces as a TransientError: the runner
 * backs off and retries the same chunk without committing, and the archiver catches up when
 * Cassandra is back. A record that cannot be archived (a message id that is not time-based) is
 * dead-lettered on its own.
 *
 * The time window of a batch is the consumer's fetch wait (250 ms): rows are written as they
 * arrive, in batches of up to `maxRows` per partition, never held back to fill a batch.
 */
export interface ArchiverOptions {
  groupId: string;
  maxRecords: number;
  limits: BatchLimits;
  /** Partitions written at once (default 1); each keeps its order, and a stream lives in one. */
  partitionsConcurrently?: number;
  onFatal?: (err: Error) => void;
  /** A point-in-time rebuild: only records appended up to this time (ms). */
  until?: number;
}

export class ChatArchiver implements Component {
  readonly name = 'chat-archiver';
  private consumer: EventConsumer | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly writer: ChatArchiveWriter,
    private readonly opts: ArchiverOptions,
  ) {}

  get healthy(): boolean {
    return this.consumer?.healthy ?? false;
  }

  async start(): Promise<void> {
    await this.bus.init(['chatMessages']);
    this.consumer = this.bus
      .consumer({
        groupId: this.opts.groupId,
        from: 'earliest',
        maxBatch: this.opts.maxRecords,
        partitionsConcurrently: this.opts.partitionsConcurrently ?? 1,
        // The per-minute tallies only know what this process wrote while it held the partitions.
        onAssigned: () => this.writer.forgetTallies(),
        ...(this.opts.onFatal && { onFatal: this.opts.onFatal }),
        ...(this.opts.until !== undefined && { until: this.opts.until }),
      })
      .on(this.bus.topic('chatMessages'), async (records) => {
        await this.writer.apply(
          planWrites(
            records.map((r) => r.event),
            Date.now(),
            this.opts.limits,
          ),
        );
      });
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}
