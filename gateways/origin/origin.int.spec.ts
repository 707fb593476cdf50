import assert from 'node:assert/strict';
import { startOrigin } from '../../tests/support/origin.ts';
import { fuzzMethods, plainGet } from '../../tests/support/http-fuzz.ts';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { DEFAULT_CACHE_POLICY } from '../../domain/media/hls-paths.ts';
import { OriginServer } from './server.ts';

/** A request sent exactly as written (fetch would normalise `..` and percent-escapes away). */
function raw(
  port: number,
  path: string,
  o: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: o.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HLS origin', () => {
  let root: string;
  let origin: OriginServer;
  const segment = Buffer.alloc(188 * 100, 0x47);

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'origin-'));
    mkdirSync(join(root, 's1', '720p'), { recursive: true });
    mkdirSync(join(root, 's1', 'thumbs'), { recursive: true });
    mkdirSync(join(root, 's1', '.packager'), { recursive: true });
    writeFileSync(join(root, 's1', 'master.m3u8'), '#EXTM3U\n');
    writeFileSync(join(root, 's1', '720p.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:2\n');
    writeFileSync(join(root, 's1', '720p', '000000.ts'), segment);
    writeFileSync(join(root, 's1', 'thumbs', '000001.jpg'), Buffer.from([0xff, 0xd8, 0xff]));
    writeFileSync(join(root, 's1', '.packager', 'state.json'), '{}');
    writeFileSync(join(root, 'secret.ts'), 'outside every stream folder');
    origin = await startOrigin(root);
  });
  after(async () => {
    await origin.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('is healthy while listening with its media root in place, and not once the root is gone', async () => {
    const gone = mkdtempSync(join(tmpdir(), 'origin-gone-'));
    const o = new OriginServer({
      host: '127.0.0.1',
      port: 0,
      mediaRoot: gone,
      cache: DEFAULT_CACHE_POLICY,
      log: createLogger('origin', 'silent'),
      metrics: new Metrics('origin-health', { defaults: false }),
    });
    assert.equal(o.healthy, false, 'not listening yet');
    await o.start();
    try {
      assert.equal(o.healthy, true);
      rmSync(gone, { recursive: true });
      assert.equal(o.healthy, false, 'a lost media root');
    } finally {
      await o.stop();
    }
    assert.equal(o.healthy, false, 'stopped');
  });

  it('serves playlists short-lived with an ETag, segments immutable, thumbnails as JPEG, all with CORS', async () => {
    const playlist = await raw(origin.port, '/hls/s1/720p.m3u8');
    assert.equal(playlist.status, 200);
    assert.equal(playlist.headers['content-type'], 'application/vnd.apple.mpegurl');
    assert.equal(playlist.headers['cache-control'], 'public, max-age=1, must-revalidate');
    assert.equal(playlist.headers['access-control-allow-origin'], '*');
    assert.ok(playlist.headers.etag);
    assert.equal(playlist.headers['last-modified'], undefined);

    const master = await raw(origin.port, '/hls/s1/master.m3u8?player=1');
    assert.equal(master.headers['cache-control'], 'public, max-age=2, must-revalidate');

    const seg = await raw(origin.port, '/hls/s1/720p/000000.ts');
    assert.equal(seg.status, 200);
    assert.equal(seg.headers['content-type'], 'video/mp2t');
    assert.equal(seg.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(seg.headers['accept-ranges'], 'bytes');
    assert.deepEqual(seg.body, segment);

    const thumb = await raw(origin.port, '/hls/s1/thumbs/000001.jpg');
    assert.equal(thumb.headers['content-type'], 'image/jpeg');
    assert.equal(thumb.headers['cache-control'], 'public, max-age=300');
  });

  it('revalidation: a matching ETag is answered 304 without a body', async () => {
    const first = await raw(origin.port, '/hls/s1/720p.m3u8');
    const again = await raw(origin.port, '/hls/s1/720p.m3u8', {
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    writeFileSync(join(root, 's1', '720p.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n');
    const changed = await raw(origin.port, '/hls/s1/720p.m3u8', {
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    assert.equal(changed.status, 200);
  });

  it('serves byte ranges', async () => {
    const part = await raw(origin.port, '/hls/s1/720p/000000.ts', { headers: { range: 'bytes=188-375' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 188-375/${segment.length}`);
    assert.deepEqual(part.body, segment.subarray(188, 376));
    const beyond = await raw(origin.port, '/hls/s1/720p/000000.ts', { headers: { range: 'bytes=999999-' } });
    assert.equal(beyond.status, 416);
  });

  it('answers preflights and refuses other methods', async () => {
    const pre = await raw(origin.port, '/hls/s1/720p/000000.ts', {
      method: 'OPTIONS',
      headers: { origin: 'https://player.example', 'access-control-request-headers': 'range' },
    });
    assert.equal(pre.status, 204);
    assert.match(String(pre.headers['access-control-allow-headers']), /Range/);
    const head = await raw(origin.port, '/hls/s1/720p/000000.ts', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(segment.length));
    assert.equal((await raw(origin.port, '/hls/s1/720p.m3u8', { method: 'DELETE' })).status, 405);
  });

  it('fuzz: every HTTP method, real and made up: no 5xx, no hang, only GET, HEAD and OPTIONS accepted', async () => {
    const read = ['GET', 'HEAD', 'OPTIONS'];
    const target = { host: '127.0.0.1', port: origin.port };
    const { findings, requests, statuses } = await fuzzMethods(
      target,
      [
        '/hls/s1/master.m3u8',
        '/hls/s1/720p.m3u8?_HLS_msn=x',
        '/hls/s1/720p/000000.ts',
        '/hls/s1/thumbs/000001.jpg',
        '/hls/../secret.ts',
      ].map((path) => ({ path, allowed: read })),
    );
    assert.deepEqual(findings, [], `${requests} requests, answers ${JSON.stringify(statuses)}`);
    assert.equal(await plainGet(target, '/hls/s1/master.m3u8'), 200);
  });

  it('no path leaves the stream folders: traversal is 400, anything unknown 404, never cached', async () => {
    for (const path of [
      '/hls/s1/../secret.ts',
      '/hls/s1/%2e%2e/secret.ts',
      '/hls/s1/%2E%2E%2Fsecret.ts',
      '/hls/%2e%2e/secret.ts',
      '/hls/s1/..%5csecret.ts',
      '/hls/s1/720p%2f000000.ts',
      '/hls/s1/.packager/state.json',
    ]) {
      const r = await raw(origin.port, path);
      assert.equal(r.status, 400, path);
      assert.doesNotMatch(r.body.toString(), /outside/, path);
    }
    for (const path of ['/secret.ts', '/hls/s1/state.json', '/hls/s1/720p/000009.ts', '/hls/s2/master.m3u8']) {
      const r = await raw(origin.port, path);
      assert.equal(r.status, 404, path);
      assert.equal(r.headers['cache-control'], 'no-store', path);
    }
  });

  describe('blocking playlist reload', () => {
    const live = (first: number, count: number, target = 1): string =>
      [
        '#EXTM3U',
        `#EXT-X-TARGETDURATION:${target}`,
        '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES',
        `#EXT-X-MEDIA-SEQUENCE:${first}`,
        ...Array.from({ length: count }, (_, i) => [
          '#EXTINF:1.000,',
          `360p/${String(first + i).padStart(6, '0')}.ts`,
        ]).flat(),
        '',
      ].join('\n');
    // As the packager writes: a new file renamed over the old one.
    const publish = (text: string): void => {
      writeFileSync(join(root, 's1', '.360p.m3u8.tmp'), text);
      renameSync(join(root, 's1', '.360p.m3u8.tmp'), join(root, 's1', '360p.m3u8'));
    };

    it('holds _HLS_msn=N until segment N is listed, then answers with it, cacheable for six target durations', async () => {
      publish(live(10, 3));
      const listed = await raw(origin.port, '/hls/s1/360p.m3u8?_HLS_msn=12');
      assert.equal(listed.status, 200);
      assert.match(listed.body.toString(), /000012\.ts/);

      const t0 = Date.now();
      const held = raw(origin.port, '/hls/s1/360p.m3u8?_HLS_msn=13&_HLS_part=0');
      const alsoHeld = raw(origin.port, '/hls/s1/360p.m3u8?_HLS_msn=13');
      await new Promise((r) => setTimeout(r, 300));
      publish(live(11, 3));
      const [a, b] = await Promise.all([held, alsoHeld]);
      const waited = Date.now() - t0;
      for (const r of [a, b]) {
        assert.equal(r.status, 200);
        assert.match(r.body.toString(), /000013\.ts/);
        assert.equal(r.headers['cache-control'], 'public, max-age=6');
      }
      assert.ok(waited >= 300, `answered after ${waited} ms, before the segment was listed`);
    });

    it('refuses a segment more than two ahead, a bad directive, and answers 503 after three target durations', async () => {
      publish(live(20, 3));
      const far = await raw(origin.port, '/hls/s1/360p.m3u8?_HLS_msn=25');
      assert.equal(far.status, 400);
      assert.equal(far.headers['cache-control'], 'no-store');
      assert.equal((await raw(origin.port, '/hls/s1/360p.m3u8?_HLS_msn=abc')).status, 400);
      assert.equal((await raw(origin.port, '/hls/s1/360p.m3u8?_HLS_part=1')).status, 400);
      assert.equal((await raw(origin.port, '/hls/s9/360p.m3u8?_HLS_msn=1')).status, 404);

      const t0 = Date.now();
      const late = await raw(origin.port, '/hls/s1/360p.m3u8?_HLS_msn=23');
      assert.equal(late.status, 503);
      assert.equal(late.headers['cache-control'], 'no-store');
      assert.equal(late.headers['retry-after'], '1');
      assert.ok(Date.now() - t0 >= 2900, 'held for three target durations (1 s each)');
    });

    it('an ended playlist answers at once: nothing more will be listed', async () => {
      publish(`${live(30, 2)}#EXT-X-ENDLIST\n`);
      const r = await raw(origin.port, '/hls/s1/360p.m3u8?_HLS_msn=32');
      assert.equal(r.status, 200);
      assert.match(r.body.toString(), /ENDLIST/);
    });
  });
});
