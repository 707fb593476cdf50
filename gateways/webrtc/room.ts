import type { RtpPacket } from 'werift';

export type MediaKind = 'video' | 'audio';

/** Where a room's media comes from: a WHIP publisher, or the RTMP bridge of an ultra-low broadcast. */
export interface RoomSource {
  readonly kind: 'whip' | 'rtmp';
  /** Ask for a keyframe now (a WHIP publisher is sent a PLI; the bridge's keyframes are periodic). */
  requestKeyframe(): void;
  close(reason: string): void;
}

/** One WHEP viewer, as the room sees it: somewhere to send packets. */
export interface RoomViewer {
  readonly id: string;
  send(kind: MediaKind, rtp: RtpPacket): void;
  close(reason: string): void;
}

/**
 * One stream's selective forwarding unit: one receive, many sends. Each packet the source gives
 * is handed to every viewer as it arrives (each sender rewrites SSRC, payload type and sequence
 * number on its own copy). A viewer whose connection comes up, or that loses a frame and asks,
 * gets a keyframe from the source, at most once per `keyframeGapMs` whatever the number of
 * viewers asking. (Not when it is added: its ICE and DTLS are not up yet, so a keyframe asked
 * for then reaches every viewer but that one, and the gap holds its own request back.)
 */
export class Room {
  readonly viewers = new Map<string, RoomViewer>();
  source: RoomSource | null = null;
  private lastKeyframeAsk = 0;
  /** When the last viewer left (for the bridge's linger), or null while someone watches. */
  emptySince: number | null;

  constructor(
    readonly streamId: string,
    private readonly keyframeGapMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.emptySince = now();
  }

  forward(kind: MediaKind, rtp: RtpPacket): number {
    for (const v of this.viewers.values()) v.send(kind, rtp.clone());
    return this.viewers.size;
  }

  add(viewer: RoomViewer): void {
    this.viewers.set(viewer.id, viewer);
    this.emptySince = null;
  }

  remove(id: string): boolean {
    const had = this.viewers.delete(id);
    if (had && this.viewers.size === 0) this.emptySince = this.now();
    return had;
  }

  askKeyframe(): void {
    const t = this.now();
    if (t - this.lastKeyframeAsk < this.keyframeGapMs) return;
    this.lastKeyframeAsk = t;
    this.source?.requestKeyframe();
  }

  close(reason: string): void {
    for (const v of this.viewers.values()) v.close(reason);
    this.viewers.clear();
    this.emptySince = this.now();
    this.source?.close(reason);
    this.source = null;
  }
}
