import type {
  Admin,
  Consumer,
  ConsumerConfig,
  ICustomPartitioner,
  IHeaders,
  Kafka,
  KafkaMessage,
  ProducerConfig,
} from 'kafkajs';
import type { PartitionOffset } from './admin.ts';
import { createKafka } from './client.ts';
import type {
  ConsumeOptions,
  ConsumerSettings,
  DriverAdmin,
  DriverConsumer,
  DriverOptions,
  DriverProducer,
  KafkaDriver,
  NewTopic,
  RawRecord,
} from './driver.ts';
import { waitForLeaders } from './leaders.ts';
import { murmur2 } from './murmur2.ts';

/**
 * The bus on kafkajs (driver.ts). kafkajs has had no release since 2023; it stays selectable
 * (KAFKA_CLIENT=kafkajs) and tested by the bus's own integration specs.
 */
export function kafkajsDriver(opts: DriverOptions): KafkaDriver {
  const kafka = createKafka(opts);
  return {
    name: 'kafkajs',
    producer: () => kafkajsProducer(kafka),
    consumer: (settings) => new KafkajsConsumer(kafka, settings),
    admin: () => new KafkajsAdmin(kafka),
  };
}

/**
 * kafkajs's default partitioner, computed without its per-record costs (a Long-based murmur2, a
 * Buffer per key and a filtered copy of the partition list per record), which were the single
 * largest item in a publish profile. Same results: keyed records go to
 * `toPositive(murmur2(utf8(key))) % partitionCount`, as in the Java client, so every producer puts
 * an entity on the same partition; keyless records rotate over the available partitions.
 */
export const JavaCompatiblePartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  const scratch = Buffer.allocUnsafe(256);
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const { key } = message;
    if (key !== null && key !== undefined) {
      let data: Buffer;
      let length: number;
      if (Buffer.isBuffer(key)) {
        data = key;
        length = key.length;
      } else {
        const text = String(key);
        // Fast path: at most 3 bytes per UTF-16 unit, so a short key always fits the scratch buffer.
        if (text.length * 3 <= scratch.length) {
          data = scratch;
          length = scratch.write(text, 0, 'utf8');
        } else {
          data = Buffer.from(text, 'utf8');
          length = data.length;
        }
      }
      return (murmur2(data, length) & 0x7fffffff) % partitionMetadata.length;
    }
    let counter = counters.get(topic);
    if (counter === undefined) counter = (Math.random() * 0x100000000) >>> 0;
    counters.set(topic, ++counter);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length > 0) return available[(counter & 0x7fffffff) % available.length]!.partitionId;
    return (counter & 0x7fffffff) % partitionMetadata.length;
  };
};

const PRODUCER_SETTINGS = {
  idempotent: true,
  maxInFlightRequests: 5,
  allowAutoTopicCreation: false,
  createPartitioner: JavaCompatiblePartitioner,
} satisfies ProducerConfig;

function kafkajsProducer(kafka: Kafka): DriverProducer {
  const producer = kafka.producer(PRODUCER_SETTINGS);
  return {
    connect: () => producer.connect(),
    send: async (topic, records) =>
      void (await producer.send({
        topic,
        acks: -1,
        messages: records.map((r) => ({
          key: r.key,
          value: r.value,
          ...(r.headers && { headers: r.headers as IHeaders }),
          ...(r.timestamp !== undefined && { timestamp: String(r.timestamp) }),
        })),
      })),
    disconnect: () => producer.disconnect(),
  };
}

const CONSUMER_SETTINGS = {
  allowAutoTopicCreation: false,
  sessionTimeout: 30_000,
  heartbeatInterval: 3000,
  maxBytesPerPartition: 4 * 1024 * 1024,
  maxWaitTimeInMs: 250,
} satisfies Omit<ConsumerConfig, 'groupId'>;

const rawRecord = (topic: string, partition: number, m: KafkaMessage): RawRecord => ({
  topic,
  partition,
  offset: m.offset,
  timestamp: Number(m.timestamp),
  key: m.key,
  value: m.value,
  headers: m.headers ?? {},
});

class KafkajsConsumer implements DriverConsumer {
  private readonly consumer: Consumer;

  constructor(kafka: Kafka, settings: ConsumerSettings) {
    this.consumer = kafka.consumer({
      groupId: settings.groupId,
      ...CONSUMER_SETTINGS,
      ...(settings.maxWaitMs !== undefined && { maxWaitTimeInMs: settings.maxWaitMs }),
      ...(settings.fetchBytes && {
        maxBytesPerPartition: settings.fetchBytes.perPartition,
        maxBytes: settings.fetchBytes.total,
      }),
    });
  }

