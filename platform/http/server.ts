import { STATUS_CODES } from 'node:http';
import uWS from '@trufflesuite/uws-js-unofficial';
import { Counter, Histogram } from 'prom-client';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Component } from '../service.ts';
import { canonicalAddress } from './address.ts';

/**
 * A small JSON-over-HTTP server on uWebSockets.js, the one place uWS HTTP is used: gateways give
 * it routes and an error mapper and never touch uWS. The uWS rules it keeps so handlers need not:
 *   - every request gets `onAborted` before any async step, and nothing is written after an abort;
 *   - request data (url, headers, params) is copied out before the first await, because uWS
 *     reuses the request object once the route callback returns;
 *   - bodies are read with `onData`, copied chunk by chunk (uWS neuters each chunk after the
 *     callback), and bounded: a declared or actual size over the limit is answered 413 and the
 *     connection closed, so the rest is never read;
 *   - responses written after an await are corked (one syscall, one TCP segment for small replies).
 */
export type Method = 'get' | 'post' | 'patch' | 'put' | 'del';

export interface HttpRequest {
  method: string;
  /** Route pattern, e.g. `/api/v1/streams/:id`; a low-cardinality metric label. */
  route: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The peer's address (canonicalAddress); behind a proxy, the proxy's: trusting a forwarded one is the gateway's call. */
  remoteAddress: string;
  /** Parsed JSON for routes that take a body; undefined otherwise or when the body was empty. */
  body: unknown;
}

export interface HttpReply {
  status: number;
  /** Sent as JSON, except bytes, which are sent as they are (with their content-type in `headers`). */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: Method;
  path: string;
  body?: boolean;
  handle(req: HttpRequest): Promise<HttpReply>;
}

/** Failures the transport itself detects; the gateway's error table decides their status. */
export type TransportRejection = 'payload_too_large' | 'invalid_json' | 'unsupported_media_type' | 'route_not_found';

export class RequestRejected extends Error {
  constructor(
    readonly code: TransportRejection,
    message: string,
  ) {
    super(message);
    this.name = 'RequestRejected';
  }
}

export interface HttpServerOptions {
  name: string;
  host: string;
  /** 0 picks a free port; read it from `port` after start. */
  port: number;
  maxBodyBytes: number;
  routes: Route[];
  /** Maps any error a handler (or the transport) threw to the reply the client gets. */
  onError: (err: unknown, req: HttpRequest) => HttpReply;
  log: Logger;
  metrics: Metrics;
}

export class HttpServer implements Component {
  readonly name: string;
  private listenSocket: uWS.us_listen_socket | undefined;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly seconds: Histogram<'route' | 'method'>;

