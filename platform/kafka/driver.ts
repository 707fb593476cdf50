import type { PartitionOffset, PartitionRange } from './admin.ts';
import type { KafkaSecurity } from './security.ts';
import type { Logger } from '../logger.ts';

/**
 * What the bus needs from a Kafka client library, and nothing more: a producer, a group consumer
 * that hands over one partition's records at a time, and the admin questions the platform asks.
 * Each library is adapted once (kafkajs-driver.ts, platformatic-driver.ts); the bus, the consumer
 * runner, the reader and the admin helpers are written against this, so the library is chosen by
 * configuration (KAFKA_CLIENT) without touching any of them.
 */
export const KAFKA_CLIENTS = ['kafkajs', 'platformatic'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

/** The library every bus uses unless its config names another (README: "Which Kafka client"). */
export const DEFAULT_KAFKA_CLIENT: KafkaClientName = 'kafkajs';

/** Header values as they travel: a duplicated header name holds every value, in order. */
export type RecordHeaders = Record<string, Buffer | string | Array<Buffer | string> | undefined>;

/** A consumed record as the broker holds it: bytes, headers, its place in the partition. */
export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Broker timestamp (ms). */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders;
}

export interface OutgoingRecord {
  key: Buffer | string | null;
  value: Buffer | null;
  headers?: RecordHeaders | undefined;
  /** Create time (ms); the client's clock when absent. */
  timestamp?: number;
}

export interface DriverOptions {
  brokers: string[];
  clientId: string;
  /** The library's own warnings and errors go here; silent without. */
  logger?: Logger | undefined;
  security?: KafkaSecurity | undefined;
}

/**
 * Idempotent, acks from all in-sync replicas, keys partitioned as the Java client does
 * (murmur2): `send` resolves once every record is acknowledged. Sends may overlap.
 */
export interface DriverProducer {
  connect(): Promise<void>;
  send(topic: string, records: OutgoingRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** One partition's fetched records, handed over in order; the next batch of that partition waits for it. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  records: RawRecord[];
  /** Records in the partition after this batch, as far as the client knows; undefined when it does not. */
  lag(): number | undefined;
  /** False once the consumer stops, the partition is revoked by a rebalance, or a seek moved it. */
  isLive(): boolean;
  /** Keeps the membership alive during a long handler, where the library needs telling. */
  heartbeat(): Promise<void>;
  /** Records up to `offset` are done: a batch fetched again after a restart begins after it. */
  resolveOffset(offset: string): void;
}

export interface ConsumeOptions {
  topics: string[];
  /** Where a partition the group has committed nothing for starts. */
  fromBeginning: boolean;
  /** Partitions whose batches are in hand at once; each partition's stay in order. */
  partitionsConcurrently: number;
  onBatch: (batch: PartitionBatch) => Promise<void>;
}

/**
 * A member of a consumer group. Rebalances follow the classic (eager) protocol: every rebalance
 * revokes the whole assignment, and every batch in hand goes stale (isLive() false).
 */
export interface DriverConsumer {
  /** The whole assignment (topic -> partitions) after each join, before any of its records is handed over. */
  onAssigned(listener: (assignment: Record<string, number[]>) => void): void;
  /** A failure of the client; `restarting` false means it gave up, and the consumer is dead. */
  onCrash(listener: (err: Error, restarting: boolean) => void): void;
  start(opts: ConsumeOptions): Promise<void>;
  /** Commits these positions (the next offset to read) for the group. */
  commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void>;
  seek(topic: string, partition: number, offset: string): void;
  /** Leaves the group; batches in hand go stale. */
  stop(): Promise<void>;
}

/** Bytes one fetch may bring, from each partition and from all of them together. */
export interface FetchBytes {
  perPartition: number;
  total: number;
}

export interface ConsumerSettings {
  groupId: string;
  /** How long a fetch waits for records; the consumer runner's default when absent. */
  maxWaitMs?: number;
  /** The driver's own sizes when absent. */
  fetchBytes?: FetchBytes;
}

/** A topic to create: partitions and its configuration entries (retention, compaction). */
export interface NewTopic {
  name: string;
  partitions: number;
  config: Record<string, string>;
}

/**
 * The admin questions, each in the library's terms; connects on first use. Offsets are numbers:
 * JavaScript's safe integers outlast any partition's history.
 */
export interface DriverAdmin {
  close(): Promise<void>;
  topicOffsets(topic: string): Promise<PartitionRange[]>;
  /** Per partition, the first offset at or after `timestamp` (ms), or the end where none is. */
  offsetsAt(topic: string, timestamp: number): Promise<PartitionOffset[]>;
  /** -1 where the group has committed nothing. */
  committedOffsets(groupId: string, topics: string[]): Promise<PartitionOffset[]>;
  /** For a group none of whose members is running. */
  setCommittedOffsets(groupId: string, offsets: PartitionOffset[]): Promise<void>;
  hasMembers(groupId: string): Promise<boolean>;
  listGroups(): Promise<string[]>;
  deleteGroups(groupIds: string[]): Promise<void>;
  listTopics(): Promise<string[]>;
  deleteTopics(topics: string[]): Promise<void>;
  /** Waits for the leaders; a topic that already exists is not an error. */
  createTopics(topics: NewTopic[]): Promise<void>;
  partitionCounts(topics: string[]): Promise<Map<string, number>>;
  createPartitions(grow: Array<{ topic: string; count: number }>): Promise<void>;
  /** Each topic's configuration entries, as the broker reports them. */
  topicConfigs(topics: string[]): Promise<Map<string, Record<string, string>>>;
  alterTopicConfigs(topics: Array<{ topic: string; config: Record<string, string> }>): Promise<void>;
}

export interface KafkaDriver {
  readonly name: KafkaClientName;
  producer(): DriverProducer;
  consumer(settings: ConsumerSettings): DriverConsumer;
  admin(): DriverAdmin;
}

/** The setting as written (KAFKA_CLIENT), or a message naming the choices. */
export function parseKafkaClient(value: string): KafkaClientName {
  if ((KAFKA_CLIENTS as readonly string[]).includes(value)) return value as KafkaClientName;
  throw new Error(`KAFKA_CLIENT must be one of ${KAFKA_CLIENTS.join(', ')}, not "${value}"`);
}
