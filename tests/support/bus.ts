import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { EventBus } from '../../platform/kafka/bus.ts';
import { endpoints } from './endpoints.ts';
import { uniqueName } from './isolation.ts';

/** A bus on the real broker and registry whose topics (and subjects) belong to this spec alone. */
export function testBus(label: string): EventBus {
  const e = endpoints();
  return new EventBus(
    { brokers: e.kafkaBrokers, registryUrl: e.registryUrl, clientId: label, topicPrefix: `${uniqueName(label)}.` },
    new Metrics(label, { defaults: false }),
    createLogger(label, process.env.TEST_LOG_LEVEL ?? 'silent'),
  );
}
