import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { env, loadConfig } from '../../platform/config.ts';
import type { Ports } from './types.ts';
import { REPO_ROOT } from '../../platform/paths.ts';

const repoRoot = REPO_ROOT;

const schema = z.object({
  LIVE_HOST: env.str('127.0.0.1'),
  /** Downloads shared across checkouts; outside the repo so a clean clone reuses them. */
  LIVE_CACHE_DIR: env.str(join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'live-platform')),
  /** All server data of this checkout; git-ignored; `--wipe` removes it. */
  LIVE_DATA_DIR: env.str(join(repoRoot, '.data')),
  LIVE_KAFKA_PORT: env.port(9092),
  LIVE_KAFKA_CONTROLLER_PORT: env.port(9093),
  LIVE_REGISTRY_PORT: env.port(8081),
  LIVE_CASSANDRA_PORT: env.port(9042),
  LIVE_CASSANDRA_STORAGE_PORT: env.port(7000),
  LIVE_ELASTICSEARCH_PORT: env.port(9200),
  LIVE_ELASTICSEARCH_TRANSPORT_PORT: env.port(9300),
  LIVE_PROMETHEUS_PORT: env.port(9090),
  LIVE_KAFKA_METRICS_PORT: env.port(9404),
  LIVE_CASSANDRA_METRICS_PORT: env.port(9405),
  LIVE_REGISTRY_MANAGEMENT_PORT: env.port(9406),
  LIVE_ELASTICSEARCH_EXPORTER_PORT: env.port(9114),
  /** Below this much free disk the launcher refuses to start servers. */
  LIVE_MIN_FREE_DISK_MB: env.int(2048),
});

export interface LauncherConfig {
  host: string;
  cacheDir: string;
  dataDir: string;
  ports: Ports;
  minFreeDiskMb: number;
}

export function launcherConfig(source: NodeJS.ProcessEnv = process.env): LauncherConfig {
  const c = loadConfig(schema, source);
  return {
    host: c.LIVE_HOST,
    cacheDir: c.LIVE_CACHE_DIR,
    dataDir: c.LIVE_DATA_DIR,
    minFreeDiskMb: c.LIVE_MIN_FREE_DISK_MB,
    ports: {
      kafka: c.LIVE_KAFKA_PORT,
      kafkaController: c.LIVE_KAFKA_CONTROLLER_PORT,
      registry: c.LIVE_REGISTRY_PORT,
      cassandra: c.LIVE_CASSANDRA_PORT,
      cassandraStorage: c.LIVE_CASSANDRA_STORAGE_PORT,
      elasticsearch: c.LIVE_ELASTICSEARCH_PORT,
      elasticsearchTransport: c.LIVE_ELASTICSEARCH_TRANSPORT_PORT,
      prometheus: c.LIVE_PROMETHEUS_PORT,
      kafkaMetrics: c.LIVE_KAFKA_METRICS_PORT,
      cassandraMetrics: c.LIVE_CASSANDRA_METRICS_PORT,
      registryManagement: c.LIVE_REGISTRY_MANAGEMENT_PORT,
      elasticsearchExporter: c.LIVE_ELASTICSEARCH_EXPORTER_PORT,
    },
  };
}

/** What clients connect to; written to `.data/endpoints.json` for tests and services. */
export function endpointsOf(c: LauncherConfig): Record<string, string> {
  return {
    KAFKA_BROKERS: `${c.host}:${c.ports.kafka}`,
    SCHEMA_REGISTRY_URL: `http://${c.host}:${c.ports.registry}/apis/ccompat/v7`,
    CASSANDRA_CONTACT_POINTS: `${c.host}:${c.ports.cassandra}`,
    ELASTICSEARCH_URL: `http://${c.host}:${c.ports.elasticsearch}`,
    PROMETHEUS_URL: `http://${c.host}:${c.ports.prometheus}`,
  };
}
