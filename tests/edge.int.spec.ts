import assert from 'node:assert/strict';
import { startOrigin } from './support/origin.ts';
import { fuzzMethods, plainGet } from './support/http-fuzz.ts';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MediaEvent } from '../schemas/generated/events.ts';
import { testBus } from './support/bus.ts';
import { CountingRelay, makeSegments, mediaTools } from './support/hls.ts';
import { freePort } from './support/ports.ts';
import { uniqueName } from './support/isolation.ts';
import { waitFor } from './support/wait.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { CdnPrefetcher } from '../processors/cdn-prefetcher/prefetcher.ts';
import { OriginServer } from '../gateways/origin/server.ts';
import { EdgeServer } from '../gateways/edge/edge.ts';

describe('edge cache (real nginx) in front of the origin', () => {
  let root: string;
  let dir: string;
  let origin: OriginServer;
  let relay: CountingRelay;
  let edge: EdgeServer;
  const metrics = new Metrics('edge', { defaults: false });
  const log = createLogger('edge', process.env.TEST_LOG_LEVEL ?? 'silent');

  before(async () => {
    const tools = mediaTools();
    root = mkdtempSync(join(tmpdir(), 'edge-media-'));
    dir = mkdtempSync(join(tmpdir(), 'edge-nginx-'));
    makeSegments(join(root, 's1', '720p'), 4);
    origin = await startOrigin(root, { log });
    // Each origin request is held 300 ms, so requests arriving together are concurrent misses.
    relay = new CountingRelay({ host: '127.0.0.1', port: origin.port }, 300);
    const relayPort = await relay.listen();
    edge = new EdgeServer({
      nginx: tools.nginx,
      dir,
      host: '127.0.0.1',
      port: await freePort(),
      name: 'edge-test',
      origin: { host: '127.0.0.1', port: relayPort },
      workers: 1,
      cacheMaxSize: '64m',
      log,
      metrics,
    });
    await edge.start();
  });
  after(async () => {
    await edge?.stop();
    await relay?.close();
    await origin?.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${edge.url}${path}`, { headers });
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, cache: res.headers.get('x-cache-status'), headers: res.headers, body };
  };

  it('concurrent misses for one segment make one origin request; later requests are hits', async () => {
    const path = '/hls/s1/720p/000000.ts';
    const replies = await Promise.all(Array.from({ length: 8 }, () => get(path)));
    assert.deepEqual(
      replies.map((r) => r.status),
      Array(8).fill(200),
    );
    assert.equal(relay.count(path), 1, 'the collapser collapsed the misses');
    // nginx sent every concurrent miss to the collapser (no cache lock): each reads MISS.
    assert.ok(replies.some((r) => r.cache === 'MISS'));
    const size = statSync(join(root, 's1', '720p', '000000.ts')).size;
    for (const r of replies) assert.equal(r.body.length, size);
    assert.equal((await get(path)).cache, 'HIT');
    assert.equal(relay.count(path), 1);
  });

  it("keeps the origin's headers (type, immutability, CORS) and serves ranges from the cache", async () => {
    const path = '/hls/s1/720p/000001.ts';
    const full = await get(path);
    assert.equal(full.headers.get('content-type'), 'video/mp2t');
    assert.equal(full.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(full.headers.get('access-control-allow-origin'), '*');
    assert.equal(full.headers.get('x-edge-collapsed'), null, "the collapser's role is for the access log only");
    const part = await get(path, { range: 'bytes=0-187' });
    assert.equal(part.status, 206);
    assert.equal(part.cache, 'HIT');
    assert.deepEqual(part.body, full.body.subarray(0, 188));
  });

  it('a playlist is short-lived: a rewrite on the origin reaches players through the edge', async () => {
    const path = '/hls/s1/720p.m3u8';
    writeFileSync(join(root, 's1', '720p.m3u8'), '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n');
    assert.match((await get(path)).body.toString(), /SEQUENCE:0/);
    writeFileSync(join(root, 's1', '720p.m3u8'), '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n');
    await waitFor('the new playlist at the edge', async () => /SEQUENCE:1/.test((await get(path)).body.toString()));
  });

  it('blocking reloads pass through: players waiting on segment N share one held origin request, kept apart from N+1', async () => {
    const path = '/hls/s1/480p.m3u8';
    const playlist = (last: number): string =>
      [
        '#EXTM3U',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES',
        '#EXT-X-MEDIA-SEQUENCE:0',
        ...Array.from({ length: last + 1 }, (_, i) => [
          '#EXTINF:2.000,',
          `480p/${String(i).padStart(6, '0')}.ts`,
        ]).flat(),
        '',
      ].join('\n');
    const publish = (last: number): void => {
      writeFileSync(join(root, 's1', '.480p.tmp'), playlist(last));
      renameSync(join(root, 's1', '.480p.tmp'), join(root, 's1', '480p.m3u8'));
    };
    publish(4);
    assert.match((await get(path)).body.toString(), /000004\.ts\n$/);
    const before = relay.count(path);
    const held = Promise.all(Array.from({ length: 6 }, () => get(`${path}?_HLS_msn=5`)));
    await new Promise((r) => setTimeout(r, 800));
    publish(5);
    const replies = await held;
    for (const r of replies) {
      assert.equal(r.status, 200);
      assert.match(r.body.toString(), /000005\.ts\n$/);
    }
    assert.equal(relay.count(path) - before, 1, 'one held request at the origin for six players');
    assert.equal((await get(`${path}?_HLS_msn=5`)).cache, 'HIT');
    const next = get(`${path}?_HLS_msn=6`);
    publish(6);
    assert.match((await next).body.toString(), /000006\.ts\n$/);
  });

  it('an absent object is not cached: once it exists the edge serves it', async () => {
    const path = '/hls/s1/720p/000009.ts';
    assert.equal((await get(path)).status, 404);
    copyFileSync(join(root, 's1', '720p', '000000.ts'), join(root, 's1', '720p', '000009.ts'));
    assert.equal((await get(path)).status, 200);
  });

  it('exposes its hit ratio from the access log', async () => {
    await waitFor('access log lines counted', () => edge.totals.cached >= 8);
    const text = await metrics.registry.getSingleMetricAsString('live_edge_hit_ratio');
    const ratio = Number(/live_edge_hit_ratio\{kind="segment"[^}]*\} ([\d.]+)/.exec(text)?.[1]);
    assert.ok(ratio > 0.5 && ratio < 1, text);
  });

  it('fuzz: every HTTP method, real and made up: no 5xx, no hang, only GET, HEAD and OPTIONS accepted', async () => {
    const read = ['GET', 'HEAD', 'OPTIONS'];
    const { hostname: host, port } = new URL(edge.url);
    const target = { host, port: Number(port) };
    const { findings, requests, statuses } = await fuzzMethods(
      target,
      [
        '/hls/s1/720p/000001.ts',
        '/hls/s1/720p.m3u8',
        '/hls/s1/720p.m3u8?_HLS_msn=1&_HLS_part=0',
        '/hls/nothing/here.ts',
      ].map((path) => ({
        path,
        allowed: read,
      })),
    );
    assert.deepEqual(findings, [], `${requests} requests, answers ${JSON.stringify(statuses)}`);
    assert.equal(await plainGet(target, '/hls/s1/720p/000001.ts'), 200);
  });

  it('the prefetcher warms every edge on SegmentReady, so the first player request is a HIT', async () => {
    const bus = testBus('prefetch');
    await bus.init(['mediaSegments']);
    const prefetcher = new CdnPrefetcher(bus, log, {
      groupId: uniqueName('prefetch'),
      edges: [edge.url],
      timeoutMs: 5000,
      maxAgeMs: 30_000,
      concurrency: 4,
      from: 'earliest',
    });
    const producer = bus.producer();
    await producer.connect();
    try {
      await prefetcher.start();
      await prefetcher.joined;
      mkdirSync(join(root, 's2', '360p'), { recursive: true });
      copyFileSync(join(root, 's1', '720p', '000002.ts'), join(root, 's2', '360p', '000000.ts'));
      const event: MediaEvent = {
        eventId: randomUUID(),
        occurredAt: Date.now(),
        streamId: 's2',
        workerId: 'w1',
        payload: {
          type: 'SegmentReady',
          rendition: '360p',
          sequence: 0,
          durationMs: 1000,
          uri: '360p/000000.ts',
          bytes: statSync(join(root, 's2', '360p', '000000.ts')).size,
          programDateTime: Date.now(),
          discontinuity: false,
          initUri: null,
        },
      };
      await producer.publish(bus.topic('mediaSegments'), [event]);
      await waitFor('the segment warmed', async () =>
        /result="warmed"[^\n]* 1/.test(await bus.metrics.registry.getSingleMetricAsString('live_cdn_prefetch_total')),
      );
      const first = await get('/hls/s2/360p/000000.ts');
      assert.equal(first.status, 200);
      assert.equal(first.cache, 'HIT', 'the first player found it in the cache');
      assert.equal(relay.count('/hls/s2/360p/000000.ts'), 1);
    } finally {
      await prefetcher.stop();
      await producer.disconnect();
    }
  });
});
