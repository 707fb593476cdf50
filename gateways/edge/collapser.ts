import {
  Agent,
  createServer,
  request,
  type ClientRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge } from 'prom-client';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Component } from '../../platform/service.ts';
import { collapseKey, endToEnd } from './collapse.ts';

/**
 * In-flight request collapsing between the edge's nginx and the origin (nginx's upstream).
 *
 * Why not nginx's own `proxy_cache_lock`: nginx wakes the requests waiting on the lock on a 0.5 s
 * timer, not when the first answer arrives, so with LL-HLS every player but the first got each
 * held part or playlist version up to 0.5 s late (about one part). Here the first request for a
 * key (collapse.ts) goes to the origin (leader); the same requests arriving while it is in flight
 * (followers) wait for it, and all are answered the moment the origin's response is complete: same
 * status, headers and body, buffered. nginx caches each answer as before; hits never come here.
 *   - A body over `maxBufferBytes` goes on streaming to one waiter; the others get an origin
 *     request of their own (nothing this large is held at the origin: segments are a few MB).
 *   - The origin failing or saying nothing for `timeoutMs` answers every waiter 502 (no-store).
 *   - A waiter that goes away leaves the others waiting; once none is left, the origin request is
 *     abandoned.
 *   - Other methods are relayed as they are.
 */
export interface CollapserOptions {
  host: string;
  /** 0 picks a free one (see `port` once started). */
  port: number;
  origin: { host: string; port: number };
  /** Longest the origin may say nothing on a request: beyond its longest hold. */
  timeoutMs: number;
  maxBufferBytes?: number;
  log: Logger;
  metrics: Metrics;
}

interface Waiter {
  req: IncomingMessage;
  res: ServerResponse;
}

interface Flight {
  key: string;
  waiters: Set<Waiter>;
  upstream: ClientRequest;
  /** Answered, failed or handed to a stream: waiters leaving no longer concern it. */
  settled: boolean;
}

/** Tells nginx's access log which answers cost the origin nothing (nginx hides it from players). */
export const ROLE_HEADER = 'x-edge-collapsed';

export const DEFAULT_MAX_BUFFER_BYTES = 64 * 1024 * 1024;

export class Collapser implements Component {
  readonly name = 'edge-collapser';
  private server: Server | undefined;
  private readonly agent = new Agent({ keepAlive: true });
  private readonly flights = new Map<string, Flight>();
  private readonly collapsed: Counter<'role'>;

  constructor(private readonly opts: CollapserOptions) {
    const registers = [opts.metrics.registry];
    this.collapsed = new Counter({
      name: 'live_edge_collapsed_requests_total',
      help: "Requests from the edge's nginx to the origin, by role: leader (went to the origin) or follower (answered with a leader's response)",
      labelNames: ['role'],
      registers,
    });
    const flights = this.flights;
    new Gauge({
      name: 'live_edge_collapser_keys_in_flight',
      help: 'Origin requests in flight that later requests for the same key wait for',
      registers,
      collect() {
        this.set(flights.size);
      },
    });
  }

