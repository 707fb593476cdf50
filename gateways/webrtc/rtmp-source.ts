import type { Socket } from 'node:dgram';
import { RtpPacket } from 'werift';
import type { ProbedSource } from '../../platform/ffmpeg.ts';
import type { Logger } from '../../platform/logger.ts';
import { BridgeProcess } from './bridge-process.ts';
import { rtmpBridgeArgs } from './bridge-args.ts';
import type { MediaKind, Room, RoomSource } from './room.ts';
import { bindLoopback } from './udp.ts';

/**
 * The light bridge for an RTMP broadcast in ultra-low mode: ffmpeg pulls it from the ingest and
 * sends RTP (H.264, copied when it has no B-frames; Opus) to two loopback sockets of this
 * process, whose packets the room forwards to its WHEP viewers. It runs while someone watches
 * (the gateway stops it a linger after the last viewer left) and exits when the broadcast ends.
 */
export class RtmpSource implements RoomSource {
  readonly kind = 'rtmp';
  private bridge: BridgeProcess | null = null;
  private sockets: Socket[] = [];
  private closed = false;
  firstMediaAt: number | null = null;

  private constructor(
    readonly streamId: string,
    private readonly room: Room,
    private readonly log: Logger,
  ) {}

  static async start(
    room: Room,
    o: { url: string; probe: (url: string) => Promise<ProbedSource>; log: Logger; onExit: (detail: string) => void },
  ): Promise<RtmpSource> {
    const src = new RtmpSource(room.streamId, room, o.log);
    const probed = await o.probe(o.url);
    if (probed.videoCodec === null) throw new Error('the broadcast has no video');
    const copyVideo = probed.videoCodec === 'h264' && probed.hasBFrames === false;
    const ports = {} as Record<MediaKind, number>;
    for (const kind of ['video', 'audio'] as const) {
      const { socket, port } = await bindLoopback();
      ports[kind] = port;
      socket.on('message', (buf) => src.onPacket(kind, buf));
      src.sockets.push(socket);
    }
    src.bridge = new BridgeProcess(
      rtmpBridgeArgs(
        { url: o.url, copyVideo, audio: probed.audioCodec !== null, frameRate: probed.frameRate },
        { videoPort: ports.video, audioPort: ports.audio, videoBitrateKbps: 2500 },
      ),
    );
    o.log.info({ streamId: room.streamId, copyVideo, pid: src.bridge.pid }, 'rtmp bridge started');
    void src.bridge.exited.then(({ code }) => {
      if (src.closed) return;
      src.close('the RTMP bridge exited');
      o.onExit(src.bridge?.tail() || `code ${code}`);
    });
    return src;
  }

  private onPacket(kind: MediaKind, buf: Buffer): void {
    let rtp: RtpPacket;
    try {
      rtp = RtpPacket.deSerialize(buf);
    } catch {
      return;
    }
    this.firstMediaAt ??= Date.now();
    this.room.forward(kind, rtp);
  }

  /** Keyframes come from the source's own interval (or the re-encode's, one a second). */
  requestKeyframe(): void {}

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.log.info({ streamId: this.streamId, reason }, 'rtmp bridge stopped');
    this.bridge?.kill();
    for (const s of this.sockets) s.close();
  }
}
