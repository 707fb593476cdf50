import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RtpPacket } from 'werift';
import { Room, type MediaKind, type RoomSource, type RoomViewer } from './room.ts';

class Viewer implements RoomViewer {
  readonly got: Array<{ kind: MediaKind; rtp: RtpPacket }> = [];
  closed: string | null = null;
  constructor(readonly id: string) {}
  send(kind: MediaKind, rtp: RtpPacket): void {
    this.got.push({ kind, rtp });
  }
  close(reason: string): void {
    this.closed = reason;
  }
}

class Source implements RoomSource {
  readonly kind = 'whip';
  keyframes = 0;
  closed: string | null = null;
  requestKeyframe(): void {
    this.keyframes++;
  }
  close(reason: string): void {
    this.closed = reason;
  }
}

/** What the room uses of a packet; werift itself runs in the gateway's Node 24, not here. */
const packet = (seq: number): RtpPacket => {
  const p = { header: { sequenceNumber: seq }, clone: () => packet(seq) };
  return p as unknown as RtpPacket;
};

describe('Room (one stream’s forwarding)', () => {
  it('hands every viewer its own copy of each packet', () => {
    const room = new Room('s', 500, () => 0);
    const a = new Viewer('a');
    const b = new Viewer('b');
    room.add(a);
    room.add(b);
    assert.equal(room.forward('video', packet(7)), 2);
    assert.equal(a.got.length, 1);
    assert.equal(b.got.length, 1);
    assert.notEqual(a.got[0]!.rtp, b.got[0]!.rtp, 'each sender rewrites its own copy');
    assert.equal(a.got[0]!.rtp.header.sequenceNumber, 7);
  });

  it('asks the source for a keyframe at most once per gap, however many viewers ask', () => {
    let t = 1000;
    const room = new Room('s', 500, () => t);
    const src = new Source();
    room.source = src;
    room.add(new Viewer('a'));
    assert.equal(src.keyframes, 0, 'not on adding: the viewer is not connected yet, it asks once it is');
    room.askKeyframe();
    room.askKeyframe();
    assert.equal(src.keyframes, 1, 'two viewers connecting at once: one keyframe');
    t += 600;
    room.askKeyframe();
    assert.equal(src.keyframes, 2);
  });

  it('knows since when it is empty, and closes viewers and source together', () => {
    let t = 0;
    const room = new Room('s', 500, () => t);
    const v = new Viewer('a');
    room.add(v);
    assert.equal(room.emptySince, null);
    t = 50;
    room.remove('a');
    assert.equal(room.emptySince, 50);
    const src = new Source();
    room.source = src;
    const w = new Viewer('b');
    room.add(w);
    room.close('ended');
    assert.equal(w.closed, 'ended');
    assert.equal(src.closed, 'ended');
    assert.equal(room.source, null);
    assert.equal(room.viewers.size, 0);
  });
});
