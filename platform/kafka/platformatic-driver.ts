import type { Admin, BaseOptions, MessageToProduce, Producer } from '@platformatic/kafka';
import type { PartitionOffset, PartitionRange } from './admin.ts';
import type {
  DriverAdmin,
  DriverOptions,
  DriverProducer,
  KafkaDriver,
  NewTopic,
  OutgoingRecord,
  RecordHeaders,
} from './driver.ts';
import { waitForLeaders } from './leaders.ts';
import { murmur2 } from './murmur2.ts';
import { PlatformaticConsumer } from './platformatic-consumer.ts';
import { platformatic } from './platformatic-lib.ts';

/**
 * The bus on @platformatic/kafka (driver.ts), pure JavaScript and maintained. The 1.x line is the
 * one that runs on the platform's Node 20 (2.x needs Node 22.19 or later).
 */
export function platformaticDriver(opts: DriverOptions): KafkaDriver {
  const base = baseOptions(opts);
  return {
    name: 'platformatic',
    producer: () => new PlatformaticProducer(base),
    consumer: (settings) => new PlatformaticConsumer(base, settings),
    admin: () => new PlatformaticAdmin(base),
  };
}

export type ClientBase = Pick<
  BaseOptions,
  'clientId' | 'bootstrapBrokers' | 'retries' | 'retryDelay' | 'connectTimeout' | 'tls' | 'sasl'
>;

function baseOptions(opts: DriverOptions): ClientBase {
  const sasl = opts.security?.sasl;
  const tls = opts.security?.tls;
  return {
    clientId: opts.clientId,
    bootstrapBrokers: opts.brokers,
    connectTimeout: 3000,
    retries: 8,
    retryDelay: 200,
    ...(tls && { tls: tls.ca === undefined ? {} : { ca: [tls.ca] } }),
    ...(sasl && {
      sasl: {
        mechanism:
          sasl.mechanism === 'plain' ? 'PLAIN' : sasl.mechanism === 'scram-sha-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512',
        username: sasl.username,
        password: sasl.password,
      },
    }),
  };
}

/**
 * The platform's errors carry `retriable` (platform/errors.ts), which the consumer runner branches
 * on: a broker or network failure is worth another try, a request the broker refused for good
 * (or one the client could not even build) is not.
 */
export function withRetriable(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const found = (e as { findBy?: (property: string, value: unknown) => unknown }).findBy;
  const permanent =
    (e as { code?: string }).code === 'PLT_KFK_USER' ||
    (found !== undefined && found.call(e, 'canRetry', false) !== null);
  return Object.assign(e, { retriable: !permanent });
}

/** Java's partitioner: the client takes the result modulo the partition count. */
const javaPartitioner = (_: unknown, key: Buffer | undefined): number =>
  key === undefined ? Math.floor(Math.random() * 0x7fffffff) : murmur2(key) & 0x7fffffff;

const headerBuffer = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(String(v)));

type Message = MessageToProduce<Buffer, Buffer, string, unknown>;

function toMessage(topic: string, r: OutgoingRecord): Message {
  const m: Message = { topic };
  if (r.key !== null) m.key = typeof r.key === 'string' ? Buffer.from(r.key) : r.key;
  if (r.value !== null) m.value = r.value;
  if (r.timestamp !== undefined) m.timestamp = BigInt(r.timestamp);
  if (r.headers) m.headers = flatHeaders(r.headers);
  return m;
}

/** Kafka allows a header name more than once; the client's Map keeps one value per name: the last. */
function flatHeaders(headers: RecordHeaders): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out.set(name, Array.isArray(value) ? (value[value.length - 1] ?? '') : value);
  }
  return out;
}

/**
 * One produce request in flight at a time, carrying every record handed to `send` while the
 * previous one was out. @platformatic/kafka 1.x gives a partition's batch its sequence number
 * only once the previous batch is acknowledged, so two sends in flight to one partition share a
 * number and the broker drops the second as a duplicate while acknowledging it (platformatic/kafka
 * issue 326, fixed in 2.x only). Coalescing keeps the idempotent producer correct and keeps
 * batches large; a failure fails every send in that request, as one send would.
 */
class PlatformaticProducer implements DriverProducer {
  private readonly producer: Producer<Buffer, Buffer, string, unknown>;
  private queued: Message[] = [];
  private waiting: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private sending = false;

  constructor(base: ClientBase) {
    const { Producer, ProduceAcks } = platformatic();
    this.producer = new Producer({
      ...base,
      idempotent: true,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
      partitioner: javaPartitioner,
      serializers: { headerKey: (k) => (k === undefined ? undefined : Buffer.from(k)), headerValue: headerBuffer },
    });
  }

  /** Fails as kafkajs's connect does when no broker answers; the producer id is fetched on the first send. */
  async connect(): Promise<void> {
    try {
      await this.producer.metadata({ topics: [] });
    } catch (err) {
      throw withRetriable(err);
    }
  }

  send(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      for (const r of records) this.queued.push(toMessage(topic, r));
      this.waiting.push({ resolve, reject });
      if (!this.sending) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.sending = true;
    while (this.queued.length > 0) {
      const messages = this.queued;
      const waiting = this.waiting;
      this.queued = [];
      this.waiting = [];
      try {
        await this.producer.send({ messages });
        for (const w of waiting) w.resolve();
      } catch (err) {
        const e = withRetriable(err);
        for (const w of waiting) w.reject(e);
      }
    }
    this.sending = false;
  }

  async disconnect(): Promise<void> {
    await this.producer.close();
  }
}

