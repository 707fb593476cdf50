import type uWS from '@trufflesuite/uws-js-unofficial';
import { edgeCodeOf } from '../../platform/errors.ts';
import { closeFrameOf } from '../../platform/http/socket-errors.ts';
import { ConnectionLimits, type ConnectionSlot } from '../../platform/http/connection-limits.ts';
import { RequestLimiter } from '../../platform/http/limits.ts';
import {
  SOCKET_DEFAULTS,
  UwsServer,
  decodeParam,
  errorBody,
  remoteAddressOf,
  upgradeHeaders,
  type HttpAnswer,
} from '../../platform/http/uws.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';
import type { Identity } from '../../domain/chat/decide.ts';
import { CHAT_ERRORS, ChatError, isChatErrorCode, type ChatErrorCode } from './errors.ts';
import { FanoutWriter } from './fanout-writer.ts';
import type { ChatMetrics } from './metrics.ts';
import { messageBody } from './protocol.ts';
import type { Admission, ChatConnection, ChatService } from './service.ts';
import type { Tickets } from '../../platform/auth/tickets.ts';

/**
 * The chat gateway's uWebSockets.js adapter: one port for the WebSocket and its two HTTP routes.
 *
 *   WS   /streams/:id/chat[?ticket=...][&since=<message_id>]   read anonymously; send with a ticket
 *        (or `Authorization: Bearer`, for clients that can set headers)
 *   GET  /api/v1/streams/:id/chat?before=<message_id|ISO time>&limit=<1..100>   older history, oldest first
 *   GET  /api/v1/streams/:id/chat?after=<message_id|ISO time>&limit=<1..100>    what followed, oldest first
 *   POST /api/v1/streams/:id/chat/tickets   (Authorization: Bearer)   a short-lived ticket
 *
 * What it owns: the upgrade (origin allowlist, connection limits, authentication and the
 * history read all happen before the socket opens, with `onAborted` set first), frame sizes,
 * binary frames, backpressure and close codes. uWS itself enforces `maxPayloadLength` (a larger frame drops the connection),
 * refuses text frames that are not UTF-8 (dropped, close code 1006 on both ends) and, with
 * `closeOnBackpressureLimit`, drops a reader whose unsent bytes pass `maxBackpressure`: a slow
 * viewer is disconnected (and may resume with `since`), never buffered without bound, and never
 * slows anyone else. Frames up to the hard limit but over `maxFrameBytes` get a clean 1009.
 *
 * Connections are capped in all, per remote address and per user (ConnectionLimits): an upgrade
 * takes its slot before any asynchronous work, so attempts in progress count too, and gives it
 * back when it fails or is aborted (once its admission work has ended, so aborting and retrying
 * cannot pile up work) or when its socket closes. Over a limit, the upgrade is refused with 503
 * `too_many_connections`. Tickets are single-use (Tickets) and rate-limited per address (429
 * `rate_limited` with Retry-After).
 *
 * Never logged: query strings (tickets) and Authorization headers.
 */
export interface TransportOptions {
  host: string;
  /** 0 picks a free port; read it from `port` after start. */
  port: number;
  /** Origins allowed to open the socket or call the routes from a browser; '*' allows any. */
  allowedOrigins: string[];
  maxFrameBytes: number;
  hardMaxPayloadBytes: number;
  idleTimeoutSeconds: number;
  maxBackpressureBytes: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxConnectionsPerUser: number;
  /** Tickets one address may get per window. */
  ticketsPerAddress: number;
  ticketWindowSeconds: number;
  pageDefault: number;
  /** Readers per fan-out group, and groups written per event-loop turn (FanoutWriter). */
  fanoutGroupSize: number;
  fanoutGroupsPerTurn: number;
}

/** Verifies an `Authorization: Bearer` header (the API's Authenticator fits). */
export interface BearerAuth {
  require(authorization: string | undefined): Promise<Identity>;
}

