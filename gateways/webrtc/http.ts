import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { edgeCodeOf } from '../../platform/errors.ts';
import { canonicalAddress } from '../../platform/http/address.ts';
import { RequestLimiter } from '../../platform/http/limits.ts';
import type { Logger } from '../../platform/logger.ts';
import { HTTP_STATUS, RETRY_AFTER_S, WebRtcError, type WebRtcErrorCode } from './errors.ts';
import type { WebRtcGateway } from './gateway.ts';
import { MAX_SDP_BYTES } from './sdp.ts';
import { PLAYBACK_SESSION_PARAM, SESSION_ID } from '../../domain/viewers/playback.ts';

/**
 * WHIP (RFC 9725) and WHEP over HTTP:
 *   POST   /whip                      Authorization: Bearer <stream key>, body: SDP offer
 *          -> 201, the SDP answer, Location: /whip/sessions/<id>
 *   DELETE /whip/sessions/<id>       ends the broadcast
 *   POST   /whep/<streamId>           body: SDP offer -> 201, the SDP answer, Location: /whep/sessions/<id>
 *   DELETE /whep/sessions/<id>       leaves
 *   PATCH  on a session              405: the server gathers its candidates before it answers
 *                                    (trickle ICE is optional in both protocols)
 * Each refusal is JSON `{error: {code, message}}` with the status of errors.ts's table.
 */
const SESSION = /^\/(whip|whep)\/sessions\/([0-9a-f-]{36})$/;
const WHEP = /^\/whep\/([A-Za-z0-9_-]{1,64})$/;

export class WebRtcHttp {
  private server: Server | null = null;
  private readonly offers: RequestLimiter;

  constructor(
    private readonly gateway: WebRtcGateway,
    private readonly o: {
      host: string;
      port: number;
      corsOrigins: string[];
      offersPerAddressPerMin: number;
      log: Logger;
    },
  ) {
    this.offers = new RequestLimiter({ points: o.offersPerAddressPerMin, durationS: 60 });
  }

  async start(): Promise<number> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.requestTimeout = 15_000;
    this.server.headersTimeout = 10_000;
    await new Promise<void>((ok, fail) => {
      this.server!.once('error', fail);
      this.server!.listen(this.o.port, this.o.host, () => ok());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    await new Promise<void>((done) => s.close(() => done()));
    s.closeAllConnections();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.cors(req, res);
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      const method = req.method ?? 'GET';
      if (method === 'OPTIONS') return void res.writeHead(204, { 'access-control-max-age': '600' }).end();
      const session = SESSION.exec(path);
      if (session) {
        if (method === 'PATCH')
          throw notAllowed(res, 'DELETE', 'trickle ICE is not offered: the answer carries every candidate');
        if (method !== 'DELETE') throw notAllowed(res, 'DELETE');
        if (session[1] === 'whip') await this.gateway.unpublish(session[2]!);
        else this.gateway.stopViewer(session[2]!);
        return void res.writeHead(200).end();
      }
      const whep = WHEP.exec(path);
      if (path === '/whip' || whep) {
        if (method !== 'POST') throw notAllowed(res, 'POST');
        // Each offer costs a peer connection (and a publisher an ffmpeg): limited per address
        // before the body is read. WebRTC's media cannot pass an HTTP proxy, so the peer is the client.
        const address = canonicalAddress(req.socket.remoteAddress ?? '');
        const taken = await this.offers.take(address);
        if (!taken.ok) {
          req.resume();
          const err = new WebRtcError(
            'rate_limited',
            `too many offers from this address; try again in ${taken.retryAfterS} s`,
          );
          err.retryAfterS = taken.retryAfterS;
          throw err;
        }
        const offer = await readOffer(req);
        const { sessionId, answer } = whep
          ? await this.gateway.play(whep[1]!, offer, address, playbackSessionOf(url))
          : await this.gateway.publish(bearer(req), offer, address);
        res.writeHead(201, {
          'content-type': 'application/sdp',
          location: `/${whep ? 'whep' : 'whip'}/sessions/${sessionId}`,
        });
        return void res.end(answer);
      }
      throw new WebRtcError('not_found', 'WHIP is POST /whip; WHEP is POST /whep/<stream id>');
    } catch (err) {
      this.fail(res, err);
    }
  }

  private cors(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    const any = this.o.corsOrigins.includes('*');
    if (!origin || !(any || this.o.corsOrigins.includes(origin))) return;
    res.setHeader('access-control-allow-origin', any ? '*' : origin);
    res.setHeader('vary', 'Origin');
    res.setHeader('access-control-allow-methods', 'POST, DELETE, PATCH, OPTIONS');
    res.setHeader('access-control-allow-headers', 'authorization, content-type, if-match');
    res.setHeader('access-control-expose-headers', 'location, retry-after');
  }

  private fail(res: ServerResponse, err: unknown): void {
    const code = edgeCodeOf(err, (c): c is WebRtcErrorCode => typeof c === 'string' && c in HTTP_STATUS);
    const status = code === 'internal' ? 500 : HTTP_STATUS[code];
    if (code === 'internal') this.o.log.error({ err }, 'webrtc request failed');
    const message = code === 'internal' ? 'internal error' : (err as Error).message;
    if (res.headersSent) return void res.end();
    const retry = code === 'internal' ? undefined : ((err as WebRtcError).retryAfterS ?? RETRY_AFTER_S[code]);
    res.writeHead(status, {
      'content-type': 'application/json',
      ...(code === 'payload_too_large' && { connection: 'close' }),
      ...(retry && { 'retry-after': String(retry) }),
      ...(code === 'missing_key' || code === 'unknown_key' || code === 'malformed_key'
        ? { 'www-authenticate': 'Bearer realm="whip"' }
        : {}),
    });
    res.end(JSON.stringify({ error: { code, message } }));
  }
}

function notAllowed(res: ServerResponse, allow: string, message = `use ${allow}`): WebRtcError {
  res.setHeader('allow', `${allow}, OPTIONS`);
  return new WebRtcError('method_not_allowed', message);
}

function bearer(req: IncomingMessage): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m ? m[1]! : null;
}

/** The request's SDP: `application/sdp`, at most MAX_SDP_BYTES, read no further than that. */
async function readOffer(req: IncomingMessage): Promise<string> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/sdp') {
    req.resume();
    throw new WebRtcError('unsupported_media_type', 'the offer is sent as Content-Type: application/sdp');
  }
  if (Number(req.headers['content-length'] ?? 0) > MAX_SDP_BYTES) {
    req.resume();
    throw new WebRtcError('payload_too_large', `an offer is at most ${MAX_SDP_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_SDP_BYTES) {
      req.pause();
      throw new WebRtcError('payload_too_large', `an offer is at most ${MAX_SDP_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The page's player session on a WHEP offer (`?vsid=`); anything but a well-formed id is none. */
function playbackSessionOf(url: URL): string | null {
  const v = url.searchParams.get(PLAYBACK_SESSION_PARAM);
  return v !== null && SESSION_ID.test(v) ? v : null;
}
