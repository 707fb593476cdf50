import { MediaStreamTrack, type RTCPeerConnection, type RtpPacket } from 'werift';
import type { MediaKind, RoomViewer } from './room.ts';

/**
 * A WHEP viewer: a peer connection that only sends, one track per kind fed by the room. It is
 * gone when ICE or DTLS fail or close, or when its browser stops sending receiver reports
 * (a closed tab says nothing).
 */
export class WhepViewer implements RoomViewer {
  private readonly tracks: Record<MediaKind, MediaStreamTrack> = {
    video: new MediaStreamTrack({ kind: 'video' }),
    audio: new MediaStreamTrack({ kind: 'audio' }),
  };
  private lastReportAt: number;
  private closed = false;
  sentPackets = 0;
  /** Sent since the last `takeDelivered`: the playback evidence of its player session. */
  private delivered = { packets: 0, bytes: 0 };

  constructor(
    readonly id: string,
    readonly streamId: string,
    readonly pc: RTCPeerConnection,
    private readonly hooks: { onGone: (reason: string) => void; onKeyframeWanted: () => void },
    /** The page's player session (`?vsid=` on the offer), the one its presence socket names. */
    readonly playbackSession: string | null = null,
  ) {
    this.lastReportAt = Date.now();
    for (const kind of ['video', 'audio'] as const) {
      const t = pc.addTransceiver(this.tracks[kind], { direction: 'sendonly' });
      t.sender.onRtcp.subscribe(() => (this.lastReportAt = Date.now()));
      if (kind === 'video') t.sender.onPictureLossIndication.subscribe(() => hooks.onKeyframeWanted());
    }
    pc.connectionStateChange.subscribe((s) => {
      // Packets reach a viewer only once ICE and DTLS are up: its first keyframe is asked for then.
      if (s === 'connected') hooks.onKeyframeWanted();
      if (s === 'failed' || s === 'closed') this.gone(s === 'failed' ? 'ice_failed' : 'closed');
    });
  }

  send(kind: MediaKind, rtp: RtpPacket): void {
    if (this.closed || this.pc.connectionState !== 'connected') return;
    this.sentPackets++;
    this.delivered.packets++;
    this.delivered.bytes += rtp.payload.length;
    this.tracks[kind].writeRtp(rtp);
  }

  /** What was sent since the last call, and nothing is counted twice. */
  takeDelivered(): { packets: number; bytes: number } {
    const d = this.delivered;
    this.delivered = { packets: 0, bytes: 0 };
    return d;
  }

  /** Silent for this long (no RTCP from the browser): treated as gone. */
  silentFor(now: number): number {
    return now - this.lastReportAt;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.hooks.onGone(reason);
    void this.pc.close().catch(() => undefined);
  }

  private gone(reason: string): void {
    this.close(reason);
  }
}
