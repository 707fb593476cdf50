import type { Metrics } from '../metrics.ts';
import type { EventCodec } from './codec.ts';
import type { DriverProducer, OutgoingRecord, RecordHeaders } from './driver.ts';

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
    private readonly producer: DriverProducer,
    private readonly metrics: Metrics,
  ) {}

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async publish<T>(topic: TopicHandle<T>, events: T[], headers?: RecordHeaders): Promise<void> {
    if (events.length === 0) return;
    await this.producer.send(
      topic.name,
      topic.codec.encodeAll(events).map((value, i) => ({ key: String(events[i]![topic.key]), value, headers })),
    );
    this.metrics.produced.inc({ topic: topic.name }, events.length);
  }

  /** Raw bytes, for the dead-letter path and re-drive: no encoding, the record is sent as it was. */
  async sendRaw(topic: string, records: OutgoingRecord[]): Promise<void> {
    await this.producer.send(topic, records);
    this.metrics.produced.inc({ topic }, records.length);
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}
