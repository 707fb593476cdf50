import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_KAFKA_CLIENT, parseKafkaClient, type KafkaClientName } from '../../platform/kafka/driver.ts';
import { dataPath } from '../../platform/paths.ts';

/**
 * Where the real servers are. The test runner (scripts/test.ts) exports these after bringing the
 * servers up; a developer running one spec by hand gets them from `.data/endpoints.json`, which
 * `npm run infra -- up` writes. A spec never starts servers itself and never passes without them.
 */
export interface Endpoints {
  kafkaBrokers: string[];
  registryUrl: string;
  cassandraContactPoints: string[];
  elasticsearchUrl: string;
}

export function endpoints(): Endpoints {
  const file = dataPath('endpoints.json');
  const fromFile = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  const get = (name: string): string => {
    const v = process.env[name] ?? fromFile[name];
    if (!v) throw new Error(`${name} is not set: run the tests with \`npm test\` (or \`npm run infra -- up\` first)`);
    return v;
  };
  return {
    kafkaBrokers: get('KAFKA_BROKERS').split(','),
    registryUrl: get('SCHEMA_REGISTRY_URL'),
    cassandraContactPoints: get('CASSANDRA_CONTACT_POINTS').split(','),
    elasticsearchUrl: get('ELASTICSEARCH_URL'),
  };
}

/** The servers as a process's environment (what its config module reads), on `topicPrefix`'s topics. */
export function serverEnv(topicPrefix = ''): Record<string, string> {
  const e = endpoints();
  return {
    KAFKA_BROKERS: e.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: e.registryUrl,
    CASSANDRA_CONTACT_POINTS: e.cassandraContactPoints.join(','),
    ELASTICSEARCH_URL: e.elasticsearchUrl,
    LIVE_TOPIC_PREFIX: topicPrefix,
    KAFKA_CLIENT: kafkaClient(),
  };
}

/** The client library the specs' buses run on: KAFKA_CLIENT, as the services read it. */
export function kafkaClient(): KafkaClientName {
  return parseKafkaClient(process.env.KAFKA_CLIENT ?? DEFAULT_KAFKA_CLIENT);
}
