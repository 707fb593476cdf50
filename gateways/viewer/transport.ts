import type uWS from '@trufflesuite/uws-js-unofficial';
import { ConnectionCounter } from '../../platform/http/limits.ts';
import { closeFrameOf } from '../../platform/http/socket-errors.ts';
import {
  SOCKET_DEFAULTS,
  UwsServer,
  decodeParam,
  errorBody,
  remoteAddressOf,
  upgradeHeaders,
} from '../../platform/http/uws.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Component } from '../../platform/service.ts';
import { VIEWER_ERRORS, isViewerErrorCode, type ViewerErrorCode } from './errors.ts';
import type { ViewerMetrics } from './metrics.ts';
import type { ViewerConnection, ViewerService } from './service.ts';
import { addressKey } from '../../platform/http/address.ts';

/**
 * The viewer gateway's uWebSockets.js adapter: `WS /streams/:id/viewers[?session=<id>]`.
 *
 * What it owns: the upgrade (origin allowlist, the per-address and overall connection caps, the
 * live check; a refusal is an HTTP answer and the socket never opens), frame sizes,
 * binary frames, backpressure (a player that does not read its count frames is dropped, never
 * buffered without bound) and close codes. Which closes are clean goodbyes: a player's 1000 or
 * 1001, and our own closes for broken rules; a dropped socket (1006) is not one, nor are our
 * 1012 (restart: the player reconnects elsewhere with its session) and the stream's end.
 */
export interface TransportOptions {
  host: string;
  /** 0 picks a free port; read it from `port` after start. */
  port: number;
  allowedOrigins: string[];
  maxFrameBytes: number;
  idleTimeoutSeconds: number;
  maxBackpressureBytes: number;
  maxConnections: number;
  /** Sockets one remote address may hold at once; its slot is taken before the upgrade. */
  maxConnectionsPerAddress: number;
}

interface SocketData {
  streamId: string;
  sessionId: string;
  /** The remote address whose slot this socket holds, released once when it closes. */
  address: string;
  conn: UwsConnection | undefined;
}

const topicOf = (streamId: string): string => `viewers/${streamId}`;
const NOT_GOODBYES = new Set<ViewerErrorCode>(['stream_ended', 'shutting_down']);

class UwsConnection implements ViewerConnection {
  closed = false;
  closingWith: ViewerErrorCode | undefined;
  readonly userId = null;

  constructor(
    readonly id: number,
    private readonly ws: uWS.WebSocket<SocketData>,
    readonly streamId: string,
    readonly sessionId: string,
  ) {}

  send(frame: string): void {
    if (this.closed) return;
    this.ws.cork(() => this.ws.send(frame, false));
  }

  close(code: ViewerErrorCode): void {
    if (this.closed || this.closingWith) return;
    this.closingWith = code;
    const c = closeFrameOf(VIEWER_ERRORS[code]);
    this.ws.end(c.code, c.reason);
  }
}

export class ViewerTransport implements Component {
  readonly name = 'viewer-transport';
  private readonly server: UwsServer;
  private readonly byStream = new Map<string, Set<UwsConnection>>();
  private size = 0;
  private nextId = 1;
  private readonly perAddress: ConnectionCounter;

  constructor(
    private readonly service: ViewerService,
    private readonly newSession: () => string,
    private readonly opts: TransportOptions,
    private readonly log: Logger,
    private readonly metrics: ViewerMetrics,
  ) {
    this.server = new UwsServer('viewer gateway', opts.allowedOrigins);
    this.perAddress = new ConnectionCounter(opts.maxConnectionsPerAddress);
  }

  get port(): number {
    return this.server.port;
  }

  broadcast(streamId: string, frame: string): void {
    this.server.app.publish(topicOf(streamId), frame, false);
  }

  connectionsOf(streamId: string): Iterable<ViewerConnection> {
    return this.byStream.get(streamId) ?? [];
  }