  constructor(private readonly opts: HttpServerOptions) {
    this.name = opts.name;
    const registry = opts.metrics.registry;
    this.requests =
      (registry.getSingleMetric('live_http_requests_total') as Counter<'route' | 'method' | 'status'> | undefined) ??
      new Counter({
        name: 'live_http_requests_total',
        help: 'HTTP requests answered, by route pattern and status',
        labelNames: ['route', 'method', 'status'],
        registers: [registry],
      });
    this.seconds =
      (registry.getSingleMetric('live_http_request_seconds') as Histogram<'route' | 'method'> | undefined) ??
      new Histogram({
        name: 'live_http_request_seconds',
        help: 'Time from request to reply',
        labelNames: ['route', 'method'],
        buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2],
        registers: [registry],
      });
  }

  get port(): number {
    if (!this.listenSocket) throw new Error(`${this.name} is not listening`);
    return uWS.us_socket_local_port(this.listenSocket as unknown as uWS.us_socket);
  }

  async start(): Promise<void> {
    const app = uWS.App();
    for (const route of this.opts.routes) {
      app[route.method](route.path, (res, req) => this.serve(route, res, req));
    }
    app.any('/*', (res, req) => this.serve(undefined, res, req));
    this.listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
      app.listen(this.opts.host, this.opts.port, (socket) =>
        socket
          ? resolve(socket)
          : reject(new Error(`${this.name} cannot listen on ${this.opts.host}:${this.opts.port}`)),
      );
    });
    this.opts.log.info({ host: this.opts.host, port: this.port }, `${this.name} listening`);
  }

  /** Requests received and not yet answered (or abandoned by their client). */
  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Stops accepting connections, then waits for the requests in flight to be answered. */
  async stop(): Promise<void> {
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
  }

  private serve(route: Route | undefined, res: uWS.HttpResponse, raw: uWS.HttpRequest): void {
    const started = process.hrtime.bigint();
    let aborted = false;
    // Settled once: by the reply, or by an abort while the body is still arriving (no handler
    // will ever reply then). Keeps `inFlight` exact, so stop() never waits for a vanished client.
    let settled = false;
    let handling = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      if (--this.inFlight === 0) this.drained?.();
    };
    res.onAborted(() => {
      aborted = true;
      if (!handling) settle();
    });
    const req = this.copyRequest(route, raw, res);
    this.inFlight++;

    const reply = (r: HttpReply, closeConnection = false) => {
      if (!aborted) {
        const bytes = r.body instanceof Uint8Array;
        const body = r.body === undefined ? undefined : bytes ? (r.body as Uint8Array) : JSON.stringify(r.body);
        res.cork(() => {
          res.writeStatus(`${r.status} ${STATUS_CODES[r.status] ?? ''}`);
          if (body !== undefined && !bytes) res.writeHeader('content-type', 'application/json; charset=utf-8');
          for (const [k, v] of Object.entries(r.headers ?? {})) res.writeHeader(k, v);
          if (body === undefined) res.endWithoutBody(0, closeConnection);
          else res.end(body, closeConnection);
        });
      }
      this.requests.inc({ route: req.route, method: req.method, status: String(r.status) });
      this.seconds.observe({ route: req.route, method: req.method }, Number(process.hrtime.bigint() - started) / 1e9);
      settle();
    };
    const fail = (err: unknown, closeConnection = false) => {
      let r: HttpReply;
      try {
        r = this.opts.onError(err, req);
      } catch (mapErr) {
        this.opts.log.error({ err: mapErr }, 'error mapper failed');
        r = { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
      }
      reply(r, closeConnection);
    };

    if (!route)
      return fail(new RequestRejected('route_not_found', `no route for ${req.method.toUpperCase()} ${req.path}`));
    const run = (body: unknown) => {
      handling = true;
      (async () => route.handle({ ...req, body }))()
        .then(reply, fail)
        .catch((err: unknown) => this.opts.log.error({ err, route: req.route }, 'could not write the reply'));
    };
    if (!route.body) return run(undefined);

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.opts.maxBodyBytes) return fail(tooLarge(this.opts.maxBodyBytes), true);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > this.opts.maxBodyBytes) {
        done = true;
        return fail(tooLarge(this.opts.maxBodyBytes), true);
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      done = true;
      let body: unknown;
      try {
        body = parseJsonBody(Buffer.concat(chunks), req.headers['content-type']);
      } catch (err) {
        return fail(err);
      }
      run(body);
    });
  }

  private copyRequest(
    route: Route | undefined,
    raw: uWS.HttpRequest,
    res: uWS.HttpResponse,
  ): Omit<HttpRequest, 'body'> & { body: undefined } {
    const headers: Record<string, string> = {};
    raw.forEach((k, v) => {
      headers[k] = v;
    });
    const params: Record<string, string> = {};
    (route?.path.match(/:[^/]+/g) ?? []).forEach((name, i) => {
      params[name.slice(1)] = decodeParam(raw.getParameter(i));
    });
    return {
      method: raw.getMethod(),
      route: route?.path ?? '(none)',
      path: raw.getUrl(),
      params,
      query: new URLSearchParams(raw.getQuery()),
      headers,
      remoteAddress: canonicalAddress(Buffer.from(res.getRemoteAddressAsText()).toString()),
      body: undefined,
    };
  }
}

/** A malformed escape is left as sent: the handler then simply finds no such id. */
function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const tooLarge = (max: number) => new RequestRejected('payload_too_large', `the body may be at most ${max} bytes`);

function parseJsonBody(buf: Buffer, contentType: string | undefined): unknown {
  if (buf.length === 0) return undefined;
  if (!/^application\/json\s*(;|$)/i.test(contentType ?? '')) {
    throw new RequestRejected('unsupported_media_type', 'send the body as application/json');
  }
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch (err) {
    throw new RequestRejected('invalid_json', `the body is not valid JSON: ${(err as Error).message}`);
  }
}
