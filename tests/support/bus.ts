import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { EventBus } from '../../platform/kafka/bus.ts';
import type { KafkaClientName } from '../../platform/kafka/driver.ts';
import { endpoints, kafkaClient } from './endpoints.ts';
import { uniqueName } from './isolation.ts';

/**
 * A bus on the real broker and registry whose topics (and subjects) belong to this spec alone, on
 * the client KAFKA_CLIENT names unless the spec names one.
 */
export function testBus(label: string, client: KafkaClientName = kafkaClient()): EventBus {
  const e = endpoints();
  return new EventBus(
    {
      brokers: e.kafkaBrokers,
      registryUrl: e.registryUrl,
      clientId: label,
      topicPrefix: `${uniqueName(label)}.`,
      client,
    },
    new Metrics(label, { defaults: false }),
    createLogger(label, process.env.TEST_LOG_LEVEL ?? 'silent'),
  );
}