  async start(): Promise<void> {
    this.server.app.ws<SocketData>('/streams/:id/viewers', {
      ...SOCKET_DEFAULTS,
      maxPayloadLength: this.opts.maxFrameBytes,
      idleTimeout: this.opts.idleTimeoutSeconds,
      maxBackpressure: this.opts.maxBackpressureBytes,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => this.open(ws),
      message: (ws, message, isBinary) => {
        const conn = ws.getUserData().conn!;
        if (isBinary) return this.refuse(conn, 'binary_frame');
        this.service.receive(conn, Buffer.from(message).toString('utf8'));
      },
      close: (ws, code) => this.closed(ws, code),
    });
    await this.server.listen(this.opts.host, this.opts.port);
    this.log.info({ host: this.opts.host, port: this.port }, 'viewer gateway listening');
  }

  /** Stops accepting, then closes every socket with 1012: players reconnect elsewhere with their session. */
  async stop(): Promise<void> {
    this.server.close();
    for (const conns of [...this.byStream.values()]) for (const c of [...conns]) c.close('shutting_down');
  }

  private upgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    const streamId = decodeParam(req.getParameter(0));
    const origin = req.getHeader('origin');
    const query = new URLSearchParams(req.getQuery());
    const { key, protocol, extensions } = upgradeHeaders(req);
    const address = addressKey(remoteAddressOf(res));
    let holding = false;
    try {
      if (!this.server.originAllowed(origin)) {
        throw Object.assign(new Error('this origin may not open the viewer socket'), { code: 'origin_not_allowed' });
      }
      if (this.size >= this.opts.maxConnections) {
        throw Object.assign(new Error('this viewer gateway is full'), { code: 'too_many_connections' });
      }
      if (!this.perAddress.tryAcquire(address)) {
        throw Object.assign(new Error('too many viewer sockets from this address'), {
          code: 'too_many_connections_from_address',
        });
      }
      holding = true;
      const admission = this.service.admit(streamId, query.get('session'), this.newSession);
      // From here the socket's close handler owns the slot (uWS calls it for every socket it opened).
      holding = false;
      res.upgrade<SocketData>({ ...admission, address, conn: undefined }, key, protocol, extensions, context);
    } catch (err) {
      if (holding) this.perAddress.release(address);
      const raw = (err as { code?: unknown }).code;
      const code: ViewerErrorCode = isViewerErrorCode(raw) ? raw : 'internal';
      if (code === 'internal') this.log.error({ err, streamId }, 'viewer upgrade failed');
      this.metrics.refused.inc({ code });
      this.server.writeJson(res, origin, {
        status: VIEWER_ERRORS[code].http,
        body: errorBody(code, code === 'internal' ? 'internal error' : (err as Error).message),
      });
    }
  }

  private open(ws: uWS.WebSocket<SocketData>): void {
    const data = ws.getUserData();
    const conn = new UwsConnection(this.nextId++, ws, data.streamId, data.sessionId);
    data.conn = conn;
    const set = this.byStream.get(conn.streamId) ?? new Set();
    set.add(conn);
    this.byStream.set(conn.streamId, set);
    this.size++;
    // Subscribed before the welcome: no count frame can fall between.
    ws.subscribe(topicOf(conn.streamId));
    this.service.join(conn);
  }

  private closed(ws: uWS.WebSocket<SocketData>, code: number): void {
    const data = ws.getUserData();
    this.perAddress.release(data.address);
    const conn = data.conn;
    if (!conn) return;
    conn.closed = true;
    const set = this.byStream.get(conn.streamId);
    set?.delete(conn);
    if (set?.size === 0) this.byStream.delete(conn.streamId);
    this.size--;
    const goodbye = conn.closingWith ? !NOT_GOODBYES.has(conn.closingWith) : code === 1000 || code === 1001;
    this.service.leave(conn, goodbye);
  }

  private refuse(conn: UwsConnection, code: ViewerErrorCode): void {
    this.metrics.refused.inc({ code });
    conn.close(code);
  }
}
