import { z } from 'zod';
import { env } from './config.ts';
import { EventBus } from './kafka/bus.ts';
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, type KafkaClientName } from './kafka/driver.ts';
import { kafkaSecurityOf, type KafkaSecurityEnv } from './kafka/security.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/**
 * Environment variables for the shared servers, as fragments each process's config schema
 * spreads in (the process's config module stays the only reader of process.env). Defaults are
 * the local launcher's endpoints (`npm run infra -- up`).
 */
export const kafkaEnv = {
  /** Comma-separated bootstrap brokers. */
  KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  /** The Kafka client library the bus runs on (platform/kafka/driver.ts; README: "Which Kafka client"). */
  KAFKA_CLIENT: z.enum(KAFKA_CLIENTS).default(DEFAULT_KAFKA_CLIENT),
  /** Confluent-compatible schema registry base URL. */
  SCHEMA_REGISTRY_URL: env.str('http://127.0.0.1:8081/apis/ccompat/v7'),
  /** Prepended to every topic (and so every subject); lets tenants or tests share a broker. */
  LIVE_TOPIC_PREFIX: z.string().default(''),
  /** A secured cluster (compose/docker-compose.secure.yml): SASL/SCRAM credentials, all three or none. */
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-256', 'scram-sha-512', 'plain']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** TLS to the brokers; KAFKA_TLS_CA_FILE names the CA that signed them (the system's CAs otherwise). */
  KAFKA_TLS: env.bool(false),
  KAFKA_TLS_CA_FILE: z.string().min(1).optional(),
};

export const elasticsearchEnv = {
  ELASTICSEARCH_URL: env.str('http://127.0.0.1:9200'),
};

type KafkaConfig = {
  KAFKA_BROKERS: string[];
  KAFKA_CLIENT: KafkaClientName;
  SCHEMA_REGISTRY_URL: string;
  LIVE_TOPIC_PREFIX: string;
} & KafkaSecurityEnv;

export function busFromConfig(cfg: KafkaConfig, clientId: string, metrics: Metrics, log: Logger): EventBus {
  return new EventBus(
    {
      brokers: cfg.KAFKA_BROKERS,
      registryUrl: cfg.SCHEMA_REGISTRY_URL,
      clientId,
      topicPrefix: cfg.LIVE_TOPIC_PREFIX,
      security: kafkaSecurityOf(cfg),
      client: cfg.KAFKA_CLIENT,
    },
    metrics,
    log,
  );
}
