import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { advertisedPartTargetMs, partTargetMs, segmentDurationMs, selectLadder } from './ladder.ts';
import { highestSequence } from './files.ts';

const names = (l: ReturnType<typeof selectLadder>) => l.map((r) => `${r.name} ${r.width}x${r.height}@${r.frameRate}`);

describe('ladder selection', () => {
  it('a 1080p60 source gets the whole seed ladder, highest first', () => {
    assert.deepEqual(names(selectLadder({ width: 1920, height: 1080, frameRate: 60 }, 2000)), [
      '1080p60 1920x1080@60',
      '1080p 1920x1080@30',
      '720p 1280x720@30',
      '480p 854x480@30',
      '360p 640x360@30',
      '160p 284x160@30',
    ]);
  });

  it('never upscales resolution or frame rate', () => {
    assert.deepEqual(names(selectLadder({ width: 1280, height: 720, frameRate: 30 }, 2000)), [
      '720p 1280x720@30',
      '480p 854x480@30',
      '360p 640x360@30',
      '160p 284x160@30',
    ]);
    assert.deepEqual(names(selectLadder({ width: 640, height: 360, frameRate: 15 }, 2000)), [
      '360p 640x360@15',
      '160p 284x160@15',
    ]);
    // 59.94 counts as 60; 50 does not reach the 60 fps rung.
    assert.equal(selectLadder({ width: 1920, height: 1080, frameRate: 59.94 }, 2000)[0]!.name, '1080p60');
    assert.equal(selectLadder({ width: 1920, height: 1080, frameRate: 50 }, 2000)[0]!.name, '1080p');
  });

  it('odd sizes keep their aspect ratio with even dimensions, and a tiny source still gets one rung', () => {
    assert.deepEqual(names(selectLadder({ width: 1000, height: 750, frameRate: 25 }, 2000)), [
      '720p 960x720@25',
      '480p 640x480@25',
      '360p 480x360@25',
      '160p 214x160@25',
    ]);
    assert.deepEqual(names(selectLadder({ width: 176, height: 99, frameRate: 10 }, 2000)), ['160p 176x100@10']);
  });

  it('one GOP per segment, a level and CODECS per rung, and MEDIA_LADDER filtering', () => {
    const l = selectLadder({ width: 1920, height: 1080, frameRate: 60 }, 1000, ['1080p60', '720p']);
    assert.deepEqual(
      l.map((r) => [r.name, r.gop, r.level, r.codecs]),
      [
        ['1080p60', 60, '4.2', 'avc1.64002a,mp4a.40.2'],
        ['720p', 30, '3.1', 'avc1.64001f,mp4a.40.2'],
      ],
    );
    assert.equal(segmentDurationMs('STANDARD'), 2000);
    assert.equal(segmentDurationMs('LOW'), 1000);
  });

  it('LL-HLS parts: whole frames that split the GOP evenly where they can, and the PART-TARGET they need', () => {
    const at = (fps: number, segMs: number, partMs: number) =>
      selectLadder({ width: 1920, height: 1080, frameRate: fps }, segMs, ['1080p60', '720p'], partMs);
    // 30 fps, 2 s, 333 ms: 6 parts of 10 frames; the 60 fps rung cuts 20 frames; PART-TARGET 334 ms.
    assert.deepEqual(
      at(60, 2000, 333).map((r) => [r.name, r.gop, r.partFrames]),
      [
        ['1080p60', 120, 20],
        ['720p', 60, 10],
      ],
    );
    assert.equal(advertisedPartTargetMs(at(60, 2000, 333)), 334);
    // Low tier: 1 s segments of 5 parts of 200 ms.
    assert.deepEqual(
      at(30, 1000, 200).map((r) => r.partFrames),
      [6],
    );
    assert.equal(advertisedPartTargetMs(at(30, 1000, 200)), 200);
    // 25 fps: 50 frames in 6 parts -> 9 frames (360 ms) and a short last part; never under 85%.
    assert.deepEqual(
      at(25, 2000, 333).map((r) => r.partFrames),
      [9],
    );
    assert.equal(advertisedPartTargetMs(at(25, 2000, 333)), 360);
    assert.equal(partTargetMs('STANDARD'), 333);
    assert.equal(partTargetMs('LOW'), 200);
    assert.equal(partTargetMs('ULTRA_LOW', { standardMs: 500, lowMs: 250 }), 250);
  });

  it('a new run numbers after every file of the old one, parts of an unfinished segment included', () => {
    assert.equal(highestSequence(['000041.ts', '000041.m4s', '000042.0.m4s', '000042.1.m4s', 'init-000000.mp4']), 42);
    assert.equal(highestSequence(['init-000040.mp4', 'x.m4s', '000007.jpg']), -1);
  });
});
