import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { freePort } from './ports.ts';

/**
 * The same four servers as the local launcher, as containers, for hosts with a Docker engine.
 * Versions match compose/launcher and compose/docker-compose.yml. Kafka advertises the host
 * port it is published on, so the port is chosen before the container starts. Containers are
 * reaped by testcontainers' Ryuk when the test process exits.
 */
export async function startContainers(): Promise<Record<string, string>> {
  const kafkaPort = await freePort();
  const kafka = new GenericContainer('apache/kafka:4.1.1')
    .withExposedPorts({ container: 9092, host: kafkaPort })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();

  const registry = new GenericContainer('apicurio/apicurio-registry:3.3.3')
    .withExposedPorts(8080)
    .withEnvironment({ APICURIO_CCOMPAT_LEGACY_ID_MODE_ENABLED: 'false', APICURIO_CCOMPAT_USE_CANONICAL_HASH: 'true' })
    .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
    .start();

  const cassandra = new GenericContainer('cassandra:5.0')
    .withExposedPorts(9042)
    .withEnvironment({ MAX_HEAP_SIZE: '1G', HEAP_NEWSIZE: '200M', CASSANDRA_DC: 'datacenter1' })
    // As the launcher's Cassandra (compose/docker-compose.yml does the same): batches of up to 40
    // recipients on the same replicas without the stock thresholds' warnings.
    .withCommand([
      'bash',
      '-c',
      [
        "sed -i -e 's/^unlogged_batch_across_partitions_warn_threshold:.*/unlogged_batch_across_partitions_warn_threshold: 100/'",
        "-e 's/^batch_size_warn_threshold:.*/batch_size_warn_threshold: 32KiB/'",
        "-e 's/^batch_size_fail_threshold:.*/batch_size_fail_threshold: 64KiB/'",
        '/etc/cassandra/cassandra.yaml && exec docker-entrypoint.sh cassandra -f',
      ].join(' '),
    ])
    .withWaitStrategy(Wait.forLogMessage(/Startup complete/))
    .withStartupTimeout(180_000)
    .start();

  const elasticsearch = new GenericContainer('docker.elastic.co/elasticsearch/elasticsearch:8.19.4')
    .withExposedPorts(9200)
    .withEnvironment({
      'discovery.type': 'single-node',
      'xpack.security.enabled': 'false',
      ES_JAVA_OPTS: '-Xms512m -Xmx512m',
    })
    .withWaitStrategy(Wait.forHttp('/_cluster/health', 9200))
    .withStartupTimeout(180_000)
    .start();

  const [, r, c, e] = (await Promise.all([kafka, registry, cassandra, elasticsearch])) as StartedTestContainer[];
  return {
    KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
    SCHEMA_REGISTRY_URL: `http://${r!.getHost()}:${r!.getMappedPort(8080)}/apis/ccompat/v7`,
    CASSANDRA_CONTACT_POINTS: `${c!.getHost()}:${c!.getMappedPort(9042)}`,
    ELASTICSEARCH_URL: `http://${e!.getHost()}:${e!.getMappedPort(9200)}`,
  };
}