  get port(): number {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('collapser not listening');
    return address.port;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    // Longer than nginx keeps an idle upstream connection (60 s), so nginx is the one to close it.
    server.keepAliveTimeout = 75_000;
    server.headersTimeout = 80_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** After nginx has stopped: what is still in flight gets `deadlineMs`, then is cut. */
  async stop(deadlineMs = 5_000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
    await closed;
    clearTimeout(timer);
    this.agent.destroy();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const key = collapseKey(req.method, req.url, req.headers);
    if (key === null) return this.alone(req, res);
    const waiter = { req, res };
    const flight = this.flights.get(key);
    if (flight) {
      this.collapsed.inc({ role: 'follower' });
      flight.waiters.add(waiter);
      this.watch(flight, waiter);
    } else {
      this.collapsed.inc({ role: 'leader' });
      this.fly(key, waiter);
    }
  }

  private send(req: IncomingMessage): ClientRequest {
    const upstream = request({
      agent: this.agent,
      host: this.opts.origin.host,
      port: this.opts.origin.port,
      method: req.method,
      path: req.url,
      headers: endToEnd(req.headers),
    });
    upstream.setTimeout(this.opts.timeoutMs, () =>
      upstream.destroy(new Error(`the origin said nothing for ${this.opts.timeoutMs} ms`)),
    );
    return upstream;
  }

  private fly(key: string, leader: Waiter, retry = true): void {
    const upstream = this.send(leader.req);
    const flight: Flight = { key, waiters: new Set([leader]), upstream, settled: false };
    this.flights.set(key, flight);
    this.watch(flight, leader);
    const settle = (): boolean => {
      if (flight.settled) return false;
      flight.settled = true;
      if (this.flights.get(key) === flight) this.flights.delete(key);
      return true;
    };
    const fail = (err: Error): void => {
      if (!settle()) return;
      // A kept-alive connection the origin closed as it was reused: nothing reached the origin.
      if (retry && upstream.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
        const [first, ...rest] = flight.waiters;
        if (!first) return;
        this.fly(key, first, false);
        const again = this.flights.get(key)!;
        for (const w of rest) {
          again.waiters.add(w);
          this.watch(again, w);
        }
        return;
      }
      this.opts.log.warn(
        { err, url: leader.req.url, waiters: flight.waiters.size },
        'edge collapser: origin request failed',
      );
      for (const w of flight.waiters) this.badGateway(w.res);
    };
    upstream.on('error', fail);
    upstream.on('response', (up) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const max = this.opts.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > max) overflow();
      };
      const overflow = (): void => {
        if (!settle()) return;
        up.off('data', onData);
        const [first, ...rest] = flight.waiters;
        for (const w of rest) this.alone(w.req, w.res);
        if (!first) return void upstream.destroy();
        first.res.writeHead(up.statusCode!, endToEnd(up.headers));
        for (const c of chunks) first.res.write(c);
        up.pipe(first.res);
        up.on('error', () => first.res.destroy());
        first.res.on('close', () => {
          if (!first.res.writableFinished) upstream.destroy();
        });
      };
      up.on('error', fail);
      if (Number(up.headers['content-length']) > max) return overflow();
      up.on('data', onData);
      up.on('end', () => {
        if (!settle()) return;
        const body = Buffer.concat(chunks);
        const headers = endToEnd(up.headers);
        if (headers['content-length'] === undefined && leader.req.method === 'GET')
          headers['content-length'] = body.length;
        for (const w of flight.waiters) {
          const role = w === leader ? 'leader' : 'follower';
          this.answer(w.res, up.statusCode!, { ...headers, [ROLE_HEADER]: role }, body);
        }
      });
    });
    upstream.end();
  }

  /** A waiter leaving: the others still wait; with none left, the origin request is abandoned. */
  private watch(flight: Flight, w: Waiter): void {
    w.res.on('close', () => {
      if (w.res.writableFinished || flight.settled) return;
      flight.waiters.delete(w);
      if (flight.waiters.size > 0) return;
      flight.settled = true;
      if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key);
      flight.upstream.destroy();
    });
  }

  private answer(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: Buffer): void {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, headers);
    res.end(body);
  }

  private badGateway(res: ServerResponse): void {
    if (res.headersSent) return void res.destroy();
    if (res.destroyed) return;
    res.writeHead(502, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
    res.end('the origin did not answer\n');
  }

  /** One request, one origin request, streamed both ways. */
  private alone(req: IncomingMessage, res: ServerResponse): void {
    const upstream = this.send(req);
    upstream.on('response', (up) => {
      if (res.destroyed) return void upstream.destroy();
      res.writeHead(up.statusCode!, endToEnd(up.headers));
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => {
      this.opts.log.warn({ err, url: req.url }, 'edge collapser: origin request failed');
      this.badGateway(res);
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (req.readableEnded) upstream.end();
    else req.pipe(upstream);
  }
}
