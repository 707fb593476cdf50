import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { DriverOptions } from './driver.ts';

/**
 * The one place a kafkajs client is built (kafkajs-driver.ts and the launcher's probe). Nothing
 * outside platform/kafka imports kafkajs. Without a logger the client logs nothing.
 */
export function createKafka(opts: DriverOptions): Kafka {
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
