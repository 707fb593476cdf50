import type uWS from '@trufflesuite/uws-js-unofficial';
import {
  SOCKET_DEFAULTS,
  UwsServer,
  errorBody,
  remoteAddressOf,
  upgradeHeaders,
  type HttpAnswer,
} from '../../platform/http/uws.ts';
import { ConnectionLimits, type ConnectionSlot } from '../../platform/http/connection-limits.ts';
import { RequestLimiter } from '../../platform/http/limits.ts';
import { edgeCodeOf } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';
import type { Principal } from '../../platform/auth/tokens.ts';
import type { Tickets } from '../../platform/auth/tickets.ts';
import { PUSH_ERRORS, PushError, isPushErrorCode } from './errors.ts';
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
 * client are ignored (uWS answers pings itself).
 *
 * Connections are capped in all, per remote address and per user (ConnectionLimits): the slot is
 * taken before the ticket is checked, so upgrades in progress count, and given back when the
 * attempt fails or is aborted or the socket closes; over a limit the upgrade is refused with 503
 * `too_many_connections`. Tickets are single-use (Tickets) and rate-limited per address (429
 * `rate_limited` with Retry-After). Errors answer by the one table (`errors.ts`).
 *
 * Never logged: query strings and Authorization.
 */
export interface PushTransportOptions {
  host: string;
  /** 0 picks a free port; read it from `port` after start. */
  port: number;
  allowedOrigins: string[];
  idleTimeoutSeconds: number;
  maxBackpressureBytes: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxConnectionsPerUser: number;
  /** Tickets one address may get per window. */
  ticketsPerAddress: number;
  ticketWindowSeconds: number;
}

export interface BearerAuth {
  require(authorization: string | undefined): Promise<Principal>;
}

interface SocketData {
  user: Principal;
  /** Held from before the upgrade until the socket closes. */
  slot: ConnectionSlot;
}

const topicOf = (userId: string): string => `u/${userId}`;

export class PushTransport implements Component {
  readonly name = 'push-transport';
  private readonly server: UwsServer;
  private readonly sockets = new Set<uWS.WebSocket<SocketData>>();
  private readonly limits: ConnectionLimits;
  private readonly ticketLimiter: RequestLimiter;

  constructor(
    private readonly tickets: Tickets,
    private readonly auth: BearerAuth,
    private readonly opts: PushTransportOptions,
    private readonly log: Logger,
  ) {
    this.server = new UwsServer('push gateway', opts.allowedOrigins);
    this.limits = new ConnectionLimits({
      maxConnections: opts.maxConnections,
      perAddress: opts.maxConnectionsPerAddress,
      perUser: opts.maxConnectionsPerUser,
    });
    this.ticketLimiter = new RequestLimiter({ points: opts.ticketsPerAddress, durationS: opts.ticketWindowSeconds });
  }

  get port(): number {
    return this.server.port;
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Upgrades holding a connection slot whose socket is not open yet. */
  get upgrading(): number {
    return this.limits.inProgress;
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
        const { user, slot } = ws.getUserData();
        slot.opened();
        this.sockets.add(ws);
        ws.subscribe(topicOf(user.userId));
        ws.send(readyFrame(user.userId), false);
      },
      close: (ws) => {
        ws.getUserData().slot.release();
        this.sockets.delete(ws);
      },
    });
    this.server.app.post('/api/v1/notifications/tickets', (res, req) => {
      const origin = req.getHeader('origin');
      const authorization = req.getHeader('authorization');
      const address = remoteAddressOf(res);
      let aborted = false;
      res.onAborted(() => (aborted = true));
      void (async (): Promise<HttpAnswer> => {
        // Before anything else: a refused caller costs no signature check.
        const taken = await this.ticketLimiter.take(address);
        if (!taken.ok) {
          return {
            status: PUSH_ERRORS.rate_limited.http,
            body: errorBody('rate_limited', 'too many push tickets from this address; try again later'),
            headers: { 'retry-after': String(taken.retryAfterS) },
          };
        }
        if (!this.server.originAllowed(origin))
          throw new PushError('origin_not_allowed', 'this origin may not get push tickets');
        const user = await this.auth.require(authorization || undefined);
        return { status: 200, body: { ticket: await this.tickets.issue(user), expires_in: this.tickets.ttlSeconds } };
      })()
        .catch((err: unknown) => this.answerFor(err))
        .then((a) => {
          if (!aborted) res.cork(() => this.server.writeJson(res, origin, a));
        })
        .catch((err: unknown) => this.log.error({ err }, 'could not write a push ticket reply'));
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
    const address = remoteAddressOf(res);
    let aborted = false;
    res.onAborted(() => (aborted = true));
    // Taken before any await and given back in `finally` unless the socket took it over.
    let slot: ConnectionSlot | undefined;
    let handedOver = false;
    void (async () => {
      if (!this.server.originAllowed(origin)) throw new PushError('origin_not_allowed', 'this origin may not connect');
      const taken = this.limits.acquire(address);
      if (!taken.ok) throw new PushError('too_many_connections', taken.message);
      slot = taken.slot;
      const user = ticket ? await this.tickets.verify(ticket) : await this.auth.require(authorization || undefined);
      const added = slot.addUser(user.userId);
      if (!added.ok) throw new PushError('too_many_connections', added.message);
      if (aborted) return;
      const data: SocketData = { user, slot };
      res.cork(() => res.upgrade<SocketData>(data, key, protocol, extensions, context));
      // The socket is open (uWS opens it within upgrade) and gives the slot back when it closes.
      handedOver = true;
    })()
      .catch((err: unknown) => {
        if (aborted) return;
        const answer = this.answerFor(err);
        res.cork(() => this.server.writeJson(res, origin, answer));
      })
      .catch((err: unknown) => this.log.error({ err }, 'could not refuse a push upgrade'))
      .finally(() => {
        if (!handedOver) slot?.release();
      });
  }

  private answerFor(err: unknown): HttpAnswer {
    const code = edgeCodeOf(err, isPushErrorCode);
    if (code === 'internal') this.log.error({ err }, 'push gateway request failed');
    const message =
      code === 'internal'
        ? 'internal error'
        : code === 'unavailable'
          ? 'temporarily unavailable'
          : (err as Error).message;
    return { status: PUSH_ERRORS[code].http, body: errorBody(code, message) };
  }
}
