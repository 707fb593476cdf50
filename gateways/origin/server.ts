import { existsSync, type Stats } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Counter, Gauge } from 'prom-client';
import send from 'send';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Component } from '../../platform/service.ts';
import {
  contentType,
  cacheControl,
  mediaAddress,
  resolveMediaPath,
  type CachePolicy,
  type MediaKind,
  type Resolved,
} from '../../domain/media/hls-paths.ts';
import { parseDeliveryDirectives } from '../../domain/media/delivery-directives.ts';
import { mediaHoldDecision, mediaHoldLimitMs } from './blocking.ts';
import { FileWaiter } from './file-waiter.ts';
import { PlaylistWaiter, readPosition } from './playlist-waiter.ts';

/**
 * The HLS origin: GET/HEAD of playlists, segments and thumbnails under the media root, for the
 * edges (and players, with CORS). node:http rather than the platform's uWS server: this is file
 * serving, where `send` (the file sender under express.static) streams from disk with
 * backpressure and implements Range, If-None-Match/If-Modified-Since and HEAD; the origin's load
 * is one request per object per edge, so its raw request rate is not what matters.
 *
 * Live media playlists announce CAN-BLOCK-RELOAD: a request with `_HLS_msn=N` (`&_HLS_part=P`)
 * is held until the playlist lists segment N (part P of N, or later: blocking.ts,
 * playlist-waiter.ts), and its answer may be cached for six target durations, since it is the
 * answer for that N (and P) whenever it is asked. A part or segment asked for before the worker
 * has written it (a player following the preload hint) is held until it is renamed into place
 * when the playlist says it is coming (file-waiter.ts), else answered 404 at once. Directives are
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
  private readonly mediaHolds: Counter<'result'>;
  private readonly waiter = new PlaylistWaiter();
  private readonly files = new FileWaiter();

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
    this.mediaHolds = new Counter({
      name: 'live_origin_media_holds_total',
      help: 'Requests for a part or segment not on disk yet, by how they ended: ready (held, then served), timeout and never (404), cancelled',
      labelNames: ['result'],
      registers,
    });
    const { waiter, files } = this;
    new Gauge({
      name: 'live_origin_held_requests',
      help: 'Requests held now, waiting for a playlist to list their part (playlist) or for a part or segment to be written (media)',
      labelNames: ['what'],
      registers,
      collect() {
        this.set({ what: 'playlist' }, waiter.changes.held);
        this.set({ what: 'media' }, files.changes.held);
      },
    });
    new Counter({
      name: 'live_origin_held_reads_total',
      help: 'Files read again for held requests: one per change of a file however many requests wait on it',
      labelNames: ['what'],
      registers,
      collect() {
        this.reset();
        this.inc({ what: 'playlist' }, waiter.changes.reads);
        this.inc({ what: 'media' }, files.changes.reads);
      },
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
    this.waiter.changes.close();
    this.files.changes.close();
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
        return void this.serveBlocking(req, res, resolved, directives.msn, directives.part);
      }
    }
    const early = resolved.kind === 'part' || resolved.kind === 'segment';
    const asked = performance.now();
    this.send(req, res, resolved, early ? { onMissing: () => void this.serveEarly(req, res, resolved, asked) } : {});
  }

  private async serveBlocking(
    req: IncomingMessage,
    res: ServerResponse,
    resolved: Found,
    msn: number,
    part: number | null,
  ): Promise<void> {
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const file = join(this.opts.mediaRoot, resolved.streamId, resolved.file);
    const r = await this.waiter.wait(file, msn, part, gone.signal);
    this.blocking.inc({ result: r.kind });
    switch (r.kind) {
      case 'ready':
        return this.send(req, res, resolved, { cacheAs: `public, max-age=${6 * r.position.targetDurationS}` });
      case 'missing':
        return this.reply(res, 404, 'no such media');
      case 'not-media':
        return this.reply(res, 400, '_HLS_msn applies to media playlists');
      case 'too-far':
        return this.reply(res, 400, `_HLS_msn=${msn}${part === null ? '' : `&_HLS_part=${part}`} is too far ahead`);
      case 'timeout':
      case 'cancelled':
        if (gone.signal.aborted) return;
        res.setHeader('retry-after', '1');
        return this.reply(res, 503, `segment ${msn} was not listed in time`);
    }
  }

  /**
   * A part or segment not on disk: held while the worker is about to write it (the rendition's
   * playlist says so: blocking.ts mediaHoldDecision), else 404 at once. Once it is there, it is
   * served like any other, immutable.
   */
  private async serveEarly(req: IncomingMessage, res: ServerResponse, resolved: Found, asked: number): Promise<void> {
    const at = mediaAddress(resolved.file);
    const stream = join(this.opts.mediaRoot, resolved.streamId);
    const position = at ? await readPosition(join(stream, `${at.rendition}.m3u8`)) : 'missing';
    if (!at || typeof position === 'string' || mediaHoldDecision(position, resolved.file, at) === 'never') {
      this.mediaHolds.inc({ result: 'never' });
      return this.reply(res, 404, 'no such media');
    }
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const r = await this.files.wait(join(stream, resolved.file), {
      since: asked,
      limitMs: mediaHoldLimitMs(position),
      signal: gone.signal,
    });
    this.mediaHolds.inc({ result: r });
    if (r === 'ready') return this.send(req, res, resolved);
    if (!gone.signal.aborted) this.reply(res, 404, 'no such media');
  }

  /**
   * `cacheAs` overrides the kind's Cache-Control (a blocking reload's answer); `onMissing` answers
   * for a file that is not there instead of a 404.
   */
  private send(
    req: IncomingMessage,
    res: ServerResponse,
    resolved: Found,
    { cacheAs, onMissing }: { cacheAs?: string; onMissing?: () => void } = {},
  ): void {
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
        if (status === 404 && onMissing) return onMissing();
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
