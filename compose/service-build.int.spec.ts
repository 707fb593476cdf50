import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cassandra } from '../platform/cassandra.ts';
import { endpoints, serverEnv } from '../tests/support/endpoints.ts';
import { uniqueName } from '../tests/support/isolation.ts';
import { freePort } from '../tests/support/ports.ts';
import { ServiceProcess } from '../tests/support/process.ts';
import { waitFor } from '../tests/support/wait.ts';
import { builtCommand, ensureServiceBuild } from './service-build.ts';
import { platformServices } from './services.ts';

/**
 * Services run from the production build (dist/, as `./live up` runs them) against the real
 * servers: bundled, each still finds what it reads beside its sources (the schemas' .avsc files,
 * the repository root) and starts, answers and stops cleanly, on the platform's Node and on Node 24.
 */
describe('the services from the production build (real Kafka, registry, Cassandra)', () => {
  const chatKeyspace = uniqueName('built_chat');
  const env = serverEnv(`${uniqueName('built')}.`);
  const quiet = { info: () => undefined, warn: (m: string) => console.error(m) };
  const children: ServiceProcess[] = [];

  before(async () => {
    await ensureServiceBuild(platformServices({}), quiet);
  });

  after(async () => {
    for (const c of children) await c.kill('SIGKILL');
    const e = endpoints();
    const db = new Cassandra({
      CASSANDRA_CONTACT_POINTS: e.cassandraContactPoints,
      CASSANDRA_LOCAL_DC: 'datacenter1',
      CASSANDRA_REQUEST_TIMEOUT_MS: 20_000,
    });
    await db.ddl(`DROP KEYSPACE IF EXISTS ${chatKeyspace}`).catch(() => undefined);
    await db.shutdown();
  });

  const healthz = async (port: number): Promise<boolean> =>
    (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;

  const startBuilt = (name: string, extra: Record<string, string>): ServiceProcess => {
    const s = platformServices({}).find((x) => x.name === name)!;
    const p = new ServiceProcess(name, s.entry, { ...env, LOG_LEVEL: 'info', ...extra }, s.runtime, builtCommand(name));
    children.push(p);
    return p;
  };

  it('a sink starts from dist/ on the platform Node, consumes, and exits 0 on SIGTERM', async () => {
    const metrics = await freePort();
    const sink = startBuilt('chat-archiver', { CHAT_KEYSPACE: chatKeyspace, METRICS_PORT: String(metrics) });
    await sink.waitForLog('the archiver consuming', (l) => l.component === 'chat-archiver' && l.msg === 'started');
    await waitFor('its /healthz', () => healthz(metrics));
    assert.match(
      await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text(),
      /^# TYPE live_events_consumed_total counter$/m,
    );
    assert.equal((await sink.kill('SIGTERM')).code, 0, sink.tail());
  });

  it('the WebRTC gateway starts from dist/ on Node 24 and answers WHIP', async () => {
    const [metrics, port] = [await freePort(), await freePort()];
    const webrtc = startBuilt('webrtc', { METRICS_PORT: String(metrics), WEBRTC_PORT: String(port) });
    await waitFor('its /healthz', () => healthz(metrics), 60_000);
    const whip = await fetch(`http://127.0.0.1:${port}/whip`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: 'v=0',
    });
    assert.equal(whip.status, 401, 'no stream key: refused by the gateway itself');
    assert.equal((await webrtc.kill('SIGTERM')).code, 0, webrtc.tail());
  });
});
