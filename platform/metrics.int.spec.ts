import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Metrics, serveMetrics } from './metrics.ts';

describe('metrics endpoint', () => {
  it('serves Prometheus text on /metrics and health on /healthz (503 when unhealthy)', async () => {
    const metrics = new Metrics('spec');
    metrics.produced.inc({ topic: 'live.stream.lifecycle' }, 3);
    let ok = true;
    const server = await serveMetrics(metrics, 0, '127.0.0.1', () => ({ ok }));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.match(text, /live_events_produced_total\{[^}]*topic="live.stream.lifecycle"[^}]*\} 3/);
      assert.match(text, /process_cpu_user_seconds_total/);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      ok = false;
      assert.equal((await fetch(`${base}/healthz`)).status, 503);
      assert.equal((await fetch(`${base}/nope`)).status, 404);
    } finally {
      server.close();
    }
  });
});
