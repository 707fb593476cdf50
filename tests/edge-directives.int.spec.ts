import assert from 'node:assert/strict';
import { startOrigin } from './support/origin.ts';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mediaTools } from './support/hls.ts';
import { freePort } from './support/ports.ts';
import { createLogger } from '../platform/logger.ts';
import { Metrics } from '../platform/metrics.ts';
import { DEFAULT_CACHE_POLICY, cacheControl } from '../domain/media/hls-paths.ts';
import { OriginServer } from '../gateways/origin/server.ts';
import { EdgeServer } from '../gateways/edge/edge.ts';

/**
 * The edge (real nginx) and the origin read a playlist request's delivery directives the same
 * way, so no spelling of `_HLS_msn` gets a blocking reload's answer, which lives six target
 * durations, cached under another request's key: nginx's `$arg__HLS_msn` matches the name in any
 * case and does not decode `%5F`, while a URLSearchParams at the origin decodes and is
 * case-sensitive. Every spelling the two could read differently is refused at both.
 */
describe('edge and origin agree on HLS delivery directives (real nginx)', () => {
  let root: string;
  let dir: string;
  let origin: OriginServer;
  let edge: EdgeServer;
  const log = createLogger('edge', process.env.TEST_LOG_LEVEL ?? 'silent');

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'edge-directives-media-'));
    dir = mkdtempSync(join(tmpdir(), 'edge-directives-nginx-'));
    origin = await startOrigin(root, { log });
    edge = new EdgeServer({
      nginx: mediaTools().nginx,
      dir,
      host: '127.0.0.1',
      port: await freePort(),
      name: 'edge-directives',
      origin: { host: '127.0.0.1', port: origin.port },
      workers: 1,
      cacheMaxSize: '16m',
      log,
      metrics: new Metrics('edge', { defaults: false }),
    });
    await edge.start();
  });
  after(async () => {
    await edge?.stop();
    await origin?.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  /** A live media playlist of stream `id` listing segments 0..last, written atomically as the packager does. */
  const publish = (id: string, last: number): void => {
    mkdirSync(join(root, id), { recursive: true });
    const text = [
      '#EXTM3U',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES',
      '#EXT-X-MEDIA-SEQUENCE:0',
      ...Array.from({ length: last + 1 }, (_, i) => ['#EXTINF:2.000,', `360p/${String(i).padStart(6, '0')}.ts`]).flat(),
      '',
    ].join('\n');
    writeFileSync(join(root, id, '.360p.tmp'), text);
    renameSync(join(root, id, '.360p.tmp'), join(root, id, '360p.m3u8'));
  };
  const get = async (base: string, path: string) => {
    const res = await fetch(`${base}${path}`);
    return {
      status: res.status,
      cache: res.headers.get('x-cache-status'),
      cacheControl: res.headers.get('cache-control'),
      body: await res.text(),
    };
  };
  const lastListed = (body: string): number => Number(/(\d{6})\.ts\n$/.exec(body)?.[1] ?? -1);

  it('a blocking reload spelled %5FHLS_msn never lands in the plain playlist cache entry', async () => {
    const path = '/hls/poison-plain/360p.m3u8';
    publish('poison-plain', 4);
    const hostile = await get(edge.url, `${path}?%5FHLS_msn=4`);
    assert.equal(hostile.status, 400, `the edge refuses it (got ${hostile.status}: ${hostile.body})`);
    publish('poison-plain', 5);
    const plain = await get(edge.url, path);
    assert.equal(plain.status, 200);
    assert.equal(lastListed(plain.body), 5, 'the plain playlist is the current one, not a held answer kept 12 s');
    assert.equal(plain.cacheControl, cacheControl('playlist', DEFAULT_CACHE_POLICY), "a live playlist's lifetime");
  });

  it('differently cased duplicates never put the answer for N under the key of N+1', async () => {
    const path = '/hls/poison-next/360p.m3u8';
    publish('poison-next', 5);
    // nginx's key would read the first (6); the origin the exact-case one (5, listed: answered at once).
    const hostile = await get(edge.url, `${path}?_hls_msn=6&_HLS_msn=5`);
    assert.equal(hostile.status, 400, `the edge refuses it (got ${hostile.status})`);
    const waiting = get(edge.url, `${path}?_HLS_msn=6`);
    publish('poison-next', 6);
    const reply = await waiting;
    assert.equal(reply.status, 200);
    assert.equal(lastListed(reply.body), 6, 'a player waiting on segment 6 gets a playlist that lists it');
  });

  it('refuses, at the edge and at the origin alike, every spelling the two could read differently', async () => {
    publish('spellings', 4);
    const path = '/hls/spellings/360p.m3u8';
    for (const query of [
      '%5FHLS_msn=4',
      '%5fhls%5fmsn=4',
      '_hls_msn=4',
      '_HLS_MSN=4',
      '_HLS_%6Dsn=4',
      '_HLS_msn=4&_HLS_msn=3',
      '_hls_msn=4&_HLS_msn=3',
      '_HLS_msn=%34',
      '_HLS_msn=04',
      '_HLS_msn',
      '_HLS_msn=4&_HLS_part=%31',
      '_HLS_part=1',
      '_HLS_msn=4&_hls_part=1',
    ]) {
      for (const [who, base] of [
        ['edge', edge.url],
        ['origin', `http://127.0.0.1:${origin.port}`],
      ] as const) {
        const r = await get(base, `${path}?${query}`);
        assert.equal(r.status, 400, `${who} ?${query}: ${r.status} ${r.body}`);
      }
    }
    for (const query of ['', '_HLS_msn=4', '_HLS_msn=4&_HLS_part=0', 'player=hls.js&_HLS_msn=3', '_HLS_skip=YES']) {
      assert.equal((await get(edge.url, `${path}?${query}`)).status, 200, `?${query}`);
    }
  });
});