  onAssigned(listener: (assignment: Record<string, number[]>) => void): void {
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => listener(payload.memberAssignment));
  }

  onCrash(listener: (err: Error, restarting: boolean) => void): void {
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => listener(payload.error, payload.restart));
  }

  async start(opts: ConsumeOptions): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: false,
      partitionsConsumedConcurrently: opts.partitionsConcurrently,
      eachBatch: async (p) => {
        const { topic, partition } = p.batch;
        await opts.onBatch({
          topic,
          partition,
          records: p.batch.messages.map((m) => rawRecord(topic, partition, m)),
          lag: () => Number(p.batch.offsetLag()),
          isLive: () => p.isRunning() && !p.isStale(),
          heartbeat: () => p.heartbeat(),
          resolveOffset: (offset) => p.resolveOffset(offset),
        });
      },
    });
  }

  async commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    await this.consumer.commitOffsets(offsets);
  }

  seek(topic: string, partition: number, offset: string): void {
    this.consumer.seek({ topic, partition, offset });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

const TOPIC_RESOURCE = 2;

class KafkajsAdmin implements DriverAdmin {
  private connected: Promise<Admin> | undefined;

  constructor(private readonly kafka: Kafka) {}

  async close(): Promise<void> {
    const admin = await this.connected?.catch(() => undefined);
    this.connected = undefined;
    await admin?.disconnect();
  }

  async topicOffsets(topic: string) {
    return (await (await this.client()).fetchTopicOffsets(topic)).map((p) => ({
      topic,
      partition: p.partition,
      low: Number(p.low),
      high: Number(p.high),
    }));
  }

  async offsetsAt(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    // kafkajs already answers the end for a partition with nothing that late.
    return (await (await this.client()).fetchTopicOffsetsByTimestamp(topic, timestamp)).map((p) => ({
      topic,
      partition: p.partition,
      offset: Number(p.offset),
    }));
  }

  async committedOffsets(groupId: string, topics: string[]): Promise<PartitionOffset[]> {
    return (await (await this.client()).fetchOffsets({ groupId, topics })).flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset) })),
    );
  }

  async setCommittedOffsets(groupId: string, offsets: PartitionOffset[]): Promise<void> {
    const admin = await this.client();
    for (const topic of new Set(offsets.map((o) => o.topic))) {
      const partitions = offsets
        .filter((o) => o.topic === topic)
        .map((o) => ({ partition: o.partition, offset: String(o.offset) }));
      await admin.setOffsets({ groupId, topic, partitions });
    }
  }

  async hasMembers(groupId: string): Promise<boolean> {
    const { groups } = await (await this.client()).describeGroups([groupId]);
    return groups.some((g) => g.members.length > 0);
  }

  async listGroups(): Promise<string[]> {
    return (await (await this.client()).listGroups()).groups.map((g) => g.groupId);
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    await (await this.client()).deleteGroups(groupIds);
  }

  async listTopics(): Promise<string[]> {
    return (await this.client()).listTopics();
  }

  async deleteTopics(topics: string[]): Promise<void> {
    await (await this.client()).deleteTopics({ topics, timeout: 30_000 });
  }

  async createTopics(topics: NewTopic[]): Promise<void> {
    const admin = await this.client();
    await admin
      .createTopics({
        // kafkajs's own wait gives up when the broker does not know the topic yet
        // (UNKNOWN_TOPIC_OR_PARTITION straight after creating it, seen under load), so: ours.
        waitForLeaders: false,
        topics: topics.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        })),
      })
      .catch((err: { type?: string }) => {
        if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
      });
    const names = topics.map((t) => t.name);
    await waitForLeaders(names, async () => {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      return names.every((t) => {
        const m = meta.topics.find((x) => x.name === t);
        return m !== undefined && m.partitions.length > 0 && m.partitions.every((p) => p.leader >= 0);
      });
    });
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const meta = await (await this.client()).fetchTopicMetadata({ topics });
    return new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
  }

  async createPartitions(grow: Array<{ topic: string; count: number }>): Promise<void> {
    await (await this.client()).createPartitions({ topicPartitions: grow });
  }

  async topicConfigs(topics: string[]): Promise<Map<string, Record<string, string>>> {
    const described = await (
      await this.client()
    ).describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: TOPIC_RESOURCE, name })),
    });
    return new Map(
      described.resources.map((r) => [
        r.resourceName,
        Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])),
      ]),
    );
  }

  async alterTopicConfigs(topics: Array<{ topic: string; config: Record<string, string> }>): Promise<void> {
    await (
      await this.client()
    ).alterConfigs({
      validateOnly: false,
      resources: topics.map((t) => ({
        type: TOPIC_RESOURCE,
        name: t.topic,
        configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  private client(): Promise<Admin> {
    if (!this.connected) {
      const admin = this.kafka.admin();
      this.connected = admin.connect().then(
        () => admin,
        (err: unknown) => {
          // The next question tries a fresh connection.
          this.connected = undefined;
          throw err;
        },
      );
    }
    return this.connected;
  }
}
