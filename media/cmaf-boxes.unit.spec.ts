import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoxSplitter, parseFragment, parseInit } from './cmaf-boxes.ts';

const u32 = (...n: number[]) =>
  Buffer.concat(n.map((v) => Buffer.from([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255])));
const box = (type: string, ...body: Buffer[]) => {
  const payload = Buffer.concat(body);
  return Buffer.concat([u32(8 + payload.length), Buffer.from(type, 'latin1'), payload]);
};
const full = (type: string, version: number, flags: number, ...body: Buffer[]) =>
  box(type, u32((version << 24) | flags), ...body);

/** A moov like ffmpeg's: video track 1 at 15360, audio track 2 at 48000, trex defaults. */
const moov = box(
  'moov',
  box(
    'trak',
    full('tkhd', 0, 3, u32(0, 0, 1, 0)),
    box('mdia', full('mdhd', 0, 0, u32(0, 0, 15360, 0)), full('hdlr', 0, 0, u32(0), Buffer.from('vide'))),
  ),
  box(
    'trak',
    full('tkhd', 1, 3, u32(0, 0, 0, 0, 2, 0)),
    box('mdia', full('mdhd', 1, 0, u32(0, 0, 0, 0, 48000, 0)), full('hdlr', 0, 0, u32(0), Buffer.from('soun'))),
  ),
  box('mvex', full('trex', 0, 0, u32(1, 1, 512, 0, 0x01010000)), full('trex', 0, 0, u32(2, 1, 1024, 0, 0x02000000))),
);

const SYNC = 0x02000000;
const NON_SYNC = 0x01010000;

/** A moof of one traf per track: [trackId, tfdt, sample durations (null: defaults), first sample flags]. */
const moof = (...trafs: Array<[number, number, Array<number | null>, number | null]>) =>
  box(
    'moof',
    full('mfhd', 0, 0, u32(1)),
    ...trafs.map(([id, tfdt, durations, firstFlags]) => {
      const explicit = durations.every((d) => d !== null);
      const flags = 0x1 | (firstFlags !== null ? 0x4 : 0) | (explicit ? 0x100 : 0) | 0x200;
      return box(
        'traf',
        full('tfhd', 0, 0x20000, u32(id)),
        full('tfdt', 1, 0, u32(0, tfdt)),
        full(
          'trun',
          0,
          flags,
          u32(durations.length, 0),
          ...(firstFlags !== null ? [u32(firstFlags)] : []),
          ...durations.map((d) => (explicit ? u32(d!, 100) : u32(100))),
        ),
      );
    }),
  );

describe('ISO BMFF reading', () => {
  it('splits a byte stream into whole boxes however it is chunked', () => {
    const stream = Buffer.concat([box('ftyp', Buffer.from('isom')), moov, box('mdat', Buffer.alloc(300, 7))]);
    for (const step of [1, 7, 64, stream.length]) {
      const s = new BoxSplitter();
      const types: string[] = [];
      for (let i = 0; i < stream.length; i += step)
        for (const b of s.push(stream.subarray(i, i + step))) types.push(b.type);
      assert.deepEqual(types, ['ftyp', 'moov', 'mdat'], `chunks of ${step}`);
      assert.equal(s.buffered, 0);
    }
  });

  it('refuses a box size that cannot be and one over the limit', () => {
    assert.throws(
      () => new BoxSplitter().push(Buffer.from([0, 0, 0, 4, 0x6d, 0x64, 0x61, 0x74])),
      /malformed box: size 4/,
    );
    assert.throws(() => new BoxSplitter(1000).push(box('mdat', Buffer.alloc(1000))), /over the 1000-byte limit/);
  });

  it('reads the tracks of an init section: id, kind, timescale, trex defaults (version 0 and 1 boxes)', () => {
    assert.deepEqual(parseInit(moov), [
      { id: 1, kind: 'video', timescale: 15360, defaultSampleDuration: 512, defaultSampleFlags: NON_SYNC },
      { id: 2, kind: 'audio', timescale: 48000, defaultSampleDuration: 1024, defaultSampleFlags: SYNC },
    ]);
  });

  it('reads each track fragment: decode time, samples, duration, and whether it starts on a sync sample', () => {
    const tracks = parseInit(moov);
    assert.deepEqual(parseFragment(moof([1, 30720, [840, 512], SYNC], [2, 96000, [null], null]), tracks), [
      { trackId: 1, baseDecodeTime: 30720, samples: 2, duration: 1352, startsWithSync: true },
      { trackId: 2, baseDecodeTime: 96000, samples: 1, duration: 1024, startsWithSync: true },
    ]);
    // No first-sample flags and no per-sample flags: the trex default (non-sync) decides.
    assert.deepEqual(parseFragment(moof([1, 512, [null], null]), tracks), [
      { trackId: 1, baseDecodeTime: 512, samples: 1, duration: 512, startsWithSync: false },
    ]);
  });

  it('refuses a child box that overruns its parent', () => {
    const broken = Buffer.from(moof([1, 0, [512], SYNC]));
    broken.writeUInt32BE(10_000, 24); // the traf's size (after moof's header and mfhd)
    assert.throws(() => parseFragment(broken, parseInit(moov)), /overruns its parent/);
  });
});
