import { STATUS_CODES } from 'node:http';
import uWS from '@trufflesuite/uws-js-unofficial';
import { answerPreflight } from '../../platform/http/cors.ts';
import { isRetriable } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';
import type { Principal } from '../api/auth.ts';
import type { PushTickets } from './tickets.ts';
import { readyFrame } from './protocol.ts';

/**
 * The push gateway's uWebSockets.js adapter, one port:
 *
 *   WS   /notifications?ticket=<ticket>   (or `Authorization: Bearer`, for clients that set headers)
 *   POST /api/v1/notifications/tickets   (Authorization: Bearer)   a short-lived ticket
 *
 * Each socket subscribes to its user's uWS topic; `push(userId, frame)` reaches every socket of
 * that user on this instance, in order. A reader whose unsent bytes pass `maxBackpressureBytes`
 * is dropped (it may reconnect and read its inbox), never buffered without bound. Frames from the
 * client are ignored (uWS answers pings itself). Never logged: query strings and Authorization.
 */
export interface PushTransportOptions {
  host: string;
  /** 0 picks a free port; read it from `port` after start. */
  port: number;
  allowedOrigins: string[];
  idleTimeoutSeconds: number;
  maxBackpressureBytes: number;
  maxConnections: number;
}

export interface BearerAuth {
  require(authorization: string | undefined): Promise<Principal>;
}

interface SocketData {
  user: Principal;
}

const topicOf = (userId: string): string => `u/${userId}`;

export class PushTransport implements Component {
  readonly name = 'push-transport';
  private readonly app = uWS.App();
  private listenSocket: uWS.us_listen_socket | undefined;
  private readonly sockets = new Set<uWS.WebSocket<SocketData>>();
  private readonly anyOrigin: boolean;

  constructor(
    private readonly tickets: PushTickets,
    private readonly auth: BearerAuth,
    private readonly opts: PushTransportOptions,
    private readonly log: Logger,
  ) {
    this.anyOrigin = opts.allowedOrigins.includes('*');
  }

  get port(): number {
    if (!this.listenSocket) throw new Error('push transport is not listening');
    return uWS.us_socket_local_port(this.listenSocket as unknown as uWS.us_socket);
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** True when at least one socket of the user is on this instance. */
  push(userId: string, frame: string): boolean {
    return this.app.publish(topicOf(userId), frame, false);
  }

  async start(): Promise<void> {
    this.app.ws<SocketData>('/notifications', {
      maxPayloadLength: 1024,
      idleTimeout: this.opts.idleTimeoutSeconds,
      sendPingsAutomatically: true,
      maxBackpressure: this.opts.maxBackpressureBytes,
      closeOnBackpressureLimit: 1,
      compression: uWS.DISABLED,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => {
        this.sockets.add(ws);
        ws.subscribe(topicOf(ws.getUserData().user.userId));
        ws.send(readyFrame(ws.getUserData().user.userId), false);
      },
      close: (ws) => void this.sockets.delete(ws),
    });
    this.app.post('/api/v1/notifications/tickets', (res, req) => {
      const origin = req.getHeader('origin');
      const authorization = req.getHeader('authorization');
      let aborted = false;
      res.onAborted(() => (aborted = true));
      void (async () => {
        if (!this.originAllowed(origin))
          return { status: 403, body: errorBody('origin_not_allowed', 'this origin may not get push tickets') };
        const user = await this.auth.require(authorization || undefined);
        return { status: 200, body: { ticket: await this.tickets.issue(user), expires_in: this.tickets.ttlSeconds } };
      })()
        .catch((err: unknown) => this.answerFor(err))
        .then((a) => {
          if (!aborted) res.cork(() => this.writeJson(res, origin, a));
        });
    });
    this.app.options('/api/v1/notifications/tickets', (res, req) => {
      const origin = req.getHeader('origin');
      answerPreflight(res, origin, this.originAllowed(origin), 'POST');
    });
    this.app.any('/*', (res) => {
      res.cork(() => this.writeJson(res, '', { status: 404, body: errorBody('route_not_found', 'no such route') }));
    });
    this.listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
      this.app.listen(this.opts.host, this.opts.port, (s) =>
        s ? resolve(s) : reject(new Error(`push gateway cannot listen on ${this.opts.host}:${this.opts.port}`)),
      ),
    );
    this.log.info({ host: this.opts.host, port: this.port }, 'push gateway listening');
  }

  /** Stops accepting, then closes every socket with 1012 (service restart): clients reconnect elsewhere. */
  async stop(): Promise<void> {
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    for (const ws of [...this.sockets]) ws.end(1012, 'restarting');
  }

  private upgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    // uWS reuses `req` once this callback returns: copy everything out before the first await.
    const origin = req.getHeader('origin');
    const authorization = req.getHeader('authorization');
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const ticket = new URLSearchParams(req.getQuery()).get('ticket');
    let aborted = false;
    res.onAborted(() => (aborted = true));
    void (async () => {
      if (!this.originAllowed(origin))
        return { status: 403, body: errorBody('origin_not_allowed', 'this origin may not connect') };
      if (this.sockets.size >= this.opts.maxConnections)
        return { status: 503, body: errorBody('too_many_connections', 'this push gateway is full') };
      const user = ticket ? await this.tickets.verify(ticket) : await this.auth.require(authorization || undefined);
      if (aborted) return undefined;
      res.cork(() => res.upgrade<SocketData>({ user }, key, protocol, extensions, context));
      return undefined;
    })()
      .catch((err: unknown) => this.answerFor(err))
      .then((a) => {
        if (a && !aborted) res.cork(() => this.writeJson(res, origin, a));
      });
  }

  private answerFor(err: unknown): { status: number; body: unknown } {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'unauthorized') return { status: 401, body: errorBody('unauthorized', (err as Error).message) };
    if (isRetriable(err)) return { status: 503, body: errorBody('unavailable', 'temporarily unavailable') };
    this.log.error({ err }, 'push gateway request failed');
    return { status: 500, body: errorBody('internal', 'internal error') };
  }

  private writeJson(res: uWS.HttpResponse, origin: string, a: { status: number; body: unknown }): void {
    res.writeStatus(`${a.status} ${STATUS_CODES[a.status] ?? ''}`);
    if (origin && this.originAllowed(origin)) {
      res.writeHeader('access-control-allow-origin', origin);
      res.writeHeader('vary', 'Origin');
    }
    res.writeHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(a.body));
  }

  private originAllowed(origin: string): boolean {
    return !origin || this.anyOrigin || this.opts.allowedOrigins.includes(origin);
  }
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });
