import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { endpoints } from '../../tests/support/endpoints.ts';
import { freePort } from '../../tests/support/ports.ts';
import { waitFor } from '../../tests/support/wait.ts';
import { launcherConfig } from './config.ts';
import { Launcher } from './launcher.ts';
import { serverScrapeTargets } from './prometheus-config.ts';
import { elasticsearchExporter } from './servers/elasticsearch-exporter.ts';
import { ALERT_RULES, prometheusServer } from './servers/prometheus.ts';

/**
 * The data servers as the launcher runs them, scraped by a real Prometheus with the platform's own
 * targets: Kafka and Cassandra through their JMX agents, the registry's management port, and
 * Elasticsearch through the Debian exporter this spec starts beside them. Runs where the test
 * runner started the servers with the launcher (servers given by the environment, or Docker's,
 * bring whatever exporters their deployment has).
 */
const launched = process.env.LIVE_TEST_SERVER_METRICS === '1';
const quiet = { info: () => undefined, warn: () => undefined };

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

describe(
  'data servers export Prometheus metrics',
  { skip: !launched && 'the servers were not started by the launcher' },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'server-metrics-'));
    let launcher: Launcher;
    let base: string;

    const query = async (q: string): Promise<Sample[]> => {
      const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`, {
        signal: AbortSignal.timeout(5000),
      });
      const body = (await res.json()) as { status: string; data: { result: Sample[] } };
      assert.equal(body.status, 'success', JSON.stringify(body));
      return body.data.result;
    };

    before(async () => {
      // The servers' own ports as the test runner's launcher has them; a free port for the
      // exporter and Prometheus, so a running `./live up` is left alone.
      const config = launcherConfig({
        ...process.env,
        LIVE_DATA_DIR: join(dir, 'data'),
        LIVE_ELASTICSEARCH_PORT: new URL(endpoints().elasticsearchUrl).port,
        LIVE_ELASTICSEARCH_EXPORTER_PORT: String(await freePort()),
        LIVE_PROMETHEUS_PORT: String(await freePort()),
        LIVE_MIN_FREE_DISK_MB: '256',
      });
      base = `http://127.0.0.1:${config.ports.prometheus}`;
      const prometheus = prometheusServer({
        targets: (ctx) => serverScrapeTargets({ host: ctx.host, ports: ctx.ports }),
        ruleFiles: [ALERT_RULES],
        scrapeIntervalSeconds: 1,
        evaluationIntervalSeconds: 1,
      });
      launcher = new Launcher(config, [elasticsearchExporter, prometheus], quiet);
      await launcher.up();
    });

    after(async () => {
      await launcher?.down({ wipe: true });
      rmSync(dir, { recursive: true, force: true });
    });

    it('every data server is scraped: up == 1 for kafka, cassandra, registry and elasticsearch', async () => {
      const jobs = ['kafka', 'cassandra', 'registry', 'elasticsearch'];
      await waitFor(
        'every server up',
        async () => {
          const up = await query('up');
          return jobs.every((j) => up.some((s) => s.metric.job === j && s.value[1] === '1'));
        },
        60_000,
      ).catch(async (err: Error) => assert.fail(`${err.message}: ${JSON.stringify(await query('up'))}`));
    });

    it('answers what the alert rules ask of each server', async () => {
      const one = async (q: string): Promise<string> => {
        const r = await waitFor(q, async () => {
          const got = await query(q);
          return got.length ? got : undefined;
        });
        return r[0]!.value[1];
      };
      assert.equal(await one('kafka_controller_kafkacontroller_value{name="ActiveControllerCount"}'), '1');
      assert.equal(await one('kafka_controller_kafkacontroller_value{name="OfflinePartitionsCount"}'), '0');
      assert.ok(Number(await one('org_apache_cassandra_metrics_client_value{name="connectedNativeClients"}')) >= 0);
      assert.equal(await one('elasticsearch_cluster_health_up'), '1');
      assert.ok(Number(await one('jvm_classes_loaded_classes{job="registry"}')) > 0);
    });
  },
);
