import { expand, loadNamedSchemas } from '../../schemas/load.ts';
import { TOPICS, subjectOf, type EventOf, type TopicKey } from '../../schemas/topics.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { BusAdmin } from './admin.ts';
import { DEFAULT_KAFKA_CLIENT, type KafkaClientName, type KafkaDriver } from './driver.ts';
import { driverFor } from './drivers.ts';
import type { KafkaSecurity } from './security.ts';
import { EventCodec } from './codec.ts';
import { EventConsumer, type ConsumerOptions } from './consumer.ts';
import { EventProducer, type TopicHandle } from './producer.ts';
import { readTopic, type ReadOptions, type RecordListener, type TopicReading } from './reader.ts';
import { SchemaRegistryClient } from './registry.ts';

/**
 * The typed event bus: the catalog's topics, bound to this deployment's topic prefix, with
 * codecs registered in the schema registry. A process builds one bus, calls `init` for the topics
 * it touches, and gets typed producers and consumers from it. The bus owns the Kafka client:
 * nothing outside platform/kafka reaches a client library, and the library is a setting
 * (`client`, KAFKA_CLIENT; driver.ts).
 */
export interface BusConfig {
  brokers: string[];
  registryUrl: string;
  clientId: string;
  /** Prepended to every topic name; tests use a random one to isolate themselves. */
  topicPrefix: string;
  /** A secured cluster's credentials and TLS (platform/kafka/security.ts); plaintext when absent. */
  security?: KafkaSecurity;
  /** The client library (driver.ts); DEFAULT_KAFKA_CLIENT when absent. */
  client?: KafkaClientName;
}

export class EventBus {
  readonly driver: KafkaDriver;
  readonly registry: SchemaRegistryClient;
  private readonly handles = new Map<TopicKey, TopicHandle<unknown>>();
  private readonly named = loadNamedSchemas();

  constructor(
    readonly config: BusConfig,
    readonly metrics: Metrics,
    readonly log: Logger,
  ) {
    this.driver = driverFor(config.client ?? DEFAULT_KAFKA_CLIENT, {
      brokers: config.brokers,
      clientId: config.clientId,
      logger: log,
      security: config.security,
    });
    this.registry = new SchemaRegistryClient(config.registryUrl);
  }

  topicName(key: TopicKey): string {
    return `${this.config.topicPrefix}${TOPICS[key].base}`;
  }

  /** The full (self-contained) Avro schema of a topic's values, as registered. */
  valueSchema(key: TopicKey): Record<string, unknown> {
    return expand(TOPICS[key].valueRecord, this.named);
  }

  /** Ensures the topics exist as catalogued and registers their value schemas. Idempotent. */
  async init(keys: TopicKey[] = Object.keys(TOPICS) as TopicKey[]): Promise<void> {
    const result = await this.withAdmin((admin) =>
      admin.ensureTopics(keys.map((k) => ({ name: this.topicName(k), spec: TOPICS[k] as never }))),
    );
    if (result.created.length || result.altered.length) this.log.info(result, 'topics ensured');
    for (const k of keys) {
      if (this.handles.has(k)) continue;
      const name = this.topicName(k);
      const codec = new EventCodec<unknown>(subjectOf(name), this.valueSchema(k), this.registry);
      await codec.register();
      this.handles.set(k, { name, key: TOPICS[k].key as never, codec });
    }
  }

  topic<K extends TopicKey>(key: K): TopicHandle<EventOf<K>> {
    const h = this.handles.get(key);
    if (!h) throw new Error(`topic ${key} used before bus.init() included it`);
    return h as TopicHandle<EventOf<K>>;
  }

  producer(): EventProducer {
    return new EventProducer(this.driver.producer(), this.metrics);
  }

  consumer(opts: ConsumerOptions): EventConsumer {
    return new EventConsumer(this.driver, this.producer(), this.metrics, this.log.child({ group: opts.groupId }), opts);
  }

  /** For a process that asks the cluster again and again; it connects on first use, `close()` it. */
  admin(): BusAdmin {
    return new BusAdmin(this.driver.admin());
  }

  /** An admin for `fn`'s questions, closed after. */
  async withAdmin<R>(fn: (admin: BusAdmin) => Promise<R>): Promise<R> {
    const admin = this.admin();
    try {
      return await fn(admin);
    } finally {
      await admin.close();
    }
  }

  /** Reads a topic's raw records, committing nothing (reader.ts); resolves once reading began. */
  async read(topic: string, opts: ReadOptions, onRecord: RecordListener): Promise<TopicReading> {
    return this.withAdmin((admin) =>
      readTopic(this.driver, admin, `${this.config.clientId}-reader`, topic, opts, onRecord),
    );
  }
}
