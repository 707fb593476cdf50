import type { Admin, Kafka } from 'kafkajs';
import type { TopicSpec } from '../../schemas/topics.ts';
import { createKafka } from './client.ts';
import { catalogTopic, ensureTopics, type ResolvedTopic } from './topics.ts';

/**
 * What processes and tools ask the cluster, over one kafkajs admin that connects on first use and
 * is closed with `close()` (EventBus.withAdmin for a one-off question). Offsets are numbers:
 * JavaScript's safe integers outlast any partition's history.
 */

/** A position in a partition: the offset of the next record to read there (-1: none). */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** What a partition holds: offsets [low, high), so high is where the next record will go. */
export interface PartitionRange {
  topic: string;
  partition: number;
  low: number;
  high: number;
}

export class BusAdmin {
  private connected: Promise<Admin> | undefined;
  private closed = false;

  constructor(private readonly kafka: Kafka) {}

  /** For good: a question asked after it fails, rather than open a connection nobody closes. */
  async close(): Promise<void> {
    this.closed = true;
    const admin = await this.connected?.catch(() => undefined);
    this.connected = undefined;
    await admin?.disconnect();
  }

  async topicOffsets(topic: string): Promise<PartitionRange[]> {
    const admin = await this.client();
    return (await admin.fetchTopicOffsets(topic)).map((p) => ({
      topic,
      partition: p.partition,
      low: Number(p.low),
      high: Number(p.high),
    }));
  }

  /**
   * Per partition, the first record appended at or after `timestamp` (ms), or the end where none
   * is: where a reader that wants everything since then starts.
   */
  async offsetsAt(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    const admin = await this.client();
    // kafkajs already answers the end for a partition with nothing that late.
    return (await admin.fetchTopicOffsetsByTimestamp(topic, timestamp)).map((p) => ({
      topic,
      partition: p.partition,
      offset: Number(p.offset),
    }));
  }

  /** The group's committed offsets in these topics; -1 where it has committed nothing. */
  async committedOffsets(groupId: string, topics: string[]): Promise<PartitionOffset[]> {
    const admin = await this.client();
    return (await admin.fetchOffsets({ groupId, topics })).flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset) })),
    );
  }

  /**
   * Commits offsets for a group none of whose members is running (kafkajs refuses otherwise): where
   * a new member of it will start, or a ledger of what a tool has done.
   */
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
    const admin = await this.client();
    const { groups } = await admin.describeGroups([groupId]);
    return groups.some((g) => g.members.length > 0);
  }

  async listGroups(): Promise<string[]> {
    const admin = await this.client();
    return (await admin.listGroups()).groups.map((g) => g.groupId);
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    if (!groupIds.length) return;
    const admin = await this.client();
    await admin.deleteGroups(groupIds);
  }

  async listTopics(): Promise<string[]> {
    const admin = await this.client();
    return admin.listTopics();
  }

  async deleteTopics(topics: string[]): Promise<void> {
    if (!topics.length) return;
    const admin = await this.client();
    await admin.deleteTopics({ topics, timeout: 30_000 });
  }

  /** The catalog's topics and their dead-letter topics, as catalogued (topics.ts). */
  async ensureTopics(topics: ResolvedTopic[]): Promise<{ created: string[]; altered: string[] }> {
    return ensureTopics(await this.client(), topics);
  }

  /** A topic shaped like a catalog entry (partitions, retention), without a dead-letter topic. */
  async createTopic(name: string, spec: Pick<TopicSpec<unknown>, 'partitions' | 'retention'>): Promise<void> {
    const admin = await this.client();
    await admin.createTopics({ waitForLeaders: true, topics: [catalogTopic(name, spec)] });
  }

  private client(): Promise<Admin> {
    if (this.closed) return Promise.reject(new Error('the Kafka admin was closed'));
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

/** An admin for a process that has brokers but no bus (the test runner), quiet in its logs. */
export function brokerAdmin(brokers: string[], clientId: string): BusAdmin {
  return new BusAdmin(createKafka({ brokers, clientId }));
}
