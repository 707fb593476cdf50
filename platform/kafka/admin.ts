import type { TopicSpec } from '../../schemas/topics.ts';
import { DEFAULT_KAFKA_CLIENT, type DriverAdmin, type KafkaClientName } from './driver.ts';
import { driverFor } from './drivers.ts';
import { catalogTopic, ensureTopics, type ResolvedTopic } from './topics.ts';

/**
 * What processes and tools ask the cluster, over one client admin (driver.ts) that connects on
 * first use and is closed with `close()` (EventBus.withAdmin for a one-off question). Offsets are
 * numbers: JavaScript's safe integers outlast any partition's history.
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
  private closed = false;

  constructor(private readonly admin: DriverAdmin) {}

  /** For good: a question asked after it fails, rather than open a connection nobody closes. */
  async close(): Promise<void> {
    this.closed = true;
    await this.admin.close();
  }

  async topicOffsets(topic: string): Promise<PartitionRange[]> {
    return this.ask().topicOffsets(topic);
  }

  /**
   * Per partition, the first record appended at or after `timestamp` (ms), or the end where none
   * is: where a reader that wants everything since then starts.
   */
  async offsetsAt(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    return this.ask().offsetsAt(topic, timestamp);
  }

  /** The group's committed offsets in these topics; -1 where it has committed nothing. */
  async committedOffsets(groupId: string, topics: string[]): Promise<PartitionOffset[]> {
    return this.ask().committedOffsets(groupId, topics);
  }

  /**
   * Commits offsets for a group none of whose members is running (the broker refuses otherwise):
   * where a new member of it will start, or a ledger of what a tool has done.
   */
  async setCommittedOffsets(groupId: string, offsets: PartitionOffset[]): Promise<void> {
    return this.ask().setCommittedOffsets(groupId, offsets);
  }

  async hasMembers(groupId: string): Promise<boolean> {
    return this.ask().hasMembers(groupId);
  }

  async listGroups(): Promise<string[]> {
    return this.ask().listGroups();
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    if (groupIds.length) await this.ask().deleteGroups(groupIds);
  }

  async listTopics(): Promise<string[]> {
    return this.ask().listTopics();
  }

  async deleteTopics(topics: string[]): Promise<void> {
    if (topics.length) await this.ask().deleteTopics(topics);
  }

  /** The catalog's topics and their dead-letter topics, as catalogued (topics.ts). */
  async ensureTopics(topics: ResolvedTopic[]): Promise<{ created: string[]; altered: string[] }> {
    return ensureTopics(this.ask(), topics);
  }

  /** A topic shaped like a catalog entry (partitions, retention), without a dead-letter topic. */
  async createTopic(name: string, spec: Pick<TopicSpec<unknown>, 'partitions' | 'retention'>): Promise<void> {
    return this.ask().createTopics([catalogTopic(name, spec)]);
  }

  private ask(): DriverAdmin {
    if (this.closed) throw new Error('the Kafka admin was closed');
    return this.admin;
  }
}

/** An admin for a process that has brokers but no bus (the test runner), quiet in its logs. */
export function brokerAdmin(
  brokers: string[],
  clientId: string,
  client: KafkaClientName = DEFAULT_KAFKA_CLIENT,
): BusAdmin {
  return new BusAdmin(driverFor(client, { brokers, clientId }).admin());
}
