import type { EventBus } from './bus.ts';
import type { KafkaClientName } from './driver.ts';
import { driverFor } from './drivers.ts';

/**
 * A client library alone, what the benchmarks measure the bus against (bench/event-bus.ts,
 * bench/viewers.ts): the bus's client settings (the driver, driver.ts) and none of its code: no
 * codec, no consumer runner. It lives here because nothing outside platform/kafka reaches a
 * client library, and so a change to the bus's settings reaches the peer as well.
 */
export interface BaselineProducer {
  /** Pre-encoded records, acks from all in-sync replicas, as EventProducer sends them. */
  send(topic: string, messages: Array<{ key: string; value: Buffer }>): Promise<void>;
  disconnect(): Promise<void>;
}

const driverOf = (bus: EventBus, client: KafkaClientName) =>
  driverFor(client, {
    brokers: bus.config.brokers,
    clientId: bus.config.clientId,
    logger: bus.log,
    security: bus.config.security,
  });

export async function baselineProducer(bus: EventBus, client: KafkaClientName): Promise<BaselineProducer> {
  const producer = driverOf(bus, client).producer();
  await producer.connect();
  return { send: (topic, messages) => producer.send(topic, messages), disconnect: () => producer.disconnect() };
}

export interface BaselineConsumerOptions {
  groupId: string;
  /** Read from their earliest records. */
  topics: string[];
  /** Commits the end of what was handed over this often (the consumer runner's default: 1000 ms). */
  commitIntervalMs: number;
  onJoin?: () => void;
  /** Each partition batch's records; the next batch of that partition waits for it. */
  onBatch: (records: ReadonlyArray<{ value: Buffer | null }>) => void;
}

export async function baselineConsumer(
  bus: EventBus,
  client: KafkaClientName,
  opts: BaselineConsumerOptions,
): Promise<{ stop(): Promise<void> }> {
  const consumer = driverOf(bus, client).consumer({ groupId: opts.groupId });
  if (opts.onJoin) consumer.onAssigned(opts.onJoin);
  const done = new Map<string, { topic: string; partition: number; offset: string }>();
  const commit = async (): Promise<void> => {
    if (done.size === 0) return;
    const offsets = [...done.values()];
    done.clear();
    await consumer.commit(offsets).catch(() => undefined);
  };
  await consumer.start({
    topics: opts.topics,
    fromBeginning: true,
    partitionsConcurrently: 1,
    onBatch: async (batch) => {
      opts.onBatch(batch.records);
      const last = batch.records[batch.records.length - 1];
      if (!last) return;
      batch.resolveOffset(last.offset);
      done.set(`${batch.topic}|${batch.partition}`, {
        topic: batch.topic,
        partition: batch.partition,
        offset: String(BigInt(last.offset) + 1n),
      });
    },
  });
  const timer = setInterval(() => void commit(), opts.commitIntervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await commit();
      await consumer.stop();
    },
  };
}