interface SocketData {
  streamId: string;
  admission: Admission;
  /** Held from before the upgrade until the socket closes. */
  slot: ConnectionSlot;
  conn: UwsConnection | undefined;
}

const KNOWN_CLOSE_CODES = new Set([1000, 1001, 1003, 1005, 1006, 1007, 1008, 1009, 1011, 1012]);

class UwsConnection implements ChatConnection {
  closed = false;
  /** The fan-out group's topic this socket subscribes to. */
  topic = '';

  constructor(
    readonly id: number,
    private readonly ws: uWS.WebSocket<SocketData>,
    readonly streamId: string,
    readonly user: Identity | undefined,
  ) {}

  send(frame: string): void {
    if (this.closed) return;
    this.ws.cork(() => this.ws.send(frame, false));
  }

  close(code: ChatErrorCode): void {
    if (this.closed) return;
    const c = closeFrameOf(CHAT_ERRORS[code]);
    this.ws.end(c.code, c.reason);
  }
}

interface HttpCall {
  params: string[];
  query: URLSearchParams;
  origin: string;
  authorization: string;
  address: string;
}
export class ChatTransport implements Component {
  readonly name = 'chat-transport';
  private readonly server: UwsServer;
  private readonly connections = new Set<UwsConnection>();
  private nextId = 1;
  private readonly fanout: FanoutWriter;
  private readonly limits: ConnectionLimits;
  private readonly ticketLimiter: RequestLimiter;

  constructor(
    private readonly service: ChatService,
    private readonly tickets: Tickets,
    private readonly auth: BearerAuth,
    private readonly opts: TransportOptions,
    private readonly log: Logger,
    private readonly metrics: ChatMetrics,
  ) {
    this.server = new UwsServer('chat gateway', opts.allowedOrigins);
    this.limits = new ConnectionLimits({
      maxConnections: opts.maxConnections,
      perAddress: opts.maxConnectionsPerAddress,
      perUser: opts.maxConnectionsPerUser,
    });
    this.ticketLimiter = new RequestLimiter({ points: opts.ticketsPerAddress, durationS: opts.ticketWindowSeconds });
    this.fanout = new FanoutWriter({
      groupSize: opts.fanoutGroupSize,
      groupsPerTurn: opts.fanoutGroupsPerTurn,
      publish: (topic, frames, from, to) => {
        for (let i = from; i < to; i++) this.server.app.publish(topic, frames[i]!, false);
      },
      counted: (writes, frames, waitedMs) => {
        this.metrics.fanoutWrites.inc(writes);
        this.metrics.fanoutFrames.inc(frames);
        this.metrics.fanoutWait.observe(waitedMs / 1000);
      },
    });
  }

  get port(): number {
    return this.server.port;
  }

  /** Every local socket of the stream gets the frame, in call order (FanoutWriter). */
  broadcast(streamId: string, frame: string): void {
    this.fanout.publish(streamId, frame);
  }

  async start(): Promise<void> {
    this.server.app.ws<SocketData>('/streams/:id/chat', {
      ...SOCKET_DEFAULTS,
      maxPayloadLength: this.opts.hardMaxPayloadBytes,
      idleTimeout: this.opts.idleTimeoutSeconds,
      maxBackpressure: this.opts.maxBackpressureBytes,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => this.open(ws),
      message: (ws, message, isBinary) => this.message(ws, message, isBinary),
      close: (ws, code, message) => this.closed(ws, code, message),
    });
    this.route('get', '/api/v1/streams/:id/chat', (c) => this.history(c));
    this.route('post', '/api/v1/streams/:id/chat/tickets', (c) => this.ticket(c));
    for (const path of ['/api/v1/streams/:id/chat', '/api/v1/streams/:id/chat/tickets']) {
      this.server.preflight(path, 'GET, POST');
    }
    await this.server.listen(this.opts.host, this.opts.port);
    this.log.info({ host: this.opts.host, port: this.port }, 'chat gateway listening');
  }

