import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from '../../tests/support/wait.ts';
import { parseAccessLine } from './access-log.ts';
import { AccessLogTail } from './access-tail.ts';
import { ACCESS_LOG_FORMAT, renderNginxConf } from './nginx-conf.ts';
import { EDGE_REJECTS } from '../../domain/media/delivery-directives.ts';
import { collapseKey, endToEnd } from './collapse.ts';

describe('edge config and access log', () => {
  it('renders a cache whose misses go to the collapser, honours the origin and keeps every path under its folder', () => {
    const conf = renderNginxConf({
      dir: '/d',
      host: '127.0.0.1',
      port: 8088,
      upstream: { host: '127.0.0.1', port: 8071 },
      workers: 2,
      cacheMaxSize: '2g',
      name: 'edge-1',
    });
    for (const line of [
      'daemon off;',
      'pid /d/nginx.pid;',
      'proxy_cache_path /d/cache levels=1:2 keys_zone=hls:16m max_size=2g inactive=10m use_temp_path=off;',
      'proxy_cache_key $uri|$arg__HLS_msn|$arg__HLS_part;',
      // Concurrent misses go to the collapser, which wakes them all at once (nginx's lock: 0.5 s timer).
      'proxy_cache_lock off;',
      // Beyond the longest hold at the origin (three 2 s target durations) and the collapser's 10 s.
      'proxy_read_timeout 12s;',
      'proxy_cache_revalidate on;',
      'proxy_cache_use_stale error timeout http_500 http_502 http_503 http_504;',
      'add_header X-Cache-Status $upstream_cache_status always;',
      'proxy_hide_header X-Edge-Collapsed;',
      'access_log /d/access.log edge buffer=32k flush=1s;',
      'server 127.0.0.1:8071;',
      'listen 127.0.0.1:8088;',
    ]) {
      assert.ok(conf.includes(line), line);
    }
    assert.ok(!conf.includes('user '), 'no user directive unless running as root');
    assert.ok(!conf.includes('proxy_cache_lock_'), 'no lock settings left');
    // Queries nginx and the origin could read differently are refused before the cache.
    assert.ok(conf.includes('map $args $hls_query_refused {'));
    for (const r of EDGE_REJECTS) assert.ok(conf.includes(`"~${r.pattern}" "${r.reason}";`), r.reason);
    assert.match(
      conf,
      /location \/hls\/ \{\n\s+default_type text\/plain;\n\s+if \(\$hls_query_refused\) \{\n\s+return 400 /,
    );
    for (const path of conf.matchAll(/_path (\S+)/g)) assert.ok(path[1]!.startsWith('/d/'), path[0]);
  });

  it('parses an access line into kind, stream, cache status and the player session', () => {
    assert.equal(ACCESS_LOG_FORMAT.split(' ').length, 8);
    assert.deepEqual(parseAccessLine('1795600019.512 200 HIT GET /hls/s1/720p/000042.ts 1048576 - s_4f2a9c01'), {
      at: 1795600019.512,
      status: 200,
      cache: 'HIT',
      method: 'GET',
      kind: 'segment',
      streamId: 's1',
      path: '/hls/s1/720p/000042.ts',
      bytes: 1048576,
      collapsed: false,
      session: 's_4f2a9c01',
    });
    assert.equal(parseAccessLine('1795600019.512 404 - GET /nope 0 - -')?.cache, 'NONE');
    assert.equal(parseAccessLine('1795600019.512 404 - GET /nope 0 - -')?.streamId, null);
    assert.equal(parseAccessLine('1795600019.512 200 UPDATING GET /hls/s1/720p.m3u8 300 - -')?.kind, 'playlist');
    assert.equal(parseAccessLine('1795600019.512 200 MISS GET /hls/s1/720p.m3u8 300 follower -')?.collapsed, true);
    assert.equal(parseAccessLine('1795600019.512 200 MISS GET /hls/s1/720p.m3u8 300 leader -')?.collapsed, false);
    assert.equal(parseAccessLine('1795600019.512 200 MISS GET /hls/s1/720p.m3u8 300 leader'), undefined);
    assert.equal(parseAccessLine('garbage'), undefined);
  });

  it("keys the cache and the collapser on the path and directives alone: a player's session does not split them", () => {
    const conf = renderNginxConf({
      dir: '/d',
      host: '127.0.0.1',
      port: 8088,
      upstream: { host: '127.0.0.1', port: 9 },
      workers: 1,
      cacheMaxSize: '1g',
      name: 'edge-1',
    });
    assert.match(conf, /proxy_cache_key \$uri\|\$arg__HLS_msn\|\$arg__HLS_part;/);
    const key = (url: string) => collapseKey('GET', url, {});
    assert.equal(key('/hls/s1/720p/000042.ts?vsid=s_aaaaaaaa'), key('/hls/s1/720p/000042.ts?vsid=s_bbbbbbbb'));
    assert.equal(key('/hls/s1/720p.m3u8?_HLS_msn=4&vsid=s_aaaaaaaa'), key('/hls/s1/720p.m3u8?_HLS_msn=4'));
  });

  it('tails the access log across a rotation without losing or repeating a line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tail-'));
    const file = join(dir, 'access.log');
    const lines: string[] = [];
    let reopened = 0;
    const tail = new AccessLogTail(
      file,
      (l) => lines.push(l),
      () => {
        reopened++;
        // What nginx does on SIGUSR1: a line still lands in the old file, then a new file.
        appendFileSync(`${file}.1`, 'late\n');
      },
      { pollMs: 20, rotateBytes: 40 },
    );
    tail.start();
    try {
      appendFileSync(file, 'one\ntw');
      await waitFor('a complete line', () => lines.length === 1);
      appendFileSync(file, 'o\n' + 'x'.repeat(40) + '\n');
      await waitFor('rotated', () => reopened === 1 && existsSync(`${file}.1`) && lines.includes('late'));
      appendFileSync(file, 'after\n');
      await waitFor('the new file read', () => lines.includes('after'));
      assert.deepEqual(lines, ['one', 'two', 'x'.repeat(40), 'late', 'after']);
    } finally {
      await tail.stop();
      renameSync(dir, `${dir}-done`);
      rmSync(`${dir}-done`, { recursive: true, force: true });
    }
  });

  it("collapses requests under nginx's cache key: path and delivery directives, not other query strings", () => {
    const key = (url: string, method = 'GET', headers = {}) => collapseKey(method, url, headers);
    const part = '/hls/s/720p/000043.2.m4s';
    assert.equal(key(part), key(`${part}?token=abc`));
    assert.notEqual(key(part), key(part, 'HEAD'));
    assert.equal(key(part, 'POST'), null, 'only GET and HEAD collapse');
    const pl = '/hls/s/720p.m3u8';
    assert.equal(key(`${pl}?_HLS_msn=43&_HLS_part=2`), key(`${pl}?a=1&_HLS_part=2&_HLS_msn=43&_HLS_skip=YES`));
    assert.notEqual(key(`${pl}?_HLS_msn=43&_HLS_part=2`), key(`${pl}?_HLS_msn=43&_HLS_part=3`));
    assert.notEqual(key(`${pl}?_HLS_msn=43`), key(pl), 'a blocking reload is not the plain playlist');
    assert.notEqual(key(`${pl}?_HLS_msn=43`), key(`${pl}?_HLS_msn=43&_HLS_part=0`));
    // A query nginx should have refused is keyed whole: never merged with another reading.
    assert.notEqual(key(`${pl}?%5FHLS_msn=43`), key(pl));
    assert.notEqual(key(`${pl}?%5FHLS_msn=43`), key(`${pl}?_HLS_msn=43`));
    // nginx's revalidations (conditional) are answered apart from plain misses.
    assert.notEqual(key(pl, 'GET', { 'if-none-match': '"a"' }), key(pl));
    assert.notEqual(key(pl, 'GET', { range: 'bytes=0-1' }), key(pl));
  });

  it('forwards end-to-end headers only', () => {
    assert.deepEqual(
      endToEnd({
        connection: 'keep-alive, x-private',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'x-private': '1',
        'cache-control': 'max-age=1',
        etag: '"e"',
        'x-origin': 'o',
      }),
      { 'cache-control': 'max-age=1', etag: '"e"', 'x-origin': 'o' },
    );
  });
});
