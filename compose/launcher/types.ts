/**
 * The contract every locally launched server implements. The launcher owns the lifecycle
 * (port checks, spawning, pid files, shutdown); a server module only knows how to obtain
 * its artifacts, write its configuration, build its command line and prove it is healthy.
 */
import type { Reporter } from '../../platform/debian.ts';

export type { Reporter };
export type ServerName = 'kafka' | 'registry' | 'cassandra' | 'elasticsearch' | 'elasticsearch-exporter' | 'prometheus';

export interface Ports {
  kafka: number;
  kafkaController: number;
  registry: number;
  cassandra: number;
  cassandraStorage: number;
  elasticsearch: number;
  elasticsearchTransport: number;
  prometheus: number;
  /** Where each server's Prometheus text is served (JMX agents, Quarkus management, an exporter). */
  kafkaMetrics: number;
  cassandraMetrics: number;
  registryManagement: number;
  elasticsearchExporter: number;
}

export interface LaunchContext {
  /** Downloads shared by every checkout (outside the repo): ~/.cache/live-platform by default. */
  cacheDir: string;
  /** This server's data folder, inside the git-ignored `.data/` of the checkout. */
  dataDir: string;
  /** Where this server's stdout/stderr go. */
  logFile: string;
  host: string;
  ports: Ports;
  report: Reporter;
}

export interface SpawnSpec {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this unprivileged user when the launcher is root (Elasticsearch refuses root). */
  user?: string;
}

export interface ServerDef {
  name: ServerName;
  /** What a person reads in status output, e.g. "Apache Kafka 4.1.1 (KRaft)". */
  describe: string;
  ports(p: Ports): number[];
  /** Fetch artifacts into the cache; idempotent and cheap when already cached. */
  install(ctx: LaunchContext): Promise<void>;
  /** Write configuration and initialise storage; must be safe to call before every start. */
  prepare(ctx: LaunchContext): Promise<void>;
  spawn(ctx: LaunchContext): SpawnSpec;
  /** Resolves once a real round trip succeeded; rejects with the reason otherwise. One attempt. */
  probe(ctx: LaunchContext): Promise<void>;
  /** Upper bound on how long a healthy start may take on a 2-core machine. */
  startTimeoutMs: number;
}
