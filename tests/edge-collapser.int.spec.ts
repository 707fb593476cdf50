import assert from 'node:assert/strict';
import { startOrigin } from './support/origin.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from './support/ports.ts';
import { waitFor } from './support/wait.ts';
import { llhlsPlaylist, mediaName, publish, streamFiles } from './origin-llhls-fixture.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { OriginServer } from '../gateways/origin/server.ts';
import { Collapser } from '../gateways/edge/collapser.ts';

/**
 * The edge's collapser against the real origin and real files (no nginx): players held on one
 * preload-hinted part share one origin request and are all answered with it; what happens when
 * some leave, when the origin is down or silent, and when an answer is too large to buffer.
 */
describe('edge collapser in front of the real origin', () => {
  let root: string;
  let origin: OriginServer;
  const log = createLogger('edge', process.env.TEST_LOG_LEVEL ?? 'silent');
  const originMetrics = new Metrics('origin', { defaults: false });
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const started: Collapser[] = [];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'collapser-media-'));
    origin = await startOrigin(root, { log, metrics: originMetrics });
  });
  after(async () => {
    agent.destroy();
    for (const c of started) await c.stop();
    await origin?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const collapser = async (o: { originPort?: number; timeoutMs?: number; maxBufferBytes?: number } = {}) => {
    const metrics = new Metrics('edge', { defaults: false });
    const c = new Collapser({
      host: '127.0.0.1',
      port: 0,
      origin: { host: '127.0.0.1', port: o.originPort ?? origin.port },
      timeoutMs: o.timeoutMs ?? 10_000,
      ...(o.maxBufferBytes !== undefined && { maxBufferBytes: o.maxBufferBytes }),
      log,
      metrics,
    });
    await c.start();
    started.push(c);
    const metric = async (name: string, label = ''): Promise<number> => {
      const text = await metrics.registry.getSingleMetricAsString(name);
      const m = new RegExp(`^${name}\\{[^}]*${label}[^}]*\\} (\\d+)`, 'm').exec(text);
      return Number(m?.[1] ?? 0);
    };
    return {
      c,
      roles: async () => ({
        leader: await metric('live_edge_collapsed_requests_total', 'role="leader"'),
        follower: await metric('live_edge_collapsed_requests_total', 'role="follower"'),
      }),
      inFlight: () => metric('live_edge_collapser_keys_in_flight'),
    };
  };

  type Reply = { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };
  /** `n` GETs at once; the requests (to cut some) and their answers (null for a cut one). */
  const crowd = (port: number, n: number, path: string) => {
    const reqs: ClientRequest[] = [];
    const answers = Array.from(
      { length: n },
      () =>
        new Promise<Reply | null>((resolve) => {
          const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
            );
            res.on('error', () => resolve(null));
          });
          req.on('error', () => resolve(null));
          req.end();
          reqs.push(req);
        }),
    );
    return { reqs, answers: Promise.all(answers) };
  };
  const originCount = async (name: string, kind?: string): Promise<number> => {
    const text = await originMetrics.registry.getSingleMetricAsString(name);
    let n = 0;
    for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\d+)`, 'gm')))
      if (!kind || m[1]!.includes(`kind="${kind}"`)) n += Number(m[2]);
    return n;
  };
  const held = () => originCount('live_origin_held_requests');
  /** A stream whose playlist hints part 43.2 (held at the origin up to three 1 s part targets). */
  const hinted = (id: string) => {
    const s = streamFiles(root, id);
    publish(s.playlist, llhlsPlaylist({ targetDurationS: 2, partTargetS: 1, complete: 42, open: 2 }));
    for (const p of [0, 1]) publish(s.media(43, p), Buffer.alloc(100, p));
    return { ...s, path: s.url(mediaName('720p', 43, 2)), file: s.media(43, 2) };
  };

  it('waiters on one held part make one origin request and all get its status, headers and body when it is written', async () => {
    const { c, roles, inFlight } = await collapser();
    const s = hinted('one');
    const parts = await originCount('live_origin_requests_total', 'part');
    const { answers } = crowd(c.port, 20, s.path);
    await waitFor('every waiter arrived', async () => (await roles()).follower === 19);
    assert.equal(await held(), 1);
    assert.equal(await inFlight(), 1);
    const body = Buffer.alloc(300_000, 7);
    publish(s.file, body);
    const replies = await answers;
    const first = replies[0]!;
    assert.equal(first.status, 200);
    for (const r of replies) {
      assert.equal(r?.status, 200);
      assert.deepEqual(r.body, body);
      for (const h of ['content-type', 'cache-control', 'etag', 'last-modified', 'content-length'])
        assert.equal(r.headers[h], first.headers[h], h);
    }
    assert.ok(first.headers.etag, 'the origin sent an ETag');
    assert.equal((await originCount('live_origin_requests_total', 'part')) - parts, 1);
    assert.deepEqual(await roles(), { leader: 1, follower: 19 });
    assert.equal(await inFlight(), 0);
    // Once answered, the key is free: the next request asks the origin again.
    assert.deepEqual((await crowd(c.port, 1, s.path).answers)[0]?.body, body);
    assert.deepEqual(await roles(), { leader: 2, follower: 19 });
  });

  it('a waiter that leaves does not cancel the others; when every one has left, the origin request is abandoned', async () => {
    const { c, roles, inFlight } = await collapser();
    const s = hinted('leave');
    const some = crowd(c.port, 3, s.path);
    await waitFor('three waiters', async () => (await roles()).follower === 2 && (await held()) === 1);
    some.reqs[0]!.destroy(); // the leader
    some.reqs[1]!.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await held(), 1, 'still held for the one left');
    publish(s.file, Buffer.alloc(1000, 9));
    const [a, b, last] = await some.answers;
    assert.equal(a, null);
    assert.equal(b, null);
    assert.equal(last?.status, 200);
    assert.equal(last.body.length, 1000);

    const t = hinted('all-leave');
    const all = crowd(c.port, 3, t.path);
    await waitFor('three more waiters', async () => (await roles()).follower === 4 && (await held()) === 1);
    for (const r of all.reqs) r.destroy();
    await waitFor('the held origin request abandoned', async () => (await held()) === 0);
    assert.equal(await inFlight(), 0);
  });

  it('an origin that is down, or says nothing past the timeout, answers every waiter 502 (no-store)', async () => {
    const down = await collapser({ originPort: await freePort() });
    for (const r of await crowd(down.c.port, 5, '/hls/x/720p.m3u8').answers) {
      assert.equal(r?.status, 502);
      assert.equal(r.headers['cache-control'], 'no-store');
    }
    const silent = await collapser({ timeoutMs: 300 });
    const s = hinted('silent');
    const replies = await crowd(silent.c.port, 5, s.path).answers;
    for (const r of replies) assert.equal(r?.status, 502);
    assert.deepEqual(await silent.roles(), { leader: 1, follower: 4 });
    await waitFor('the origin request cut', async () => (await held()) === 0);
  });

  it('an answer over the buffer cap streams to one waiter; the others ask the origin themselves', async () => {
    const { c, roles } = await collapser({ maxBufferBytes: 10_000 });
    const s = hinted('large');
    const parts = await originCount('live_origin_requests_total', 'part');
    const { answers } = crowd(c.port, 3, s.path);
    await waitFor('three waiters', async () => (await roles()).follower === 2);
    const body = Buffer.alloc(50_000, 5);
    publish(s.file, body);
    for (const r of await answers) {
      assert.equal(r?.status, 200);
      assert.deepEqual(r.body, body);
    }
    assert.equal((await originCount('live_origin_requests_total', 'part')) - parts, 3);
  });
});
