import { launcherConfig } from './config.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { DEBIAN_TOOLS, ensureDebianTools } from '../../platform/debian.ts';
import { REPO_ROOT } from '../../platform/paths.ts';
import { platformServices } from '../services.ts';
import { platformScrapeTargets, prometheusYml } from './prometheus-config.ts';
import { ALERT_RULES } from './servers/prometheus.ts';

const quiet = { info: () => undefined, warn: () => undefined };

/** promtool from Debian's prometheus package, installed like the launcher installs it. */
function promtool(args: string[]): { code: number; output: string } {
  const bin = ensureDebianTools([DEBIAN_TOOLS.promtool], quiet).promtool!;
  const r = spawnSync(bin, args, { encoding: 'utf8', cwd: REPO_ROOT });
  return { code: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

describe('prometheus config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('renders jobs, interval and rule files as prometheus.yml text', () => {
    const text = prometheusYml({
      scrapeIntervalSeconds: 5,
      evaluationIntervalSeconds: 5,
      ruleFiles: ['/rules/alerts.yml'],
      targets: [
        { job: 'prometheus', address: '127.0.0.1:9090' },
        { job: 'api', address: '127.0.0.1:9400' },
      ],
    });
    assert.equal(
      text,
      `# Written by the launcher before every start (compose/launcher/prometheus-config.ts); edits are lost.
global:
  scrape_interval: 5s
  scrape_timeout: 5s
  evaluation_interval: 5s
  external_labels:
    platform: "live"

rule_files:
  - "/rules/alerts.yml"

scrape_configs:
  - job_name: "prometheus"
    metrics_path: "/metrics"
    static_configs:
      - targets: ["127.0.0.1:9090"]
  - job_name: "api"
    metrics_path: "/metrics"
    static_configs:
      - targets: ["127.0.0.1:9400"]
`,
    );
  });

  it('scrapes every service of ./live up on its metrics port, every data server, and Prometheus itself', () => {
    const services = platformServices({});
    const { ports } = launcherConfig({});
    const targets = platformScrapeTargets(services, { host: '127.0.0.1', ports });
    assert.deepEqual(
      targets.map((t) => t.job),
      ['prometheus', 'kafka', 'cassandra', 'registry', 'elasticsearch', ...services.map((s) => s.name)],
    );
    assert.deepEqual(
      targets.find((t) => t.job === 'registry'),
      {
        job: 'registry',
        address: '127.0.0.1:9406',
      },
    );
    for (const s of services) {
      assert.deepEqual(
        targets.find((t) => t.job === s.name),
        { job: s.name, address: `127.0.0.1:${s.metricsPort}` },
      );
    }
  });

  it('refuses two jobs with one name', () => {
    assert.throws(
      () =>
        prometheusYml({
          scrapeIntervalSeconds: 5,
          evaluationIntervalSeconds: 5,
          ruleFiles: [],
          targets: [
            { job: 'api', address: 'a:1' },
            { job: 'api', address: 'b:2' },
          ],
        }),
      /two scrape targets named "api"/,
    );
  });

  it('passes `promtool check config` with the platform rules, as the launcher renders it', () => {
    const file = join(dir, 'prometheus.yml');
    writeFileSync(
      file,
      prometheusYml({
        scrapeIntervalSeconds: 5,
        evaluationIntervalSeconds: 5,
        ruleFiles: [ALERT_RULES],
        targets: platformScrapeTargets(platformServices({}), { host: '127.0.0.1', ports: launcherConfig({}).ports }),
      }),
    );
    const r = promtool(['check', 'config', file]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /SUCCESS: \d+ rules found/);
  });
});

describe('alert rules', () => {
  it('pass `promtool check rules`', () => {
    const r = promtool(['check', 'rules', ALERT_RULES]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /SUCCESS: 19 rules found/);
  });

  it('fire on synthetic series and stay quiet otherwise (`promtool test rules`)', () => {
    // Firing and not-firing cases, and the latency tiers' recording rule.
    const r = promtool(['test', 'rules', join(REPO_ROOT, 'compose', 'prometheus', 'alerts.test.yml')]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /SUCCESS/);
  });

  it('name what hurts users, each with a summary and a description', () => {
    const doc = parse(readFileSync(ALERT_RULES, 'utf8')) as {
      groups: Array<{ rules: Array<{ alert?: string; record?: string; annotations?: Record<string, string> }> }>;
    };
    const rules = doc.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
    assert.deepEqual(
      rules.map((r) => r.alert),
      [
        'ServiceDown',
        'TranscodeFallingBehind',
        'TranscodeDegraded',
        'FFmpegFailing',
        'DeadLettersGrowing',
        'ConsumerLagHigh',
        'EdgeHitRatioLow',
        'HttpErrorsHigh',
        'WebRtcIceFailing',
        'WebRtcPublisherLosingPackets',
        'KafkaOfflinePartitions',
        'KafkaUnderReplicatedPartitions',
        'CassandraRequestsFailing',
        'ElasticsearchClusterRed',
        'GlassToGlassAboveTier',
        'IngestNodeLost',
        'IngestLeaseRenewalsFailing',
      ],
    );
    for (const r of rules) {
      assert.ok(r.annotations?.summary, `${r.alert} has no summary`);
      assert.ok(r.annotations?.description, `${r.alert} has no description`);
    }
  });
});
