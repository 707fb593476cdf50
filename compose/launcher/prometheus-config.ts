import type { Ports } from './types.ts';
/**
 * prometheus.yml as text, from what to scrape and how often. Pure: the launcher writes the
 * result before every start, the unit spec compares it as text and runs `promtool check config`.
 */

/** One scrape job: a service's or server's /metrics. */
export interface ScrapeTarget {
  /** The `job` label: the service or server name. */
  job: string;
  /** host:port; Prometheus uses it as the `instance` label. */
  address: string;
  /** Defaults to /metrics. */
  path?: string;
}

export interface PrometheusSettings {
  scrapeIntervalSeconds: number;
  evaluationIntervalSeconds: number;
  /** Absolute paths of alerting/recording rule files. */
  ruleFiles: string[];
  targets: ScrapeTarget[];
}

/** Every platform service's /metrics (compose/services.ts), the servers' and Prometheus's own. */
export function platformScrapeTargets(
  services: ReadonlyArray<{ name: string; metricsPort: number }>,
  at: { host: string; ports: Ports },
): ScrapeTarget[] {
  return [
    { job: 'prometheus', address: `${at.host}:${at.ports.prometheus}` },
    ...serverScrapeTargets(at),
    ...services.map((s) => ({ job: s.name, address: `${at.host}:${s.metricsPort}` })),
  ];
}

/**
 * The data servers: Kafka and Cassandra through the JMX exporter agent inside their JVMs, the
 * registry through Quarkus's management port, Elasticsearch through its exporter process.
 */
export function serverScrapeTargets(at: { host: string; ports: Ports }): ScrapeTarget[] {
  const { host, ports } = at;
  return [
    { job: 'kafka', address: `${host}:${ports.kafkaMetrics}` },
    { job: 'cassandra', address: `${host}:${ports.cassandraMetrics}` },
    { job: 'registry', address: `${host}:${ports.registryManagement}` },
    { job: 'elasticsearch', address: `${host}:${ports.elasticsearchExporter}` },
  ];
}

// A JSON string is a valid YAML scalar, so quoting never depends on what a name contains.
const q = (s: string): string => JSON.stringify(s);

export function prometheusYml(s: PrometheusSettings): string {
  const jobs = new Set<string>();
  for (const t of s.targets) {
    if (jobs.has(t.job)) throw new Error(`two scrape targets named "${t.job}"`);
    jobs.add(t.job);
  }
  const rules = s.ruleFiles.length ? s.ruleFiles.map((f) => `  - ${q(f)}\n`).join('') : '';
  const scrapes = s.targets
    .map(
      (t) => `  - job_name: ${q(t.job)}
    metrics_path: ${q(t.path ?? '/metrics')}
    static_configs:
      - targets: [${q(t.address)}]
`,
    )
    .join('');
  return `# Written by the launcher before every start (compose/launcher/prometheus-config.ts); edits are lost.
global:
  scrape_interval: ${s.scrapeIntervalSeconds}s
  scrape_timeout: ${Math.min(s.scrapeIntervalSeconds, 10)}s
  evaluation_interval: ${s.evaluationIntervalSeconds}s
  external_labels:
    platform: "live"

rule_files:${rules ? `\n${rules}` : ' []\n'}
scrape_configs:
${scrapes}`;
}
