import type { TrackRun } from './cmaf-boxes.ts';

/**
 * Groups the fragments of one rendition's fMP4 stream into LL-HLS parts and segments. Pure.
 *
 * ffmpeg cuts a fragment at every packet (`-frag_duration` of 1 ms), so a fragment holds at most
 * one video frame and a part can be cut at an exact frame count: a part closes the moment its
 * last frame arrives (no waiting for the next frame, as ffmpeg's own duration-based cut does),
 * and its length does not wander with the audio packets (ffmpeg's cut fires on whichever track
 * crosses the duration first, which gave parts of 9, 10 and 2 frames for a 10-frame target). A
 * segment starts at every keyframe: the encoder makes keyframes only at segment boundaries,
 * aligned across renditions.
 *
 * Bytes keep their stream order. Audio that arrives after a part closed waits for the next video
 * frame and opens the next part with it, so every part holds at least one video frame.
 */
export interface ChunkerOptions {
  videoTrackId: number;
  /** Video frames per part; the last part of a segment may have fewer. */
  partFrames: number;
}

export interface Fragment {
  /** moof and mdat, as they came. */
  bytes: Buffer[];
  runs: TrackRun[];
}

export interface PartCut {
  type: 'part';
  /** Segment number within this run, from 0. */
  segment: number;
  part: number;
  bytes: Buffer[];
  /** Video decode time of its first frame, in the video timescale. */
  start: number;
  frames: number;
  independent: boolean;
}

export interface SegmentCut {
  type: 'segment';
  segment: number;
  parts: number;
  start: number;
  frames: number;
}

export type Cut = PartCut | SegmentCut;

interface OpenPart {
  bytes: Buffer[];
  frames: number;
  start: number;
  independent: boolean;
}

export class Chunker {
  private segment = 0;
  private partIndex = 0;
  private segmentFrames = 0;
  private segmentStart = 0;
  private open: OpenPart | null = null;
  private waiting: Buffer[] = [];

  constructor(private readonly opts: ChunkerOptions) {
    if (!Number.isInteger(opts.partFrames) || opts.partFrames < 1)
      throw new Error('partFrames must be a positive integer');
  }

  push(fragment: Fragment): Cut[] {
    const video = fragment.runs.find((r) => r.trackId === this.opts.videoTrackId && r.samples > 0);
    if (!video) {
      (this.open?.bytes ?? this.waiting).push(...fragment.bytes);
      return [];
    }
    const cuts: Cut[] = [];
    if (video.startsWithSync && this.segmentFrames > 0) cuts.push(...this.closeSegment());
    if (this.segmentFrames === 0) this.segmentStart = video.baseDecodeTime;
    if (!this.open) {
      this.open = {
        bytes: this.waiting,
        frames: 0,
        start: video.baseDecodeTime,
        independent: this.partIndex === 0 && video.startsWithSync,
      };
      this.waiting = [];
    }
    this.open.bytes.push(...fragment.bytes);
    this.open.frames += video.samples;
    this.segmentFrames += video.samples;
    if (this.open.frames >= this.opts.partFrames) cuts.push(this.closePart()!);
    return cuts;
  }

  /** The stream ended: what is open is complete as it stands. Audio after the last frame is dropped. */
  end(): Cut[] {
    this.waiting = [];
    return this.segmentFrames > 0 ? this.closeSegment() : [];
  }

  private closeSegment(): Cut[] {
    const cuts: Cut[] = [];
    const last = this.closePart();
    if (last) cuts.push(last);
    cuts.push({
      type: 'segment',
      segment: this.segment,
      parts: this.partIndex,
      start: this.segmentStart,
      frames: this.segmentFrames,
    });
    this.segment += 1;
    this.partIndex = 0;
    this.segmentFrames = 0;
    return cuts;
  }

  private closePart(): PartCut | null {
    const p = this.open;
    if (!p) return null;
    this.open = null;
    const cut: PartCut = {
      type: 'part',
      segment: this.segment,
      part: this.partIndex,
      bytes: p.bytes,
      start: p.start,
      frames: p.frames,
      independent: p.independent,
    };
    this.partIndex += 1;
    return cut;
  }
}
