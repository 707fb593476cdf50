import type { EventBus } from './bus.ts';
import { createKafka } from './client.ts';
import { CONSUMER_SETTINGS } from './consumer.ts';
import { PRODUCER_SETTINGS } from './producer.ts';

/**
 * kafkajs alone, what the benchmarks measure the bus against (bench/event-bus.ts,
 * bench/viewers.ts): the bus's client settings and none of its code. It lives here because
 * nothing outside platform/kafka reaches kafkajs, and so a change to the bus's settings reaches
 * the peer as well.
 */
export interface BaselineProducer {
  /** Pre-encoded records, acks from all in-sync replicas, as EventProducer sends them. */
  send(topic: string, messages: Array<{ key: string; value: Buffer }>): Promise<void>;
  disconnect(): Promise<void>;
}

const clientOf = (bus: EventBus) =>
  createKafka({
    brokers: bus.config.brokers,
    clientId: bus.config.clientId,
    logger: bus.log,
    ...(bus.config.security && { security: bus.config.security }),
  });

export async function baselineProducer(bus: EventBus): Promise<BaselineProducer> {
  const producer = clientOf(bus).producer(PRODUCER_SETTINGS);
  await producer.connect();
  return {
    send: async (topic, messages) => void (await producer.send({ topic, acks: -1, messages })),
    disconnect: () => producer.disconnect(),
  };
}

export interface BaselineConsumerOptions {
  groupId: string;
  /** Read from their earliest records. */
  topics: string[];
  /** kafkajs's autoCommitInterval; without it kafkajs commits after every batch. */
  commitIntervalMs?: number;
  onJoin?: () => void;
  /** Each fetched batch's records, in eachBatch; kafkajs resolves the batch when it returns. */
  onBatch: (records: ReadonlyArray<{ value: Buffer | null }>) => void;
}

export async function baselineConsumer(
  bus: EventBus,
  opts: BaselineConsumerOptions,
): Promise<{ stop(): Promise<void> }> {
  const consumer = clientOf(bus).consumer({ groupId: opts.groupId, ...CONSUMER_SETTINGS });
  if (opts.onJoin) consumer.on(consumer.events.GROUP_JOIN, opts.onJoin);
  await consumer.connect();
  await consumer.subscribe({ topics: opts.topics, fromBeginning: true });
  await consumer.run({
    ...(opts.commitIntervalMs !== undefined && { autoCommitInterval: opts.commitIntervalMs }),
    eachBatch: async ({ batch }) => opts.onBatch(batch.messages),
  });
  return { stop: () => consumer.disconnect() };
}
