import type uWS from '@trufflesuite/uws-js-unofficial';
import { SOCKET_DEFAULTS, UwsServer, errorBody, upgradeHeaders, type HttpAnswer } from '../../platform/http/uws.ts';
import { isRetriable } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';
import type { Principal } from '../../platform/auth/tokens.ts';
import type { Tickets } from '../../platform/auth/tickets.ts';
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
  private readonly server: UwsServer;
  private readonly sockets = new Set<uWS.WebSocket<SocketData>>();

  constructor(
    private readonly tickets: Tickets,
    private readonly auth: BearerAuth,
    private readonly opts: PushTransportOptions,
    private readonly log: Logger,
  ) {
    this.server = new UwsServer('push gateway', opts.allowedOrigins);
  }

  get port(): number {
    return this.server.port;
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** True when at least one socket of the user is on this instance. */
  push(userId: string, frame: string): boolean {
    return this.server.app.publish(topicOf(userId), frame, false);
  }

  async start(): Promise<void> {
    this.server.app.ws<SocketData>('/notifications', {
      ...SOCKET_DEFAULTS,
      maxPayloadLength: 1024,
      idleTimeout: this.opts.idleTimeoutSeconds,
      maxBackpressure: this.opts.maxBackpressureBytes,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => {
        this.sockets.add(ws);
        ws.subscribe(topicOf(ws.getUserData().user.userId));
        ws.send(readyFrame(ws.getUserData().user.userId), false);
      },
      close: (ws) => void this.sockets.delete(ws),
    });
    this.server.app.post('/api/v1/notifications/tickets', (res, req) => {
      const origin = req.getHeader('origin');
      const authorization = req.getHeader('authorization');
      let aborted = false;
      res.onAborted(() => (aborted = true));
      void (async () => {
        if (!this.server.originAllowed(origin))
          return { status: 403, body: errorBody('origin_not_allowed', 'this origin may not get push tickets') };
        const user = await this.auth.require(authorization || undefined);
        return { status: 200, body: { ticket: await this.tickets.issue(user), expires_in: this.tickets.ttlSeconds } };
      })()
        .catch((err: unknown) => this.answerFor(err))
        .then((a) => {
          if (!aborted) res.cork(() => this.server.writeJson(res, origin, a));
        });
    });
    this.server.preflight('/api/v1/notifications/tickets', 'POST');
    await this.server.listen(this.opts.host, this.opts.port);
    this.log.info({ host: this.opts.host, port: this.port }, 'push gateway listening');
  }

  /** Stops accepting, then closes every socket with 1012 (service restart): clients reconnect elsewhere. */
  async stop(): Promise<void> {
    this.server.close();
    for (const ws of [...this.sockets]) ws.end(1012, 'restarting');
  }

  private upgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    // uWS reuses `req` once this callback returns: copy everything out before the first await.
    const origin = req.getHeader('origin');
    const authorization = req.getHeader('authorization');
    const { key, protocol, extensions } = upgradeHeaders(req);
    const ticket = new URLSearchParams(req.getQuery()).get('ticket');
    let aborted = false;
    res.onAborted(() => (aborted = true));
    void (async () => {
      if (!this.server.originAllowed(origin))
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
        if (a && !aborted) res.cork(() => this.server.writeJson(res, origin, a));
      });
  }

  private answerFor(err: unknown): HttpAnswer {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'unauthorized') return { status: 401, body: errorBody('unauthorized', (err as Error).message) };
    if (isRetriable(err)) return { status: 503, body: errorBody('unavailable', 'temporarily unavailable') };
    this.log.error({ err }, 'push gateway request failed');
    return { status: 500, body: errorBody('internal', 'internal error') };
  }
}
