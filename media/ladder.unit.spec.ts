import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { segmentDurationMs, selectLadder } from './ladder.ts';

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
});
