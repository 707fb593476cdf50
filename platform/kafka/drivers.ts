import type { DriverOptions, KafkaClientName, KafkaDriver } from './driver.ts';
import { kafkajsDriver } from './kafkajs-driver.ts';
import { platformaticDriver } from './platformatic-driver.ts';

/** The client library a bus runs on, by its KAFKA_CLIENT name. */
export function driverFor(name: KafkaClientName, opts: DriverOptions): KafkaDriver {
  switch (name) {
    case 'kafkajs':
      return kafkajsDriver(opts);
    case 'platformatic':
      return platformaticDriver(opts);
    default: {
      const exhaustive: never = name;
      throw new Error(`unknown Kafka client ${String(exhaustive)}`);
    }
  }
}
