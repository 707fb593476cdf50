import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from '../logger.ts';

/**
 * The one place a kafkajs client is built. Domain code never imports kafkajs: it uses the bus
 * (bus.ts), so the client can be swapped without touching processors or gateways.
 */
export function createKafka(opts: { brokers: string[]; clientId: string; logger: Logger }): Kafka {
  const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
    [logLevel.ERROR]: 'error',
    [logLevel.WARN]: 'warn',
    [logLevel.INFO]: 'info',
    [logLevel.DEBUG]: 'debug',
  };
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: 3000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, ...extra } = log;
        opts.logger[levels[level] ?? 'info']({ kafka: namespace, ...extra }, message);
      },
  };
  return new Kafka(config);
}
