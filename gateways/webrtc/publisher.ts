import { createSocket, type Socket } from 'node:dgram';
import type { MediaStreamTrack, RTCPeerConnection, RTCRtpReceiver, RtpPacket } from 'werift';
import type { Logger } from '../../platform/logger.ts';
import { BridgeProcess } from './bridge-process.ts';
import { rtpInputSdp, whipBridgeArgs } from './bridge-args.ts';
import type { MediaKind, Room, RoomSource } from './room.ts';
import { freeRtpPortPair } from './udp.ts';

/** Bridge runs a session may use (the first and its replacements) before it ends. */
const BRIDGE_RUNS = 3;

/** Payload types the forwarded RTP carries to the bridge's ffmpeg (its SDP names these). */
const BRIDGE_PT: Record<MediaKind, number> = { video: 96, audio: 111 };

export interface PublisherStats {
  packetsLost: number;
  jitterS: number;
}

/** How a WHIP publisher's session ended: `deleted` (the client said so) or one of the ways it vanished. */
export type PublisherEnd = 'deleted' | 'ice_failed' | 'media_timeout' | 'bridge_exited' | 'stream_ended' | 'shutdown';

/**
 * A WHIP publisher: its peer connection receives H.264 and Opus; each packet goes to the room's
 * WHEP viewers and, over loopback UDP, to the bridge ffmpeg that publishes the broadcast to the
 * RTMP ingest with the stream's key. The ingest then does what it does for any encoder: key
 * check, StreamWentLive with a probe, the media workers' ladder, StreamEnded.
 *
 * Ending: DELETE stops the bridge gracefully (an RTMP unpublish: StreamEnded at once). A
 * publisher that vanishes (ICE fails, or no media for `mediaTimeoutMs`) has its bridge killed,
 * so the ingest sees a dropped encoder and holds the stream for its reconnect grace.
 */
export class WhipPublisher implements RoomSource {
  readonly kind = 'whip';
  private bridge: BridgeProcess | null = null;
  private readonly udp: Socket = createSocket('udp4');
  private ports: Record<MediaKind, number> | null = null;
  private receivers = new Map<MediaKind, { receiver: RTCRtpReceiver; track: MediaStreamTrack }>();
  private lastMediaAt = 0;
  private runs = 0;
  private timers: NodeJS.Timeout[] = [];
  private ended: PublisherEnd | null = null;
  readonly startedAt = Date.now();
  firstMediaAt: number | null = null;

