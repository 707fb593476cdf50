import { STATUS_CODES } from 'node:http';
import uWS from '@trufflesuite/uws-js-unofficial';
import { answerPreflight } from './cors.ts';

/**
 * What the three uWebSockets.js gateways (chat, viewer, push) share: one app and its listening
 * socket, the origin allowlist, JSON answers with CORS, and the socket settings that keep a slow
 * reader from costing memory. Each gateway keeps its own routes, upgrade checks and frames.
 */

/**
 * Pings from the server (a dead peer is noticed within the idle timeout), a reader whose unsent
 * bytes pass `maxBackpressure` is dropped rather than buffered without bound, and no
 * per-message deflate (its per-socket window costs more memory than chat frames save).
 */
export const SOCKET_DEFAULTS = {
  sendPingsAutomatically: true,
  // Typed as a number in this release's typings; uWS reads it as a flag.
  closeOnBackpressureLimit: 1,
  compression: uWS.DISABLED,
} as const;

export interface HttpAnswer {
  status: number;
  body?: unknown;
  /** More headers, lower case (e.g. `retry-after` on a 429). */
  headers?: Record<string, string>;
}

export const errorBody = (code: string, message: string) => ({ error: { code, message } });

/** uWS reuses `req` once the upgrade handler returns: the headers `res.upgrade` needs, copied out. */
export function upgradeHeaders(req: uWS.HttpRequest): { key: string; protocol: string; extensions: string } {
  return {
    key: req.getHeader('sec-websocket-key'),
    protocol: req.getHeader('sec-websocket-protocol'),
    extensions: req.getHeader('sec-websocket-extensions'),
  };
}

/** The TCP peer's address as text (IPv6 as eight groups of four hex digits); read it before the first await. */
export function remoteAddressOf(res: uWS.HttpResponse): string {
  return Buffer.from(res.getRemoteAddressAsText()).toString('utf8');
}

/** A path parameter, percent-decoded; left as it came when it is not valid percent-encoding. */
export function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export class UwsServer {
  readonly app = uWS.App();
  private listenSocket: uWS.us_listen_socket | undefined;
  private readonly anyOrigin: boolean;

  constructor(
    private readonly label: string,
    private readonly allowedOrigins: string[],
  ) {
    this.anyOrigin = allowedOrigins.includes('*');
  }

  /** No Origin header: not a browser, so not a cross-site page riding a user's session. */
  originAllowed(origin: string): boolean {
    return !origin || this.anyOrigin || this.allowedOrigins.includes(origin);
  }

  get port(): number {
    if (!this.listenSocket) throw new Error(`${this.label} is not listening`);
    return uWS.us_socket_local_port(this.listenSocket as unknown as uWS.us_socket);
  }

  /** Answers CORS preflights for `path` (OPTIONS), by this server's origin allowlist. */
  preflight(path: string, methods: string): void {
    this.app.options(path, (res, req) => {
      const origin = req.getHeader('origin');
      answerPreflight(res, origin, this.originAllowed(origin), methods);
    });
  }

  /** Answers every route not registered before with a JSON 404, then listens (port 0: any free one). */
  async listen(host: string, port: number): Promise<void> {
    this.app.any('/*', (res) => {
      res.cork(() => this.writeJson(res, '', { status: 404, body: errorBody('route_not_found', 'no such route') }));
    });
    this.listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
      this.app.listen(host, port, (s) =>
        s ? resolve(s) : reject(new Error(`${this.label} cannot listen on ${host}:${port}`)),
      ),
    );
  }

  /** Stops accepting connections; open sockets are the gateway's to close. */
  close(): void {
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  /** A JSON answer; an allowed browser origin may read it; a 503 says when to come back. Call corked. */
  writeJson(res: uWS.HttpResponse, origin: string, a: HttpAnswer): void {
    res.writeStatus(`${a.status} ${STATUS_CODES[a.status] ?? ''}`);
    if (origin && this.originAllowed(origin)) {
      res.writeHeader('access-control-allow-origin', origin);
      res.writeHeader('vary', 'Origin');
    }
    res.writeHeader('content-type', 'application/json; charset=utf-8');
    if (a.status === 503 && !a.headers?.['retry-after']) res.writeHeader('retry-after', '5');
    for (const [name, value] of Object.entries(a.headers ?? {})) res.writeHeader(name, value);
    res.end(JSON.stringify(a.body ?? {}));
  }
}
