import { createCipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { APP, routeCommand, type SessionStanding } from './command-policy.ts';
import { AUTHENTICATED, UNAUTHENTICATED, bufferViolation, validChunkSize } from './session-limits.ts';

export { APP };

/**
 * RTMP (and RTMPS) transport over node-rtsp-rtmp-server (only its RTMP server is started: no
 * RTSP/HTTP port, no receiver sockets). The library has no authorisation hook for RTMP (its
 * `setLivePathConsumer` is only consulted by RTSP) and trusts every peer, so each session's
 * methods are wrapped as the connection arrives:
 *   - commands: `routeCommand` decides (command-policy.ts); anything off the publish path, and
 *     off the pull path for a peer in INGEST_PULL_ALLOW, closes the session. `publish <key>`:
 *     `authorizePublish` decides, and an accepted key is replaced by the stream id, so the library
 *     keeps the stream as `live/<streamId>` and the key goes no further than this function.
 *     `play live/<streamId>`: the internal pull a media worker makes; `authorizePlay` decides.
 *   - buffering: after each parse step the library's held bytes are checked (session-limits.ts),
 *     small until the session has published (or, from a puller, played), and a session that has
 *     not done so within `authTimeoutMs` is closed, however slowly it trickles bytes;
 *   - media from a session that has not published closes it.
 * A refused session is closed without an answer, and the library is stopped from parsing what
 * is left of its bytes. Anything the library throws while parsing a session's bytes, its
 * handshake included, tears down that session only.
 *
 * RTMPS: TLS is terminated in Node (node:tls) and the decrypted socket is handed to the same
 * RTMP server as a connection of its own, so its sessions see the real peer address (a proxy to
 * the RTMP port on loopback would make every RTMPS peer look like a media worker).
 *
 * The library is CommonJS with module-level configuration, so there is one server per process.
 * Its RTMP handshake creates an RC4 cipher on every connection, which Node 20's OpenSSL 3 only
 * offers with `--openssl-legacy-provider` (checked at start).
 */
const require = createRequire(import.meta.url);

interface LibCommand {
  command: string;
  objects: Array<{ value?: unknown }>;
}
interface LibSession {
  clientid: string;
  app?: string;
  receiveChunkSize: number;
  tmpBuf: Buffer | null;
  previousChunkMessage: Record<string, { messageLength: number; body?: Buffer }>;
  handleAMFCommandMessage(cmd: LibCommand, cb: LibCallback): void;
  handleData(buf: Buffer, cb: LibCallback): void;
  parseRTMPMessages(buf: Buffer): { consumedLen: number; rtmpMessages: unknown[] };
  parseVideoMessage(buf: Buffer): object;
  parseAudioMessage(buf: Buffer): object;
  respondHandshake(c0c1: Buffer, cb: LibCallback): void;
  receiveSetDataFrame(data: { objects: Array<{ value?: unknown }> }): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}
type LibCallback = (err: Error | null, output?: Buffer) => void;
interface LibStream {
  emit(event: string): void;
}

/** A relayed packet: video as an Annex B access unit with its decode time, audio as its size. */
export type MediaPacket = { kind: 'video'; dtsMs: number; data: Uint8Array } | { kind: 'audio'; bytes: number };

export type PublishDecision = { accept: true; streamId: string } | { accept: false; reason: string };

export interface RtmpHooks {
  authorizePublish(sessionId: string, key: string, remoteAddress: string): PublishDecision;
  /** May this peer pull at all (a media worker)? Asked once per connection. */
  mayPull(remoteAddress: string): boolean;
  authorizePlay(name: string, remoteAddress: string): boolean;
  /** The publisher's onMetaData (frame rate, size, codec ids as its encoder declares them). */
  onMetadata(sessionId: string, metadata: Record<string, unknown>): void;
  /** Audio or video arrived for an accepted publisher (called for every packet: keep it cheap). */
  onMedia(sessionId: string, packet: MediaPacket): void;
  /** The publisher announced it is stopping (FCUnpublish, deleteStream or closeStream). */
  onUnpublish(sessionId: string): void;
  /** The session's socket closed, for whatever reason. */
  onClose(sessionId: string): void;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

export interface RtmpServerOptions {
  /** The library's inactivity timer: a session that sends nothing for this long is closed. */
  idleSessionTimeoutMs: number;
  /** A session must have published (or, from a puller, played) this long after it connected. */
  authTimeoutMs: number;
}

/** One connection and how far it got; owned by this file, changed only by its command wrapper. */
interface Connection extends SessionStanding {
  id: string;
  socket: Socket;
  remote: string;
  /** Published with a valid key, or an allowed pull started: the larger buffer limits apply. */
  authenticated: boolean;
  /** Refused or failed: nothing more of its bytes reaches the library. */
  closed: boolean;
  deadline: NodeJS.Timeout;
}

export class RtmpIngestServer {
  private readonly lib: {
    rtmpServer: { server: Server };
  };
  private readonly avstreams: { get(id: string): LibStream | undefined; remove(id: string): void };
  private readonly connections = new Map<string, Connection>();
  private readonly ownHandshake: (c0c1: Buffer, onError: (err: unknown) => void) => void;
  private tls: TlsServer | undefined;

  constructor(
    private readonly hooks: RtmpHooks,
    private readonly opts: RtmpServerOptions,
  ) {
    assertRc4Available();
    const config = require('node-rtsp-rtmp-server/config.js') as Record<string, unknown>;
    // 'tcp' receivers are created but never started; 'unix' would unlink sockets under /tmp.
    config.receiverType = 'tcp';
    config.rtmpSessionTimeoutMs = opts.idleSessionTimeoutMs;
    config.enableRTMPT = false;
    const logger = require('node-rtsp-rtmp-server/logger.js') as { setLevel(l: number): void; LEVEL_OFF: number };
    logger.setLevel(logger.LEVEL_OFF);
    this.ownHandshake = guardHandshakes();
    const StreamServer = require('node-rtsp-rtmp-server') as new () => RtmpIngestServer['lib'];
    this.avstreams = require('node-rtsp-rtmp-server/avstreams.js') as RtmpIngestServer['avstreams'];
    this.lib = new StreamServer();
    this.lib.rtmpServer.server.on('connection', (socket: Socket) => this.onConnection(socket));
  }

  start(port: number, host: string): Promise<number> {
    return listen(this.lib.rtmpServer.server, port, host);
  }

  /** RTMPS: a TLS listener whose connections are served as RTMP ones. */
  startTls(port: number, host: string, credentials: { cert: Buffer; key: Buffer }): Promise<number> {
    this.tls = createTlsServer({
      ...credentials,
      minVersion: 'TLSv1.2',
      // A peer that never finishes TLS holds a socket as long as one that never publishes.
      handshakeTimeout: this.opts.authTimeoutMs,
    });
    this.tls.on('secureConnection', (socket) => this.lib.rtmpServer.server.emit('connection', socket));
    // Without a listener the socket is destroyed all the same; this only keeps a trace.
    this.tls.on('tlsClientError', (err, socket) =>
      this.hooks.log.info({ remote: socket.remoteAddress, err: err.message }, 'rtmps handshake failed'),
    );
    return listen(this.tls, port, host);
  }

  /** Closes the listeners and every connection. */
  async stop(): Promise<void> {
    const closing = [this.lib.rtmpServer.server, this.tls].map(
      (server) => new Promise<void>((r) => (server?.listening ? server.close(() => r()) : r())),
    );
    for (const conn of this.connections.values()) this.close(conn);
    await Promise.all(closing);
  }

  /** Ends a session: its socket is closed and onClose follows. */
  disconnect(sessionId: string): void {
    const conn = this.connections.get(sessionId);
    if (conn) this.close(conn);
  }

  /** Tells players of an internal stream that it is over and forgets it, so a late pull fails fast. */
  endStream(streamId: string): void {
    const id = `${APP}/${streamId}`;
    const stream = this.avstreams.get(id);
    if (!stream) return;
    stream.emit('end');
    this.avstreams.remove(id);
  }

  private onConnection(socket: Socket): void {
    const session = (socket as Socket & { rtmpSession?: LibSession }).rtmpSession;
    if (!session) return;
    const remote = socket.remoteAddress ?? '';
    const conn: Connection = {
      id: session.clientid,
      socket,
      remote,
      mayPull: this.hooks.mayPull(remote),
      published: false,
      authenticated: false,
      closed: false,
      deadline: setTimeout(
        () => this.refuse(conn, 'rtmp session did not publish in time; closing', { afterMs: this.opts.authTimeoutMs }),
        this.opts.authTimeoutMs,
      ),
    };
    conn.deadline.unref();
    const id = conn.id;
    this.connections.set(id, conn);
    socket.once('close', () => {
      // A handshake still in its crypto callback must not write to a closed socket.
      conn.closed = true;
      clearTimeout(conn.deadline);
      this.connections.delete(id);
      this.hooks.onClose(id);
    });

    this.guardParsing(conn, session);
    this.guardBuffers(conn, session);
    this.guardMedia(conn, session);
    this.guardCommands(conn, session);
  }

  /** Whatever the library throws for one connection's bytes closes that connection only. */
  private guardParsing(conn: Connection, session: LibSession): void {
    const handleData = session.handleData.bind(session);
    session.handleData = (buf, cb) => {
      if (conn.closed) return;
      try {
        handleData(buf, (err, out) => {
          if (conn.closed) return;
          try {
            cb(err, out);
          } catch (e) {
            this.fail(conn, e);
          }
        });
      } catch (err) {
        this.fail(conn, err);
      }
      if (conn.closed) {
        // What a refused session made the library hold goes now, not when the socket's close arrives.
        session.tmpBuf = null;
        session.previousChunkMessage = {};
      }
    };
    const respondHandshake = session.respondHandshake.bind(session);
    session.respondHandshake = (c0c1, cb) => {
      this.ownHandshake(c0c1, (err) => this.fail(conn, err));
      respondHandshake(c0c1, cb);
    };
  }

  /** After each parse step: what the library holds for this connection, against its limits. */
  private guardBuffers(conn: Connection, session: LibSession): void {
    const parse = session.parseRTMPMessages.bind(session);
    session.parseRTMPMessages = (buf) => {
      const nothing = { consumedLen: 0, rtmpMessages: [] };
      if (conn.closed) return nothing;
      // Checked before parsing too: the library would read this session's bytes with it.
      if (!validChunkSize(session.receiveChunkSize)) {
        this.refuse(conn, 'rtmp session over its buffer limit; closing', { reason: 'bad_chunk_size' });
        return nothing;
      }
      const result = parse(buf);
      const violation = bufferViolation(
        {
          // Unparsed bytes stay with the library only when it could not take a whole chunk.
          pendingBytes: result.consumedLen === 0 ? buf.length : 0,
          chunkSize: session.receiveChunkSize,
          chunkStreams: Object.values(session.previousChunkMessage).map((m) => ({
            messageLength: m.messageLength,
            bodyBytes: m.body?.length ?? 0,
          })),
        },
        conn.authenticated ? AUTHENTICATED : UNAUTHENTICATED,
      );
      if (violation === null) return result;
      this.refuse(conn, 'rtmp session over its buffer limit; closing', {
        reason: violation,
        authenticated: conn.authenticated,
      });
      return nothing;
    };
  }

  /** Audio, video and metadata count only from a connection that published. */
  private guardMedia(conn: Connection, session: LibSession): void {
    const parseVideo = session.parseVideoMessage.bind(session);
    session.parseVideoMessage = (buf) => {
      if (conn.published && !conn.closed) return parseVideo(buf);
      this.refuse(conn, 'rtmp media before publish; closing', {});
      return { nalUnitGlob: null, isEOS: false };
    };
    const parseAudio = session.parseAudioMessage.bind(session);
    session.parseAudioMessage = (buf) => {
      if (conn.published && !conn.closed) return parseAudio(buf);
      this.refuse(conn, 'rtmp media before publish; closing', {});
      return { adtsFrame: null };
    };
    // The library drops the publisher's metadata; it is the only trustworthy frame rate (the
    // library's relay announces a guessed 30 fps until it has measured five seconds).
    const receiveSetDataFrame = session.receiveSetDataFrame.bind(session);
    session.receiveSetDataFrame = (data) => {
      const meta = data.objects[2]?.value;
      if (conn.published && meta && typeof meta === 'object') {
        this.hooks.onMetadata(conn.id, meta as Record<string, unknown>);
      }
      receiveSetDataFrame(data);
    };
  }

  private guardCommands(conn: Connection, session: LibSession): void {
    const { id, remote } = conn;
    const handleCommand = session.handleAMFCommandMessage.bind(session);
    session.handleAMFCommandMessage = (cmd, cb) => {
      // Not answering stops the library's loop over the rest of this session's bytes.
      if (conn.closed) return;
      const route = routeCommand(cmd.command, conn, cmd.command === 'connect' ? appOf(cmd) : undefined);
      switch (route) {
        case 'refuse':
          // The name only: arguments can hold a stream key (releaseStream, FCPublish).
          return this.refuse(conn, 'rtmp command refused', { command: String(cmd.command).slice(0, 64) });
        case 'publish': {
          if (session.app !== APP)
            return this.refuse(conn, 'rtmp command refused', { command: 'publish before connect' });
          const raw = cmd.objects[1]?.value;
          const key = typeof raw === 'string' ? raw.split('?')[0]! : '';
          const decision = this.hooks.authorizePublish(id, key, remote);
          // authorizePublish logs its refusals.
          if (!decision.accept) return this.close(conn);
          cmd.objects[1]!.value = decision.streamId;
          this.authenticated(conn);
          conn.published = true;
          // The library's times are 90 kHz; its payloads Buffers (video: start-code prefixed NAL units).
          session.on('video_data', (...a: unknown[]) =>
            this.hooks.onMedia(id, { kind: 'video', dtsMs: (a[2] as number) / 90, data: a[3] as Buffer }),
          );
          session.on('audio_data', (...a: unknown[]) =>
            this.hooks.onMedia(id, { kind: 'audio', bytes: (a[3] as Buffer).length }),
          );
          break;
        }
        case 'unpublish':
          this.hooks.onUnpublish(id);
          break;
        case 'play': {
          const played = cmd.objects[1]?.value;
          const name = `${session.app}/${typeof played === 'string' ? played : ''}`;
          if (!this.hooks.authorizePlay(name, remote)) return this.refuse(conn, 'rtmp pull refused', { name });
          this.authenticated(conn);
          break;
        }
        case 'pass':
          break;
        default: {
          const exhaustive: never = route;
          return exhaustive;
        }
      }
      handleCommand(cmd, cb);
    };
  }

  private authenticated(conn: Connection): void {
    conn.authenticated = true;
    clearTimeout(conn.deadline);
  }

  private refuse(conn: Connection, msg: string, fields: object): void {
    if (conn.closed) return;
    this.hooks.log.warn({ sessionId: conn.id, remote: conn.remote, ...fields }, msg);
    this.close(conn);
  }

  private fail(conn: Connection, err: unknown): void {
    this.refuse(conn, 'bad RTMP data; closing', { err: err instanceof Error ? err.message : String(err) });
  }

  private close(conn: Connection): void {
    conn.closed = true;
    clearTimeout(conn.deadline);
    conn.socket.destroy();
  }
}

function listen(server: Server | TlsServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, 511, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const appOf = (cmd: LibCommand): unknown => {
  const info = cmd.objects[0]?.value;
  return info !== null && typeof info === 'object' ? (info as { app?: unknown }).app : undefined;
};

type HandshakeDone = (err: Error | null, s0s1s2: Buffer, keys: object) => void;
let handshakeOwners: WeakMap<Buffer, (err: unknown) => void> | undefined;

/**
 * The library finishes its handshake in a crypto callback, outside any caller's try: a C1 whose
 * Diffie-Hellman public key is 0 or 1 makes `computeSecret` throw there, which would end the
 * process. Its handshake module is wrapped once so such a throw goes to the session whose C0+C1
 * it was (looked up by the buffer, which the library passes through unchanged).
 */
function guardHandshakes(): (c0c1: Buffer, onError: (err: unknown) => void) => void {
  if (!handshakeOwners) {
    const owners = new WeakMap<Buffer, (err: unknown) => void>();
    const module = require('node-rtsp-rtmp-server/rtmp_handshake.js') as {
      generateS0S1S2(c0c1: Buffer, done: HandshakeDone): void;
    };
    const generate = module.generateS0S1S2.bind(module);
    module.generateS0S1S2 = (c0c1, done) =>
      generate(c0c1, (err, s0s1s2, keys) => {
        try {
          done(err, s0s1s2, keys);
        } catch (e) {
          owners.get(c0c1)?.(e);
        }
      });
    handshakeOwners = owners;
  }
  const owners = handshakeOwners;
  return (c0c1, onError) => owners.set(c0c1, onError);
}

function assertRc4Available(): void {
  try {
    createCipheriv('rc4', Buffer.alloc(16), '');
  } catch {
    throw new Error(
      'RC4 is unavailable: node-rtsp-rtmp-server needs Node started with --openssl-legacy-provider (NODE_OPTIONS=--openssl-legacy-provider)',
    );
  }
}