  constructor(
    readonly sessionId: string,
    readonly streamId: string,
    private readonly pc: RTCPeerConnection,
    private readonly room: Room,
    private readonly o: {
      rtmpUrl: string;
      audio: boolean;
      keyframeIntervalMs: number;
      mediaTimeoutMs: number;
      connectTimeoutMs: number;
      log: Logger;
      onEnd: (how: PublisherEnd, detail: string) => void;
    },
  ) {
    pc.onTrack.subscribe((track) => this.attach(track));
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') void this.startBridge();
      else if (s === 'failed') this.vanish('ice_failed', 'ICE or DTLS failed');
      else if (s === 'closed') this.vanish('ice_failed', 'the peer connection closed');
    });
    this.timers.push(
      setTimeout(() => {
        if (pc.connectionState !== 'connected') this.vanish('ice_failed', 'ICE did not connect in time');
      }, o.connectTimeoutMs),
    );
  }

  private attach(track: MediaStreamTrack): void {
    const kind = track.kind as MediaKind;
    const t = this.pc.getTransceivers().find((x) => x.receiver.track === track || x.kind === kind);
    if (t) this.receivers.set(kind, { receiver: t.receiver, track });
    track.onReceiveRtp.subscribe((rtp) => this.onRtp(kind, rtp));
    if (t)
      t.receiver.onRtcp.subscribe((rtcp) => {
        // Sender reports let the bridge's ffmpeg put audio and video on one clock.
        if (rtcp.type === 200 && this.ports) this.udp.send(rtcp.serialize(), this.ports[kind] + 1, '127.0.0.1');
      });
  }

  private onRtp(kind: MediaKind, rtp: RtpPacket): void {
    this.lastMediaAt = Date.now();
    this.firstMediaAt ??= this.lastMediaAt;
    this.room.forward(kind, rtp);
    if (!this.ports) return;
    const copy = rtp.clone();
    copy.header.payloadType = BRIDGE_PT[kind];
    this.udp.send(copy.serialize(), this.ports[kind], '127.0.0.1');
  }

  private async startBridge(): Promise<void> {
    if (this.bridge || this.ended) return;
    await this.spawnBridge();
    this.lastMediaAt = Date.now();
    this.timers.push(
      setInterval(() => this.requestKeyframe(), this.o.keyframeIntervalMs),
      setInterval(() => {
        if (Date.now() - this.lastMediaAt > this.o.mediaTimeoutMs)
          this.vanish('media_timeout', 'no media from the publisher');
      }, 500),
    );
  }

  /**
   * One run of the bridge. A run that dies (its probe saw no keyframe in time on a loaded
   * machine, the ingest dropped it) is replaced, up to BRIDGE_RUNS in all: the ingest holds the
   * stream for its reconnect grace meanwhile, so the broadcast carries on. A bridge the ingest
   * keeps refusing (the key is live elsewhere, the stream ended) ends the session.
   */
  private async spawnBridge(): Promise<void> {
    if (this.ended) return;
    this.runs++;
    const video = await freeRtpPortPair();
    const audio = this.o.audio ? await freeRtpPortPair() : 0;
    const sdp = rtpInputSdp({
      video: { port: video, payloadType: BRIDGE_PT.video },
      audio: this.o.audio ? { port: audio, payloadType: BRIDGE_PT.audio } : null,
    });
    const bridge = new BridgeProcess(whipBridgeArgs({ rtmpUrl: this.o.rtmpUrl, audio: this.o.audio }), sdp);
    this.bridge = bridge;
    this.ports = { video, audio };
    this.o.log.info(
      { sessionId: this.sessionId, streamId: this.streamId, pid: bridge.pid, run: this.runs },
      'whip bridge started',
    );
    void bridge.exited.then(({ code, signal }) => {
      if (this.ended) return;
      this.o.log.warn(
        { sessionId: this.sessionId, streamId: this.streamId, code, signal, run: this.runs, ffmpeg: bridge.tail() },
        'whip bridge exited',
      );
      if (this.runs < BRIDGE_RUNS) {
        this.timers.push(setTimeout(() => void this.spawnBridge(), 500));
        return;
      }
      this.end('bridge_exited', `the RTMP bridge exited (${bridge.tail() || `code ${code}`})`);
    });
    // ffmpeg binds its ports as it starts: ask again until it has had a keyframe.
    this.requestKeyframe();
    this.timers.push(
      setTimeout(() => this.requestKeyframe(), 300),
      setTimeout(() => this.requestKeyframe(), 1000),
    );
  }

  requestKeyframe(): void {
    const v = this.receivers.get('video');
    if (v?.track.ssrc !== undefined) void v.receiver.sendRtcpPLI(v.track.ssrc).catch(() => undefined);
  }

  async stats(): Promise<Partial<Record<MediaKind, PublisherStats>>> {
    const out: Partial<Record<MediaKind, PublisherStats>> = {};
    const report = await this.pc.getStats();
    for (const s of report.values() as Iterable<Record<string, unknown>>) {
      if (s.type !== 'inbound-rtp') continue;
      const kind = s.kind as MediaKind;
      out[kind] = { packetsLost: Number(s.packetsLost ?? 0), jitterS: Number(s.jitter ?? 0) };
    }
    return out;
  }

  /** The client ended the broadcast (WHIP DELETE): the bridge unpublishes, the stream ends now. */
  async stop(how: PublisherEnd = 'deleted'): Promise<void> {
    if (this.ended) return;
    this.finish(how, 'ended by the publisher');
    await this.bridge?.stop();
  }

  /** The publisher is gone without saying so: the ingest holds the stream for its reconnect. */
  private vanish(how: PublisherEnd, detail: string): void {
    if (this.ended) return;
    this.bridge?.kill();
    this.finish(how, detail);
  }

  close(reason: string): void {
    this.end('stream_ended', reason);
  }

  private end(how: PublisherEnd, detail: string): void {
    if (this.ended) return;
    this.bridge?.kill();
    this.finish(how, detail);
  }

  private finish(how: PublisherEnd, detail: string): void {
    this.ended = how;
    for (const t of this.timers) clearTimeout(t);
    this.udp.close();
    void this.pc.close().catch(() => undefined);
    this.o.onEnd(how, detail);
  }
}
