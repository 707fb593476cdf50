import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Gauge } from 'prom-client';
import { Metrics, serveMetrics } from '../../platform/metrics.ts';
import { freePort } from '../../tests/support/ports.ts';
import { waitFor } from '../../tests/support/wait.ts';
import { launcherConfig } from './config.ts';
import { Launcher } from './launcher.ts';
import { ALERT_RULES, prometheusServer } from './servers/prometheus.ts';

/**
 * The real Prometheus from Debian's package, started by the launcher on a free port with a
 * rendered config, scraping a real platform Metrics endpoint. Needs no Kafka.
 */
const quiet = { info: () => undefined, warn: () => undefined };

interface ApiAnswer<T> {
  status: string;
  data: T;
}

describe('prometheus (launcher server)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-int-'));
  const metrics = new Metrics('prom-probe', { defaults: false });
  const signal = new Gauge({
    name: 'live_test_signal',
    help: 'Set by the spec to make its alert fire',
    registers: [metrics.registry],
  });
  let endpoint: Server;
  let launcher: Launcher;
  let base: string;
  let target: string;

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as ApiAnswer<T>;
    assert.equal(body.status, 'success', JSON.stringify(body));
    return body.data;
  };

  before(async () => {
    signal.set(0);
    endpoint = await serveMetrics(metrics, 0, '127.0.0.1');
    target = `127.0.0.1:${(endpoint.address() as { port: number }).port}`;

    // A rule the spec controls, beside the platform's own alert rules.
    const testRules = join(dir, 'test-alerts.yml');
    writeFileSync(
      testRules,
      `groups:
  - name: spec
    rules:
      - alert: TestSignalHigh
        expr: live_test_signal > 1
        for: 0s
        annotations:
          summary: the spec raised its signal
          description: live_test_signal is {{ $value }}
`,
    );
    const config = launcherConfig({
      LIVE_DATA_DIR: join(dir, 'data'),
      LIVE_CACHE_DIR: join(dir, 'cache'),
      LIVE_PROMETHEUS_PORT: String(await freePort()),
      LIVE_MIN_FREE_DISK_MB: '256',
    });
    base = `http://127.0.0.1:${config.ports.prometheus}`;
    const server = prometheusServer({
      targets: () => [{ job: 'prom-probe', address: target }],
      ruleFiles: [ALERT_RULES, testRules],
      // Faster than the platform's 5 s so the spec waits less; nothing asserts on time.
      scrapeIntervalSeconds: 1,
      evaluationIntervalSeconds: 1,
    });
    launcher = new Launcher(config, [server], quiet);
    await launcher.up();
  });

  after(async () => {
    await launcher?.down({ wipe: true });
    endpoint?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is healthy and reports it through the launcher', async () => {
    const [row] = await launcher.status();
    assert.equal(row?.name, 'prometheus');
    assert.equal(row?.healthy, true);
  });

  it('scrapes the Metrics endpoint and answers queries on what it scraped', async () => {
    await waitFor('the target to be up', async () => {
      const data = await api<{ activeTargets: Array<{ labels: Record<string, string>; health: string }> }>(
        '/api/v1/targets',
      );
      const t = data.activeTargets.find((x) => x.labels.job === 'prom-probe');
      return t?.health === 'up' && t.labels.instance === target;
    });
    const result = await waitFor('live_test_signal in a query', async () => {
      const data = await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
        `/api/v1/query?query=${encodeURIComponent('live_test_signal{job="prom-probe"}')}`,
      );
      return data.result.length ? data.result : undefined;
    });
    assert.equal(result[0]!.metric.service, 'prom-probe', 'the Metrics default label comes through');
    assert.equal(result[0]!.value[1], '0');
  });

  it('loads the platform alert rules', async () => {
    const data = await api<{ groups: Array<{ rules: Array<{ name: string }> }> }>('/api/v1/rules');
    const names = data.groups.flatMap((g) => g.rules.map((r) => r.name));
    for (const alert of ['ServiceDown', 'TranscodeFallingBehind', 'DeadLettersGrowing', 'TestSignalHigh']) {
      assert.ok(names.includes(alert), `${alert} not among ${names.join(', ')}`);
    }
  });

  it('fires an alert when the scraped metric crosses its threshold, and clears it after', async () => {
    type Alerts = { alerts: Array<{ labels: Record<string, string>; state: string }> };
    const firing = async (): Promise<boolean> =>
      (await api<Alerts>('/api/v1/alerts')).alerts.some(
        (a) => a.labels.alertname === 'TestSignalHigh' && a.state === 'firing',
      );
    assert.equal(await firing(), false);
    signal.set(5);
    await waitFor('TestSignalHigh to fire', firing);
    signal.set(0);
    await waitFor('TestSignalHigh to clear', async () => !(await firing()));
  });
});
