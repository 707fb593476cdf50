import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { KafkaSecurity } from './security.ts';

/**
 * The one place a kafkajs client is built. Nothing outside platform/kafka imports kafkajs: it
 * uses the bus (bus.ts), so the client can be swapped without touching processors or gateways.
 * Without a logger the client logs nothing (the test runner's clean-up).
 */
export function createKafka(opts: {
  brokers: string[];
  clientId: string;
  logger?: Logger;
  security?: KafkaSecurity;
}): Kafka {
  const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
    [logLevel.ERROR]: 'error',
    [logLevel.WARN]: 'warn',
    [logLevel.INFO]: 'info',
    [logLevel.DEBUG]: 'debug',
  };
  const logger = opts.logger;
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: 3000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
    logLevel: logger ? logLevel.WARN : logLevel.NOTHING,
    // kafkajs types each mechanism apart; the union is one of them.
    ...(opts.security?.sasl && { sasl: opts.security.sasl as SASLOptions }),
    ...(opts.security?.tls && { ssl: opts.security.tls.ca === undefined ? true : { ca: [opts.security.tls.ca] } }),
    ...(logger && {
      logCreator:
        () =>
        ({ namespace, level, log }: LogEntry) => {
          const { message, ...extra } = log;
          logger[levels[level] ?? 'info']({ kafka: namespace, ...extra }, message);
        },
    }),
  };
  return new Kafka(config);
}
