import type { ICustomPartitioner, IHeaders, Producer, ProducerConfig } from 'kafkajs';
import type { Metrics } from '../metrics.ts';
import type { EventCodec } from './codec.ts';

/**
 * Idempotent producer with acks from all in-sync replicas: a retried send never duplicates or
 * reorders a partition's records. `publish` resolves only once Kafka acknowledged every event.
 */
export interface TopicHandle<T> {
  name: string;
  key: keyof T & string;
  codec: EventCodec<T>;
}

export class EventProducer {
  constructor(
    private readonly producer: Producer,
    private readonly metrics: Metrics,
  ) {}

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async publish<T>(topic: TopicHandle<T>, events: T[], headers?: IHeaders): Promise<void> {
    if (events.length === 0) return;
    await this.producer.send({
      topic: topic.name,
      acks: -1,
      messages: topic.codec
        .encodeAll(events)
        .map((value, i) => ({ key: String(events[i]![topic.key]), value, headers })),
    });
    this.metrics.produced.inc({ topic: topic.name }, events.length);
  }

  /** Raw bytes, for the dead-letter path and re-drive: no encoding, the record is sent as it was. */
  async sendRaw(
    topic: string,
    records: Array<{ key: Buffer | string | null; value: Buffer | null; headers?: IHeaders }>,
  ): Promise<void> {
    await this.producer.send({ topic, acks: -1, messages: records });
    this.metrics.produced.inc({ topic }, records.length);
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
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

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) over data[0, length), in 32-bit integer math. */
export function murmur2(data: Buffer, length = data.length): number {
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[tail]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}

/** The settings of every producer the bus hands out (EventBus.producer), and of the benchmarks' kafkajs-alone peer. */
export const PRODUCER_SETTINGS = {
  idempotent: true,
  maxInFlightRequests: 5,
  allowAutoTopicCreation: false,
  createPartitioner: JavaCompatiblePartitioner,
} satisfies ProducerConfig;