  /**
   * The user's tokens were revoked (live.user.revocations): every socket they opened here closes
   * (1008), as their next upgrade with an old token or ticket would be refused. Returns how many.
   */
  closeUser(userId: string): number {
    let closed = 0;
    for (const conn of [...this.connections]) {
      if (conn.user?.userId !== userId) continue;
      conn.close('token_revoked');
      closed++;
    }
    return closed;
  }

  /** Stops accepting, then closes every socket with 1012 (service restart): clients reconnect elsewhere with `since`. */
  async stop(): Promise<void> {
    this.server.close();
    this.fanout.flush();
    for (const conn of [...this.connections]) conn.close('shutting_down');
  }

  private upgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    // uWS reuses `req` once this callback returns: copy everything out before the first await.
    const streamId = decodeParam(req.getParameter(0));
    const origin = req.getHeader('origin');
    const authorization = req.getHeader('authorization');
    const { key, protocol, extensions } = upgradeHeaders(req);
    const query = new URLSearchParams(req.getQuery());
    const address = remoteAddressOf(res);
    let aborted = false;
    res.onAborted(() => (aborted = true));
    // Taken before any await and given back in `finally` unless the socket took it over.
    let slot: ConnectionSlot | undefined;
    let handedOver = false;

    void (async () => {
      if (!this.server.originAllowed(origin))
        throw new ChatError('origin_not_allowed', 'this origin may not open chat');
      const taken = this.limits.acquire(address);
      if (!taken.ok) throw new ChatError('too_many_connections', taken.message);
      slot = taken.slot;
      this.countUpgrades();
      const ticket = query.get('ticket');
      const user = ticket
        ? await this.tickets.verify(ticket, streamId)
        : authorization
          ? await this.auth.require(authorization)
          : undefined;
      if (user) {
        const added = slot.addUser(user.userId);
        if (!added.ok) throw new ChatError('too_many_connections', added.message);
      }
      const admission = await this.service.admit(streamId, user, query.get('since') ?? undefined);
      if (aborted) return;
      const data: SocketData = { streamId, admission, slot, conn: undefined };
      res.cork(() => res.upgrade<SocketData>(data, key, protocol, extensions, context));
      // The socket is open (uWS opens it within upgrade) and gives the slot back when it closes.
      handedOver = true;
    })()
      .catch((err: unknown) => {
        if (aborted) return;
        const answer = this.answerFor(err, streamId);
        res.cork(() => this.server.writeJson(res, origin, answer));
      })
      .catch((err: unknown) => this.log.error({ err, streamId }, 'could not refuse a chat upgrade'))
      .finally(() => {
        if (!handedOver) slot?.release();
        this.countUpgrades();
      });
  }

  private countUpgrades(): void {
    this.metrics.upgrading.set(this.limits.inProgress);
  }

  private open(ws: uWS.WebSocket<SocketData>): void {
    const data = ws.getUserData();
    data.slot.opened();
    const conn = new UwsConnection(this.nextId++, ws, data.streamId, data.admission.user);
    data.conn = conn;
    this.connections.add(conn);
    // History and the fan-out's cursor in one synchronous step: every frame applied so far is in
    // the history, every later one comes through the fan-out, none falls between or comes twice.
    this.service.join(conn, data.admission);
    conn.topic = this.fanout.join(data.streamId);
    ws.subscribe(conn.topic);
  }

  private message(ws: uWS.WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean): void {
    const conn = ws.getUserData().conn!;
    if (isBinary) return this.refuse(conn, 'binary_frame');
    if (message.byteLength > this.opts.maxFrameBytes) return this.refuse(conn, 'frame_too_large');
    // uWS has already checked the text is UTF-8; copy it out before the buffer is reused.
    void this.service.receive(conn, Buffer.from(message).toString('utf8'));
  }

  private closed(ws: uWS.WebSocket<SocketData>, code: number, message: ArrayBuffer): void {
    const data = ws.getUserData();
    data.slot.release();
    const conn = data.conn;
    if (!conn) return;
    conn.closed = true;
    this.connections.delete(conn);
    this.fanout.leave(conn.streamId, conn.topic);
    this.service.leave(conn);
    // Clients pick their own close codes: only the ones that mean something here become labels.
    this.metrics.closed.inc({ code: KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other' });
    if (code === 1006) {
      // uWS's own reason when it dropped the socket: invalid UTF-8, an oversize frame, backpressure.
      const reason = Buffer.from(message).toString('utf8');
      if (reason) this.log.info({ streamId: conn.streamId, reason }, 'chat socket dropped');
    }
  }

  private refuse(conn: UwsConnection, code: ChatErrorCode): void {
    this.metrics.refused.inc({ code });
    conn.close(code);
  }

  private async history(c: HttpCall): Promise<HttpAnswer> {
    const before = c.query.get('before') ?? undefined;
    const after = c.query.get('after') ?? undefined;
    const limitParam = c.query.get('limit');
    const limit = limitParam === null ? this.opts.pageDefault : Number(limitParam);
    if (after !== undefined) {
      if (before !== undefined) throw new ChatError('invalid_request', 'give before or after, not both');
      const forwards = await this.service.pageAfter(c.params[0]!, after, limit);
      return { status: 200, body: { messages: forwards.messages.map(messageBody), next_after: forwards.nextAfter } };
    }
    const page = await this.service.page(c.params[0]!, before, limit);
    return {
      status: 200,
      body: { messages: page.messages.map(messageBody), next_before: page.nextBefore },
    };
  }

  private async ticket(c: HttpCall): Promise<HttpAnswer> {
    // Before anything else: a refused caller costs no signature check.
    const taken = await this.ticketLimiter.take(c.address);
    if (!taken.ok) {
      this.metrics.refused.inc({ code: 'rate_limited' });
      return {
        status: CHAT_ERRORS.rate_limited.http,
        body: errorBody('rate_limited', 'too many chat tickets from this address; try again later'),
        headers: { 'retry-after': String(taken.retryAfterS) },
      };
    }
    if (!this.server.originAllowed(c.origin))
      throw new ChatError('origin_not_allowed', 'this origin may not get chat tickets');
    const user = await this.auth.require(c.authorization || undefined);
    const streamId = c.params[0]!;
    this.service.requireStream(streamId);
    return {
      status: 200,
      body: { ticket: await this.tickets.issue(user, streamId), expires_in: this.tickets.ttlSeconds },
    };
  }

  private route(method: 'get' | 'post', pattern: string, handle: (c: HttpCall) => Promise<HttpAnswer>): void {
    const params = (pattern.match(/:[^/]+/g) ?? []).length;
    this.server.app[method](pattern, (res, req) => {
      const call: HttpCall = {
        params: Array.from({ length: params }, (_, i) => decodeParam(req.getParameter(i))),
        query: new URLSearchParams(req.getQuery()),
        origin: req.getHeader('origin'),
        authorization: req.getHeader('authorization'),
        address: remoteAddressOf(res),
      };
      let aborted = false;
      res.onAborted(() => (aborted = true));
      handle(call)
        .catch((err: unknown) => this.answerFor(err, call.params[0]))
        .then((answer) => {
          if (!aborted) res.cork(() => this.server.writeJson(res, call.origin, answer));
        })
        .catch((err: unknown) => this.log.error({ err }, 'could not write a chat HTTP reply'));
    });
  }

  private answerFor(err: unknown, streamId: string | undefined): HttpAnswer {
    const code: ChatErrorCode = edgeCodeOf(err, isChatErrorCode);
    if (code === 'internal') this.log.error({ err, streamId }, 'chat request failed');
    this.metrics.refused.inc({ code });
    const message =
      code === 'internal'
        ? 'internal error'
        : code === 'unavailable'
          ? 'temporarily unavailable'
          : (err as Error).message;
    return { status: CHAT_ERRORS[code].http, body: errorBody(code, message) };
  }
}
