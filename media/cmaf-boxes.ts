/**
 * Just enough ISO BMFF (ISO/IEC 14496-12) to cut a fragmented MP4 stream into LL-HLS parts:
 * top-level boxes from a byte stream, the tracks of an init section (moov), and per fragment
 * (moof) each track's decode time, sample count, duration and whether it starts on a sync
 * sample. Pure: bytes in, facts out. Unknown boxes are passed over, as the format allows.
 */

export interface Box {
  type: string;
  /** The whole box, header included. */
  bytes: Buffer;
}

/** Splits a byte stream into complete top-level boxes, whatever the chunking of the stream. */
export class BoxSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** At most this much may wait for a box to complete: a bigger size field is a broken stream. */
  constructor(private readonly maxBoxBytes = 64 * 1024 * 1024) {}

  push(chunk: Buffer): Box[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < 8) return [];
    let buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const boxes: Box[] = [];
    while (buf.length >= 8) {
      const size = boxSize(buf, 0);
      if (size > this.maxBoxBytes) throw new Error(`box of ${size} bytes is over the ${this.maxBoxBytes}-byte limit`);
      if (buf.length < size) break;
      boxes.push({ type: buf.toString('latin1', 4, 8), bytes: buf.subarray(0, size) });
      buf = buf.subarray(size);
    }
    this.pending = buf.length ? [buf] : [];
    this.pendingBytes = buf.length;
    return boxes;
  }

  /** Bytes of a box not yet complete (a stream that ends here was cut mid-box). */
  get buffered(): number {
    return this.pendingBytes;
  }
}

function boxSize(buf: Buffer, at: number): number {
  const size = buf.readUInt32BE(at);
  if (size === 1) {
    if (buf.length < at + 16) return Number.MAX_SAFE_INTEGER;
    return Number(buf.readBigUInt64BE(at + 8));
  }
  if (size < 8) throw new Error(`malformed box: size ${size}`);
  return size;
}

/** The children of the box body [start, end): type, and body bounds. */
function* children(buf: Buffer, start: number, end: number): Generator<{ type: string; body: number; end: number }> {
  let at = start;
  while (at + 8 <= end) {
    const size = buf.readUInt32BE(at);
    const header = size === 1 ? 16 : 8;
    const length = size === 1 ? Number(buf.readBigUInt64BE(at + 8)) : size;
    if (length < header || at + length > end) throw new Error('malformed box: child overruns its parent');
    yield { type: buf.toString('latin1', at + 4, at + 8), body: at + header, end: at + length };
    at += length;
  }
}

const child = (buf: Buffer, start: number, end: number, type: string) => {
  for (const c of children(buf, start, end)) if (c.type === type) return c;
  return undefined;
};

export interface TrackInfo {
  id: number;
  kind: 'video' | 'audio' | 'other';
  timescale: number;
  /** trex defaults, used when a fragment states neither. */
  defaultSampleDuration: number;
  defaultSampleFlags: number;
}

/** Tracks of an init section's moov box (the whole box, header included). */
export function parseInit(moov: Buffer): TrackInfo[] {
  const tracks = new Map<number, TrackInfo>();
  const defaults = new Map<number, { duration: number; flags: number }>();
  for (const c of children(moov, 8, moov.length)) {
    if (c.type === 'trak') {
      const tkhd = child(moov, c.body, c.end, 'tkhd');
      const mdia = child(moov, c.body, c.end, 'mdia');
      if (!tkhd || !mdia) continue;
      const id = moov.readUInt32BE(tkhd.body + (moov[tkhd.body] === 1 ? 20 : 12));
      const mdhd = child(moov, mdia.body, mdia.end, 'mdhd');
      const hdlr = child(moov, mdia.body, mdia.end, 'hdlr');
      if (!mdhd || !hdlr) continue;
      const timescale = moov.readUInt32BE(mdhd.body + (moov[mdhd.body] === 1 ? 20 : 12));
      const handler = moov.toString('latin1', hdlr.body + 8, hdlr.body + 12);
      const kind = handler === 'vide' ? 'video' : handler === 'soun' ? 'audio' : 'other';
      tracks.set(id, { id, kind, timescale, defaultSampleDuration: 0, defaultSampleFlags: 0 });
    } else if (c.type === 'mvex') {
      for (const t of children(moov, c.body, c.end)) {
        if (t.type !== 'trex') continue;
        defaults.set(moov.readUInt32BE(t.body + 4), {
          duration: moov.readUInt32BE(t.body + 12),
          flags: moov.readUInt32BE(t.body + 20),
        });
      }
    }
  }
  for (const [id, d] of defaults) {
    const t = tracks.get(id);
    if (t) Object.assign(t, { defaultSampleDuration: d.duration, defaultSampleFlags: d.flags });
  }
  return [...tracks.values()];
}

export interface TrackRun {
  trackId: number;
  /** tfdt, in the track's timescale. */
  baseDecodeTime: number;
  samples: number;
  /** Sum of the samples' durations, in the track's timescale. */
  duration: number;
  /** The first sample is a sync sample (a keyframe for video). */
  startsWithSync: boolean;
}

/** What a moof box (the whole box) holds, per track fragment. */
export function parseFragment(moof: Buffer, tracks: readonly TrackInfo[]): TrackRun[] {
  const runs: TrackRun[] = [];
  for (const traf of children(moof, 8, moof.length)) {
    if (traf.type !== 'traf') continue;
    let trackId = 0;
    let defaultDuration: number | undefined;
    let defaultFlags: number | undefined;
    let baseDecodeTime = 0;
    let samples = 0;
    let duration = 0;
    let firstFlags: number | undefined;
    for (const c of children(moof, traf.body, traf.end)) {
      const flags = moof.readUInt32BE(c.body) & 0xffffff;
      let at = c.body + 4;
      const next = (): number => {
        const v = moof.readUInt32BE(at);
        at += 4;
        return v;
      };
      if (c.type === 'tfhd') {
        trackId = next();
        if (flags & 0x1) at += 8;
        if (flags & 0x2) at += 4;
        if (flags & 0x8) defaultDuration = next();
        if (flags & 0x10) at += 4;
        if (flags & 0x20) defaultFlags = next();
      } else if (c.type === 'tfdt') {
        baseDecodeTime = moof[c.body] === 1 ? Number(moof.readBigUInt64BE(at)) : moof.readUInt32BE(at);
      } else if (c.type === 'trun') {
        const track = tracks.find((t) => t.id === trackId);
        const count = next();
        if (flags & 0x1) at += 4;
        const runFirstFlags = flags & 0x4 ? next() : undefined;
        for (let i = 0; i < count; i++) {
          const d = flags & 0x100 ? next() : (defaultDuration ?? track?.defaultSampleDuration ?? 0);
          if (flags & 0x200) at += 4;
          let f = flags & 0x400 ? next() : (defaultFlags ?? track?.defaultSampleFlags ?? 0);
          if (flags & 0x800) at += 4;
          if (i === 0 && runFirstFlags !== undefined) f = runFirstFlags;
          if (samples === 0 && i === 0) firstFlags = f;
          duration += d;
        }
        samples += count;
      }
    }
    runs.push({
      trackId,
      baseDecodeTime,
      samples,
      duration,
      startsWithSync: firstFlags !== undefined && isSync(firstFlags),
    });
  }
  return runs;
}

/** sample_is_non_sync_sample is bit 16 of the sample flags (ISO/IEC 14496-12 8.8.3.1). */
const isSync = (flags: number): boolean => ((flags >>> 16) & 1) === 0;
