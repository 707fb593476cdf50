import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HttpServer } from '../../platform/http/server.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { Authenticator } from '../../platform/auth/tokens.ts';
import { devTokenRoutes } from './dev-token.ts';
import { errorReply } from './errors.ts';
import { webRoutes } from './web.ts';

const TOKEN = { issuer: 'live-platform', audience: 'live-api' };

describe('API: the web page, its config and development sign-in', () => {
  const dist = mkdtempSync(join(tmpdir(), 'web-dist-'));
  const key = randomBytes(32);
  let server: HttpServer;
  let base: string;

  before(async () => {
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Live</title>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log("hi")');
    writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    server = new HttpServer({
      name: 'api',
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 16 * 1024,
      routes: [
        {
          method: 'get',
          path: '/api/v1/streams/search',
          handle: async () => ({ status: 200, body: { streams: [] } }),
        },
        ...devTokenRoutes({ key, token: TOKEN, ttlSeconds: 600, host: '127.0.0.1', port: () => server.port }),
        ...webRoutes({
          distDir: dist,
          client: {
            chatApiBaseUrl: 'wss://chat.example.test/',
            viewersWsBaseUrl: 'wss://viewers.example.test',
            notificationsBaseUrl: 'https://push.example.test',
            cdnBaseUrl: 'https://cdn.example.test:8443/',
            devSignIn: true,
            webrtcUrls: ['https://webrtc.example.test/whip', 'https://webrtc.example.test/whep'],
          },
        }),
      ],
      onError: (err) => errorReply(err, 5, () => undefined),
      log: createLogger('spec', 'silent'),
      metrics: new Metrics('spec', { defaults: false }),
    });
    await server.start();
    base = `http://127.0.0.1:${server.port}`;
  });

  after(async () => {
    await server.stop();
    rmSync(dist, { recursive: true, force: true });
  });

  it('serves the page with its content types; hashed assets are cached for good, the page is revalidated', async () => {
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.match(await page.text(), /<title>Live<\/title>/);

    const etag = page.headers.get('etag')!;
    const again = await fetch(`${base}/`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);

    const js = await fetch(`${base}/assets/index-abc123.js`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(await js.text(), 'console.log("hi")');

    const svg = await fetch(`${base}/favicon.svg`);
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
  });

  it("answers the page's own paths with index.html, but a missing file, a path outside dist or /api/* with 404", async () => {
    for (const path of ['/streams/abc', '/go-live', '/sign-in?next=/go-live']) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(await res.text(), /<title>Live/);
    }
    assert.equal((await fetch(`${base}/assets/missing.js`)).status, 404);
    assert.equal((await fetch(`${base}/assets/..%2f..%2f..%2f..%2fetc%2fpasswd`)).status, 404);
    const api = await fetch(`${base}/api/v1/nothing-here`);
    assert.equal(api.status, 404);
    assert.equal(((await api.json()) as { error: { code: string } }).error.code, 'route_not_found');
    assert.equal((await fetch(`${base}/api/v1/streams/search`)).status, 200, 'API routes still win');
  });

  it('tells the page where the other services are', async () => {
    const res = await fetch(`${base}/api/v1/config`);
    assert.deepEqual(await res.json(), {
      chat_api_base_url: 'https://chat.example.test',
      viewers_ws_base_url: 'wss://viewers.example.test',
      notifications_ws_url: 'wss://push.example.test/notifications',
      notifications_tickets_url: 'https://push.example.test/api/v1/notifications/tickets',
      dev_sign_in: true,
    });
  });

  it('mints a development identity whose token the API accepts; the same name is the same user', async () => {
    const mint = async (username: unknown) =>
      fetch(`${base}/api/v1/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username }),
      });
    const res = await mint('Alice_01');
    assert.equal(res.status, 201);
    const body = (await res.json()) as { token: string; user_id: string; username: string; expires_in: number };
    assert.equal(body.user_id, 'dev_alice_01');
    assert.equal(body.username, 'Alice_01');
    assert.equal(body.expires_in, 600);
    const who = await new Authenticator(key, TOKEN).require(`Bearer ${body.token}`);
    assert.deepEqual(who, { userId: 'dev_alice_01', username: 'Alice_01' });

    const bad = await mint('no spaces allowed');
    assert.equal(bad.status, 400);
    assert.ok(((await bad.json()) as { error: { fields: Record<string, string> } }).error.fields.username);
  });

  it('refuses to offer development sign-in on a non-loopback address', () => {
    assert.throws(() => devTokenRoutes({ key, token: TOKEN, ttlSeconds: 60, host: '0.0.0.0', port: 8080 }), /loopback/);
  });

  /** A POST with the Host and Origin a browser would send (fetch cannot set Host). */
  const signInAs = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: { error?: { code: string; message: string }; token?: string } }>(
      (resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: server.port,
            method: 'POST',
            path: '/api/v1/dev/token',
            headers: { 'content-type': 'application/json', ...headers },
          },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as never }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ username: 'rebound' }));
      },
    );

  it('mints only for requests addressed to loopback with its own port, from its own page (no DNS rebinding)', async () => {
    const port = server.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `[::1]:${port}`]) {
      assert.equal((await signInAs({ host })).status, 201, host);
      assert.equal((await signInAs({ host, origin: `http://${host}` })).status, 201, `${host} with its origin`);
    }
    for (const host of [
      `attacker.example:${port}`,
      `127.0.0.1.attacker.example:${port}`,
      `127.0.0.1:${port + 1}`,
      '127.0.0.1',
      `10.0.0.5:${port}`,
    ]) {
      const r = await signInAs({ host });
      assert.equal(r.status, 403, host);
      assert.equal(r.body.error?.code, 'forbidden_origin');
      assert.match(r.body.error!.message, /loopback/, host);
    }
    for (const origin of [
      'http://attacker.example',
      `http://attacker.example:${port}`,
      'null',
      `https://127.0.0.1:${port}`,
      `http://127.0.0.1:${port + 1}`,
    ]) {
      const r = await signInAs({ host: `127.0.0.1:${port}`, origin });
      assert.equal(r.status, 403, origin);
      assert.equal(r.body.error?.code, 'forbidden_origin');
      assert.ok(r.body.error!.message.includes(origin), origin);
    }
  });

  it('serves the page with a strict Content-Security-Policy that names the services it talks to', async () => {
    for (const path of ['/', '/streams/abc', '/assets/index-abc123.js']) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      const csp = new Map(
        res.headers
          .get('content-security-policy')!
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([name, ...values]) => [name!, values]),
      );
      assert.deepEqual(csp.get('default-src'), ["'self'"]);
      assert.deepEqual(csp.get('script-src'), ["'self'"]);
      assert.deepEqual(csp.get('style-src'), ["'self'"]);
      assert.deepEqual(csp.get('object-src'), ["'none'"]);
      assert.deepEqual(csp.get('base-uri'), ["'none'"]);
      assert.deepEqual(csp.get('frame-ancestors'), ["'none'"]);
      assert.deepEqual(csp.get('form-action'), ["'self'"]);
      assert.deepEqual(csp.get('worker-src'), ["'self'", 'blob:']);
      assert.deepEqual(csp.get('media-src'), ["'self'", 'blob:', 'https://cdn.example.test:8443']);
      assert.deepEqual(csp.get('img-src'), ["'self'", 'https://cdn.example.test:8443']);
      assert.deepEqual(csp.get('connect-src'), [
        "'self'",
        'https://chat.example.test',
        'wss://chat.example.test',
        'wss://viewers.example.test',
        'https://push.example.test',
        'wss://push.example.test',
        'https://cdn.example.test:8443',
        'https://webrtc.example.test',
      ]);
    }
  });
});
