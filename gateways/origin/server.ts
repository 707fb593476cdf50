import { existsSync, type Stats } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Counter } from 'prom-client';
import send from 'send';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Component } from '../../platform/service.ts';
import {
  contentType,
  cacheControl,
  resolveMediaPath,
  type CachePolicy,
  type MediaKind,
  type Resolved,
} from '../../domain/media/hls-paths.ts';
import { parseDeliveryDirectives } from '../../domain/media/delivery-directives.ts';
import { PlaylistWaiter } from './playlist-waiter.ts';

/**
 * The HLS origin: GET/HEAD of playlists, segments and thumbnails under the media root, for the
 * edges (and players, with CORS). node:http rather than the platform's uWS server: this is file
 * serving, where `send` (the file sender under express.static) streams from disk with
 * backpressure and implements Range, If-None-Match/If-Modified-Since and HEAD; the origin's load
 * is one request per object per edge, so its raw request rate is not what matters.
 *
 * Live media playlists announce CAN-BLOCK-RELOAD: a request with `_HLS_msn=N` is held until the
 * playlist lists segment N (blocking.ts, playlist-waiter.ts), and its answer may be cached for
 * six target durations, since it is the answer for that N whenever it is asked. Directives are
 * read strictly (domain/media/delivery-directives.ts): a spelling the edge could read otherwise
 * (escaped, another case, twice) is a 400, so the edge's cache key always names this answer.
 */
export interface OriginOptions {
  host: string;
  /** 0 picks a free port; read it from `port` after start. */
  port: number;
  mediaRoot: string;
  cache: CachePolicy;
  log: Logger;
  metrics: Metrics;
}

type Found = Extract<Resolved, { ok: true }>;

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'Range, If-None-Match, If-Modified-Since',
  'access-control-expose-headers': 'Content-Length, Content-Range, ETag, Age',
  'access-control-max-age': '86400',
};

export class OriginServer implements Component {
  readonly name = 'origin';
  private server: Server | undefined;
  private readonly requests: Counter<'kind' | 'status'>;
  private readonly bytes: Counter<'kind'>;
  private readonly blocking: Counter<'result'>;
  private readonly waiter = new PlaylistWaiter();

  constructor(private readonly opts: OriginOptions) {
    const registers = [opts.metrics.registry];
    this.requests = new Counter({
      name: 'live_origin_requests_total',
      help: 'Requests answered, by media kind and status',
      labelNames: ['kind', 'status'],
      registers,
    });
    this.bytes = new Counter({
      name: 'live_origin_bytes_total',
      help: 'Body bytes sent, by media kind',
      labelNames: ['kind'],
      registers,
    });
    this.blocking = new Counter({
      name: 'live_origin_blocking_reloads_total',
      help: 'Blocking playlist requests (_HLS_msn), by how they ended: ready, timeout, too-far, missing, cancelled',
      labelNames: ['result'],
      registers,
    });
  }

  /** Listening, and its media root is there to serve from (a lost mount answers 404 to everyone). */
  get healthy(): boolean {
    return Boolean(this.server?.listening) && existsSync(this.opts.mediaRoot);
  }

  get port(): number {
    if (!this.server) throw new Error('origin is not listening');
    return (this.server.address() as AddressInfo).port;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.serve(req, res));
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.server = server;
    this.opts.log.info({ host: this.opts.host, port: this.port, mediaRoot: this.opts.mediaRoot }, 'origin listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.waiter.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const resolved = resolveMediaPath(q < 0 ? target : target.slice(0, q));
    const kind: MediaKind | 'none' = resolved.ok ? resolved.kind : 'none';
    res.on('finish', () => this.requests.inc({ kind, status: String(res.statusCode) }));
    for (const [k, v] of Object.entries(CORS)) res.setHeader(k, v);

    if (req.method === 'OPTIONS') return this.reply(res, 204);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD, OPTIONS');
      return this.reply(res, 405);
    }
    if (!resolved.ok) return this.reply(res, resolved.status, resolved.reason);

    if (q >= 0) {
      // Refused for every kind, as the edge refuses them: a query the edge and this origin could
      // read differently must never reach a cache (delivery-directives.ts).
      const directives = parseDeliveryDirectives(target.slice(q + 1));
      if (!directives.ok) return this.reply(res, 400, directives.reason);
      if (resolved.kind === 'playlist' && directives.msn !== null) {
        return void this.serveBlocking(req, res, resolved, directives.msn);
      }
    }
    this.send(req, res, resolved);
  }

  private async serveBlocking(req: IncomingMessage, res: ServerResponse, resolved: Found, msn: number): Promise<void> {
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const r = await this.waiter.wait(join(this.opts.mediaRoot, resolved.streamId, resolved.file), msn, gone.signal);
    this.blocking.inc({ result: r.kind });
    switch (r.kind) {
      case 'ready':
        return this.send(req, res, resolved, `public, max-age=${6 * r.position.targetDurationS}`);
      case 'missing':
        return this.reply(res, 404, 'no such media');
      case 'not-media':
        return this.reply(res, 400, '_HLS_msn applies to media playlists');
      case 'too-far':
        return this.reply(res, 400, `_HLS_msn=${msn} is more than two segments beyond the playlist`);
      case 'timeout':
      case 'cancelled':
        if (gone.signal.aborted) return;
        res.setHeader('retry-after', '1');
        return this.reply(res, 503, `segment ${msn} was not listed in time`);
    }
  }

  /** `cacheAs` overrides the kind's Cache-Control (a blocking reload's answer). */
  private send(req: IncomingMessage, res: ServerResponse, resolved: Found, cacheAs?: string): void {
    const { streamId, file, kind } = resolved;
    const playlist = file.endsWith('.m3u8');
    send(req, `/${streamId}/${file}`, {
      root: this.opts.mediaRoot,
      dotfiles: 'deny',
      index: false,
      etag: true,
      // A live playlist changes several times a second: whole-second Last-Modified could call a
      // newer one unchanged, so playlists revalidate on the ETag (size and mtime in ms) alone.
      lastModified: !playlist,
      cacheControl: false,
    })
      .on('headers', (r: ServerResponse, _path: string, stat: Stats) => {
        r.setHeader('content-type', contentType(kind, file));
        r.setHeader('cache-control', cacheAs ?? cacheControl(kind, this.opts.cache, Date.now() - stat.mtimeMs));
      })
      .on('directory', () => this.reply(res, 404, 'no such media'))
      .on('stream', (stream: NodeJS.ReadableStream) =>
        stream.on('data', (chunk: Buffer) => this.bytes.inc({ kind }, chunk.length)),
      )
      .on('error', (err: Error & { status?: number }) => {
        const status = err.status ?? 500;
        if (status >= 500) this.opts.log.error({ err, streamId, file }, 'origin read failed');
        this.reply(res, status === 403 ? 404 : status, status === 404 ? 'no such media' : undefined);
      })
      .pipe(res);
  }

  private reply(res: ServerResponse, status: number, message?: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Absence is not cached: a playlist or segment asked for a moment too early must be fetchable next time.
    res.setHeader('cache-control', 'no-store');
    if (message) res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.writeHead(status);
    res.end(message);
  }
}
