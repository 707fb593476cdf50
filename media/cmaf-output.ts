import { createServer, type Server, type Socket } from 'node:net';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PartReady, SegmentReady } from '../schemas/generated/events.ts';
import type { Logger } from '../platform/logger.ts';
import { BoxSplitter, parseFragment, parseInit, type TrackInfo } from './cmaf-boxes.ts';
import { Chunker, type Cut, type PartCut } from './cmaf-chunker.ts';
import { initFile, partFile, segmentFile } from './files.ts';
import type { MediaClock } from './media-clock.ts';

/**
 * One rendition of a running transcode: ffmpeg's fMP4 arrives on a local socket, is cut into
 * parts and segments (chunker.ts), and each is written into the rendition's folder (as `.tmp`,
 * then renamed, so whatever is announced or served is complete) and announced, in order: the
 * parts of segment N, then segment N. The segment file is its parts' bytes end to end.
 *
 * Parts are for the live edge only (players near it); once a segment is this many segments old
 * its parts are deleted, since the segment holds the same bytes and the packager lists parts only
 * for the last three target durations.
 */
export const PART_KEEP_SEGMENTS = 6;

export type CmafAnnouncement = ({ type: 'PartReady' } & PartReady) | ({ type: 'SegmentReady' } & SegmentReady);

export interface RenditionOutputOptions {
  rendition: string;
  /** The rendition's folder, and its URI prefix relative to the stream folder. */
  dir: string;
  uriPrefix: string;
  socketPath: string;
  /** Sequence of this run's first segment; the init section is named after it. */
  startNumber: number;
  partFrames: number;
  /**
   * Durations are whole frames at this rate (the ladder's fps filter makes the rate constant):
   * the first sample's duration in ffmpeg's fragments is off by the encoder's start delay, which
   * put the first part over PART-TARGET.
   */
  frameRate: number;
  /** The run's first segment follows an earlier run: it and its parts carry a discontinuity. */
  discontinuity: boolean;
  /** The run's wall clock of media time, shared by its renditions so their dates agree. */
  clock: MediaClock;
  announce: (payload: CmafAnnouncement) => Promise<void>;
  log: Logger;
}

export class RenditionOutput {
  /** Resolves when ffmpeg closed the stream and everything it sent is written and announced. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private server: Server | undefined;
  private socket: Socket | undefined;
  private readonly splitter = new BoxSplitter();
  private ftyp: Buffer | null = null;
  private tracks: TrackInfo[] = [];
  private video: TrackInfo | undefined;
  private chunker: Chunker | undefined;
  private moof: Buffer | null = null;
  private parts: PartCut[] = [];
  /** Parts each segment of this run was cut into, until they are deleted. */
  private readonly partCounts = new Map<number, number>();
  private queue: Promise<void> = Promise.resolve();
  private readonly initUri: string;

  constructor(private readonly o: RenditionOutputOptions) {
    this.done = new Promise((r) => (this.resolveDone = r));
    this.initUri = `${o.uriPrefix}/${initFile(o.startNumber)}`;
  }

