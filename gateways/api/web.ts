import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { HttpReply, Route } from '../../platform/http/server.ts';
import { RequestRejected } from '../../platform/http/server.ts';

/**
 * The viewer web page (web/, built by Vite into web/dist) served by the API, so the page and the
 * API share one origin and the page needs no CORS:
 *
 *   GET /api/v1/config   where the page finds the other services (chat, viewers, push, edge)
 *   GET /*               files of web/dist; any other path without an extension is the page
 *                        itself (index.html: the page routes in the browser); /api/* never is
 *
 * Files are read on each request (a rebuild shows without a restart; the files are small and the
 * OS caches them). Vite names everything under /assets/ by content hash: cached for a year;
 * index.html is revalidated every time (ETag) so a new build is picked up at once.
 *
 * The page keeps its bearer token in localStorage, so every file goes out with a strict
 * Content-Security-Policy (contentSecurityPolicy below): scripts and styles from this origin only
 * (no inline script, no inline style attribute), connections only to the services this config
 * names, hls.js's blob: worker and MediaSource, no plugins, no <base>, never framed; plus nosniff,
 * no Referer and DENY framing for older browsers. The browser specs (tests/web) fail on any
 * violation.
 */
export interface WebClientConfig {
  /** Chat's HTTP side (tickets, history pages); its WebSocket URL comes with each stream's playback. */
  chatApiBaseUrl: string;
  /** Viewer presence: <base>/streams/<id>/viewers. */
  viewersWsBaseUrl: string;
  /** Notification push: <base>/notifications and <base>/api/v1/notifications/tickets. */
  notificationsBaseUrl: string;
  /** The edge cache (or origin) players fetch playlists, segments and thumbnails from. */
  cdnBaseUrl: string;
  /** The local sign-in form is shown only where the API mints development tokens. */
  devSignIn: boolean;
  /** The WebRTC gateway's WHIP endpoint and WHEP base, where configured: the page posts offers there. */
  webrtcUrls: string[];
}

export interface WebSettings {
  /** Folder with Vite's output (index.html, assets/). */
  distDir: string;
  client: WebClientConfig;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const httpBase = (url: string): string => url.replace(/^ws(s?):/, 'http$1:').replace(/\/+$/, '');
const trim = (url: string): string => url.replace(/\/+$/, '');

export function clientConfigBody(c: WebClientConfig) {
  return {
    chat_api_base_url: httpBase(c.chatApiBaseUrl),
    viewers_ws_base_url: trim(c.viewersWsBaseUrl),
    notifications_ws_url: `${trim(c.notificationsBaseUrl).replace(/^http(s?):/, 'ws$1:')}/notifications`,
    notifications_tickets_url: `${httpBase(c.notificationsBaseUrl)}/api/v1/notifications/tickets`,
    dev_sign_in: c.devSignIn,
  };
}

const origin = (url: string): string => new URL(url).origin;
const asHttp = (url: string): string => origin(url.replace(/^ws(s?):/i, 'http$1:'));
const asWs = (url: string): string => origin(url.replace(/^http(s?):/i, 'ws$1:'));

/**
 * The page's policy, from the services it is told about (clientConfigBody): chat tickets and
 * history over HTTP and its WebSocket, viewer presence, notification tickets and push, and the
 * CDN, which hls.js fetches from and which serves posters; the WebRTC gateway (WHIP and WHEP
 * offers; the media itself is WebRTC, which connect-src does not govern); blob: for hls.js's
 * worker and MediaSource. Nothing else is reachable, whatever a script injected into the page tries.
 */
export function contentSecurityPolicy(c: WebClientConfig): string {
  const unique = (xs: string[]) => [...new Set(xs)];
  const cdn = asHttp(c.cdnBaseUrl);
  const connect = unique([
    "'self'",
    asHttp(c.chatApiBaseUrl),
    asWs(c.chatApiBaseUrl),
    asWs(c.viewersWsBaseUrl),
    asHttp(c.notificationsBaseUrl),
    asWs(c.notificationsBaseUrl),
    cdn,
    ...c.webrtcUrls.map(origin),
  ]);
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' ${cdn}`,
    `media-src 'self' blob: ${cdn}`,
    "worker-src 'self' blob:",
    `connect-src ${connect.join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function webRoutes(s: WebSettings): Route[] {
  const root = resolve(s.distDir);
  const security = {
    'content-security-policy': contentSecurityPolicy(s.client),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
  const notFound = (path: string) => new RequestRejected('route_not_found', `no route for GET ${path}`);

  async function file(path: string, ifNoneMatch: string | undefined, cacheControl: string): Promise<HttpReply> {
    const body = await readFile(path);
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`;
    const headers = { ...security, 'cache-control': cacheControl, etag };
    if (ifNoneMatch === etag) return { status: 304, headers };
    return {
      status: 200,
      body,
      headers: { ...headers, 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' },
    };
  }

  const isFile = (path: string): Promise<boolean> =>
    stat(path).then(
      (st) => st.isFile(),
      () => false,
    );

  return [
    {
      method: 'get',
      path: '/api/v1/config',
      handle: async () => ({ status: 200, body: clientConfigBody(s.client), headers: { 'cache-control': 'no-store' } }),
    },
    {
      method: 'get',
      path: '/*',
      handle: async (req) => {
        if (req.path === '/api' || req.path.startsWith('/api/')) throw notFound(req.path);
        let decoded: string;
        try {
          decoded = decodeURIComponent(req.path);
        } catch {
          throw notFound(req.path);
        }
        const target = resolve(root, `.${decoded}`);
        if (target !== root && !target.startsWith(root + sep)) throw notFound(req.path);
        const index = resolve(root, 'index.html');
        if (!(await isFile(index))) {
          return {
            status: 503,
            body: { error: { code: 'web_not_built', message: 'the web page is not built: run `npm run web:build`' } },
            headers: { ...security, 'cache-control': 'no-store' },
          };
        }
        const etagHeader = req.headers['if-none-match'];
        if (target !== root && (await isFile(target))) {
          const hashed = decoded.startsWith('/assets/');
          return file(target, etagHeader, hashed ? IMMUTABLE : 'no-cache');
        }
        // A missing asset is a 404; any other path is a page of the single-page app.
        if (extname(decoded)) throw notFound(req.path);
        return file(index, etagHeader, 'no-cache');
      },
    },
  ];
}
