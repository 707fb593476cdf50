import { createCipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/**
 * RTMP transport over node-rtsp-rtmp-server (only its RTMP server is started: no RTSP/HTTP port,
 * no receiver sockets). The library has no authorisation hook for RTMP publishing (its
 * `setLivePathConsumer` is only consulted by RTSP), so each session's AMF command handler is
 * wrapped as the connection arrives:
 *   - `publish <key>`: `authorizePublish` decides; a refusal closes the connection before the
 *     library creates any stream. An accepted key is replaced by the stream id, so the library
 *     keeps the stream as `live/<streamId>` and the key goes no further than this function.
 *   - `play live/<streamId>`: the internal pull a media worker makes; `authorizePlay` decides by
 *     the peer's address (the pull URL carries no secret).
 * Anything the library throws while parsing a session's bytes tears down that session only.
 *
 * The library is CommonJS with module-level configuration, so there is one server per process.
 * Its RTMP handshake creates an RC4 cipher on every connection, which Node 20's OpenSSL 3 only
 * offers with `--openssl-legacy-provider` (checked at start).
 */
const require = createRequire(import.meta.url);

interface LibSession {
  clientid: string;
  isTearedDown?: boolean;
  handleAMFCommandMessage(cmd: { command: string; objects: Array<{ value?: unknown }> }, cb: LibCallback): void;
  handleData(buf: Buffer, cb: LibCallback): void;
  receiveSetDataFrame(data: { objects: Array<{ value?: unknown }> }): void;
  teardown(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}
type LibCallback = (err: Error | null, output?: Buffer) => void;
interface LibStream {
  emit(event: string): void;
}

export type PublishDecision = { accept: true; streamId: string } | { accept: false; reason: string };

export interface RtmpHooks {
  authorizePublish(sessionId: string, key: string, remoteAddress: string): PublishDecision;
  authorizePlay(name: string, remoteAddress: string): boolean;
  /** The publisher's onMetaData (frame rate, size, codec ids as its encoder declares them). */
  onMetadata(sessionId: string, metadata: Record<string, unknown>): void;
  /** Audio or video arrived for an accepted publisher (called for every packet: keep it cheap). */
  onMedia(sessionId: string): void;
  /** The publisher announced it is stopping (FCUnpublish, deleteStream or closeStream). */
  onUnpublish(sessionId: string): void;
  /** The session's socket closed, for whatever reason. */
  onClose(sessionId: string): void;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

export const APP = 'live';
/** The commands an encoder sends when its user stops the broadcast (ffmpeg and OBS send the first two). */
const UNPUBLISH = new Set(['FCUnpublish', 'deleteStream', 'closeStream']);

export class RtmpIngestServer {
  private readonly lib: {
    rtmpServer: { server: import('node:net').Server; start(o: { port: number }, cb: () => void): void };
  };
  private readonly avstreams: { get(id: string): LibStream | undefined; remove(id: string): void };
  private readonly sockets = new Map<string, { socket: Socket; session: LibSession }>();

  constructor(
    private readonly hooks: RtmpHooks,
    opts: { idleSessionTimeoutMs: number },
  ) {
    assertRc4Available();
    const config = require('node-rtsp-rtmp-server/config.js') as Record<string, unknown>;
    // 'tcp' receivers are created but never started; 'unix' would unlink sockets under /tmp.
    config.receiverType = 'tcp';
    config.rtmpSessionTimeoutMs = opts.idleSessionTimeoutMs;
    config.enableRTMPT = false;
    const logger = require('node-rtsp-rtmp-server/logger.js') as { setLevel(l: number): void; LEVEL_OFF: number };
    logger.setLevel(logger.LEVEL_OFF);
    const StreamServer = require('node-rtsp-rtmp-server') as new () => RtmpIngestServer['lib'];
    this.avstreams = require('node-rtsp-rtmp-server/avstreams.js') as RtmpIngestServer['avstreams'];
    this.lib = new StreamServer();
    this.lib.rtmpServer.server.on('connection', (socket: Socket) => this.onConnection(socket));
  }

  start(port: number, host: string): Promise<number> {
    const server = this.lib.rtmpServer.server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, 511, () => {
        server.off('error', reject);
        resolve((server.address() as import('node:net').AddressInfo).port);
      });
    });
  }

  /** Closes the listener and every connection. */
  async stop(): Promise<void> {
    const server = this.lib.rtmpServer.server;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const { socket } of this.sockets.values()) socket.destroy();
    await closed;
  }

  /** Ends a session: its socket is closed and onClose follows. */
  disconnect(sessionId: string): void {
    this.sockets.get(sessionId)?.socket.destroy();
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
    const id = session.clientid;
    const remote = socket.remoteAddress ?? '';
    this.sockets.set(id, { socket, session });
    socket.once('close', () => {
      this.sockets.delete(id);
      this.hooks.onClose(id);
    });

    const handleData = session.handleData.bind(session);
    session.handleData = (buf, cb) => {
      try {
        handleData(buf, (err, out) => {
          try {
            cb(err, out);
          } catch (e) {
            this.fail(id, socket, e);
          }
        });
      } catch (err) {
        this.fail(id, socket, err);
      }
    };

    // The library drops the publisher's metadata; it is the only trustworthy frame rate (the
    // library's relay announces a guessed 30 fps until it has measured five seconds).
    const receiveSetDataFrame = session.receiveSetDataFrame.bind(session);
    session.receiveSetDataFrame = (data) => {
      const meta = data.objects[2]?.value;
      if (meta && typeof meta === 'object') this.hooks.onMetadata(id, meta as Record<string, unknown>);
      receiveSetDataFrame(data);
    };

    const handleCommand = session.handleAMFCommandMessage.bind(session);
    session.handleAMFCommandMessage = (cmd, cb) => {
      if (cmd.command === 'publish') {
        const raw = cmd.objects[1]?.value;
        const key = typeof raw === 'string' ? raw.split('?')[0]! : '';
        const app = (session as unknown as { app?: string }).app;
        const decision: PublishDecision =
          app === APP
            ? this.hooks.authorizePublish(id, key, remote)
            : { accept: false, reason: `unknown app '${app}'` };
        if (!decision.accept) {
          cb(null);
          socket.destroy();
          return;
        }
        cmd.objects[1]!.value = decision.streamId;
        const onMedia = () => this.hooks.onMedia(id);
        session.on('video_data', onMedia);
        session.on('audio_data', onMedia);
      } else if (UNPUBLISH.has(cmd.command)) {
        this.hooks.onUnpublish(id);
      } else if (cmd.command === 'play') {
        const played = cmd.objects[1]?.value;
        const name = `${(session as unknown as { app?: string }).app}/${typeof played === 'string' ? played : ''}`;
        if (!this.hooks.authorizePlay(name, remote)) {
          this.hooks.log.warn({ remote, name }, 'rtmp pull refused');
          cb(null);
          socket.destroy();
          return;
        }
      }
      handleCommand(cmd, cb);
    };
  }

  private fail(id: string, socket: Socket, err: unknown): void {
    this.hooks.log.warn(
      { sessionId: id, err: err instanceof Error ? err.message : String(err) },
      'bad RTMP data; closing',
    );
    socket.destroy();
  }
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