  /** Listens for ffmpeg; only its one connection is taken. */
  async listen(): Promise<void> {
    await rm(this.o.socketPath, { force: true });
    const server = createServer((socket) => this.take(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.socketPath, () => resolve());
    });
    this.server = server;
  }

  /** ffmpeg never connected (it failed to start): nothing more will come. */
  close(): void {
    this.server?.close();
    if (!this.socket) this.resolveDone();
  }

  private take(socket: Socket): void {
    if (this.socket) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    this.server?.close();
    socket.on('data', (chunk: Buffer) => {
      try {
        this.receive(chunk);
      } catch (err) {
        // A stream we cannot read is ffmpeg's or the pipe's fault: cut it, and ffmpeg fails and is restarted.
        this.o.log.error({ err, rendition: this.o.rendition }, 'unreadable fMP4 from ffmpeg; closing its output');
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.o.log.warn({ err, rendition: this.o.rendition }, 'ffmpeg output socket error'));
    socket.on('close', () => {
      if (this.chunker) for (const cut of this.chunker.end()) this.enqueue(cut);
      void this.queue.then(() => this.resolveDone());
    });
  }

  private receive(chunk: Buffer): void {
    for (const box of this.splitter.push(chunk)) {
      switch (box.type) {
        case 'ftyp':
          this.ftyp = Buffer.from(box.bytes);
          break;
        case 'moov':
          this.init(Buffer.from(box.bytes));
          break;
        case 'moof':
          this.moof = Buffer.from(box.bytes);
          break;
        case 'mdat': {
          if (!this.moof || !this.chunker) throw new Error('media data before its fragment header or init section');
          const runs = parseFragment(this.moof, this.tracks);
          const first = runs.find((r) => r.trackId === this.video!.id);
          // A fragment is one frame: its start is as tight a bound as its end, and ffmpeg's first
          // sample duration is off by the encoder's start delay.
          if (first) this.o.clock.observe(Date.now(), this.ms(first.baseDecodeTime));
          const cuts = this.chunker.push({ bytes: [this.moof, Buffer.from(box.bytes)], runs });
          this.moof = null;
          for (const cut of cuts) this.enqueue(cut);
          break;
        }
        default:
        // mfra and the like: nothing a live stream needs.
      }
    }
  }

  private init(moov: Buffer): void {
    if (!this.ftyp) throw new Error('init section without ftyp');
    this.tracks = parseInit(moov);
    this.video = this.tracks.find((t) => t.kind === 'video');
    if (!this.video) throw new Error('fMP4 has no video track');
    this.chunker = new Chunker({ videoTrackId: this.video.id, partFrames: this.o.partFrames });
    const bytes = Buffer.concat([this.ftyp, moov]);
    this.queue = this.queue.then(() => this.write(initFile(this.o.startNumber), bytes));
  }

  private enqueue(cut: Cut): void {
    this.queue = this.queue
      .then(() => (cut.type === 'part' ? this.writePart(cut) : this.writeSegment(cut.segment, cut.frames, cut.start)))
      .catch((err: unknown) =>
        this.o.log.error({ err, rendition: this.o.rendition, cut: cut.type }, 'could not write or announce media'),
      );
  }

  private async writePart(cut: PartCut): Promise<void> {
    this.parts.push(cut);
    const sequence = this.o.startNumber + cut.segment;
    const name = partFile(sequence, cut.part);
    const bytes = Buffer.concat(cut.bytes);
    await this.write(name, bytes);
    await this.o.announce({
      type: 'PartReady',
      rendition: this.o.rendition,
      sequence,
      part: cut.part,
      durationMs: this.framesMs(cut.frames),
      independent: cut.independent,
      uri: `${this.o.uriPrefix}/${name}`,
      initUri: this.initUri,
      bytes: bytes.length,
      programDateTime: this.pdt(sequence, cut.start),
      discontinuity: this.o.discontinuity && cut.segment === 0,
    });
  }

  private async writeSegment(segment: number, frames: number, start: number): Promise<void> {
    const parts = this.parts.filter((p) => p.segment === segment);
    this.parts = this.parts.filter((p) => p.segment > segment);
    const sequence = this.o.startNumber + segment;
    const name = segmentFile(sequence);
    const bytes = Buffer.concat(parts.flatMap((p) => p.bytes));
    await this.write(name, bytes);
    await this.o.announce({
      type: 'SegmentReady',
      rendition: this.o.rendition,
      sequence,
      durationMs: this.framesMs(frames),
      uri: `${this.o.uriPrefix}/${name}`,
      bytes: bytes.length,
      programDateTime: this.pdt(sequence, start),
      discontinuity: this.o.discontinuity && segment === 0,
      initUri: this.initUri,
    });
    this.partCounts.set(segment, parts.length);
    const old = segment - PART_KEEP_SEGMENTS;
    const count = this.partCounts.get(old);
    if (count === undefined) return;
    this.partCounts.delete(old);
    const oldSequence = this.o.startNumber + old;
    await Promise.all(
      Array.from({ length: count }, (_, i) => rm(join(this.o.dir, partFile(oldSequence, i)), { force: true })),
    );
  }

  private async write(name: string, bytes: Buffer): Promise<void> {
    const path = join(this.o.dir, name);
    await writeFile(`${path}.tmp`, bytes);
    await rename(`${path}.tmp`, path);
  }

  /** Rounded down: a part of 10 frames at 30 fps is 333 ms, within the advertised 334. */
  private framesMs(frames: number): number {
    return Math.floor((frames * 1000) / this.o.frameRate);
  }

  private ms(ticks: number): number {
    return (ticks * 1000) / this.video!.timescale;
  }

  private pdt(sequence: number, ticks: number): number {
    return this.o.clock.dateOf(sequence, this.ms(ticks), Date.now());
  }
}