const asNumber = (n: bigint | number): number => Number(n);

class PlatformaticAdmin implements DriverAdmin {
  private readonly admin: Admin;

  constructor(base: ClientBase) {
    this.admin = new (platformatic().Admin)(base);
  }

  async close(): Promise<void> {
    await this.admin.close();
  }

  async topicOffsets(topic: string): Promise<PartitionRange[]> {
    const count = (await this.partitionCounts([topic])).get(topic) ?? 0;
    const at = async (timestamp: bigint): Promise<number[]> => {
      const [listed] = await this.admin.listOffsets({
        topics: [
          { name: topic, partitions: Array.from({ length: count }, (_, p) => ({ partitionIndex: p, timestamp })) },
        ],
      });
      const out = new Array<number>(count).fill(0);
      for (const p of listed?.partitions ?? []) out[p.partitionIndex] = asNumber(p.offset);
      return out;
    };
    const { ListOffsetTimestamps } = platformatic();
    const [low, high] = await Promise.all([at(ListOffsetTimestamps.EARLIEST), at(ListOffsetTimestamps.LATEST)]);
    return low.map((l, partition) => ({ topic, partition, low: l, high: high[partition]! }));
  }

  async offsetsAt(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    const count = (await this.partitionCounts([topic])).get(topic) ?? 0;
    const [listed] = await this.admin.listOffsets({
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: count }, (_, p) => ({ partitionIndex: p, timestamp: BigInt(timestamp) })),
        },
      ],
    });
    const ends = await this.topicOffsets(topic);
    // The broker answers -1 for a partition with nothing that late: start at its end then.
    return (listed?.partitions ?? []).map((p) => ({
      topic,
      partition: p.partitionIndex,
      offset: p.offset < 0n ? (ends.find((e) => e.partition === p.partitionIndex)?.high ?? 0) : asNumber(p.offset),
    }));
  }

  async committedOffsets(groupId: string, topics: string[]): Promise<PartitionOffset[]> {
    const counts = await this.partitionCounts(topics);
    const [group] = await this.admin.listConsumerGroupOffsets({
      groups: [
        {
          groupId,
          topics: topics.map((name) => ({
            name,
            partitionIndexes: Array.from({ length: counts.get(name) ?? 0 }, (_, p) => p),
          })),
        },
      ],
    });
    return (group?.topics ?? []).flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: asNumber(p.committedOffset) })),
    );
  }

  async setCommittedOffsets(groupId: string, offsets: PartitionOffset[]): Promise<void> {
    const topics = [...new Set(offsets.map((o) => o.topic))].map((name) => ({
      name,
      partitionOffsets: offsets
        .filter((o) => o.topic === name)
        .map((o) => ({ partition: o.partition, offset: BigInt(o.offset) })),
    }));
    await this.admin.alterConsumerGroupOffsets({ groupId, topics });
  }

  async hasMembers(groupId: string): Promise<boolean> {
    const groups = await this.admin.describeGroups({ groups: [groupId] });
    return [...groups.values()].some((g) => g.members.size > 0);
  }

  async listGroups(): Promise<string[]> {
    return [...(await this.admin.listGroups()).keys()];
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    await this.admin.deleteGroups({ groups: groupIds });
  }

  async listTopics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  async deleteTopics(topics: string[]): Promise<void> {
    await this.admin.deleteTopics({ topics });
  }

  async createTopics(topics: NewTopic[]): Promise<void> {
    for (const t of topics) {
      try {
        await this.admin.createTopics({
          topics: [t.name],
          partitions: t.partitions,
          configs: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        });
      } catch (err) {
        // Another instance may create it at the same moment.
        if ((err as { findBy?: (p: string, v: unknown) => unknown }).findBy?.('apiId', 'TOPIC_ALREADY_EXISTS'))
          continue;
        throw err;
      }
    }
    const names = topics.map((t) => t.name);
    await waitForLeaders(names, async () => {
      const meta = await this.admin.metadata({ topics: names, forceUpdate: true });
      return names.every((t) => meta.topics.get(t)?.partitions.every((p) => p.leader >= 0) ?? false);
    });
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const meta = await this.admin.metadata({ topics, forceUpdate: true });
    return new Map([...meta.topics].map(([name, m]) => [name, m.partitionsCount]));
  }

  async createPartitions(grow: Array<{ topic: string; count: number }>): Promise<void> {
    // No assignments (null, not an empty list, which the broker refuses): it places the new partitions.
    await this.admin.createPartitions({
      topics: grow.map((g) => ({ name: g.topic, count: g.count, assignments: null as never })),
    });
  }

  async topicConfigs(topics: string[]): Promise<Map<string, Record<string, string>>> {
    const described = await this.admin.describeConfigs({
      resources: topics.map((resourceName) => ({
        resourceType: platformatic().ConfigResourceTypes.TOPIC,
        resourceName,
      })),
    });
    return new Map(
      described.map((d) => [
        d.resourceName,
        Object.fromEntries(d.configs.filter((c) => c.value !== null).map((c) => [c.name, c.value!])),
      ]),
    );
  }

  async alterTopicConfigs(topics: Array<{ topic: string; config: Record<string, string> }>): Promise<void> {
    await this.admin.alterConfigs({
      resources: topics.map((t) => ({
        resourceType: platformatic().ConfigResourceTypes.TOPIC,
        resourceName: t.topic,
        configs: Object.entries(t.config).map(([name, value]) => ({ name, value })),
      })),
    });
  }
}
