import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MediaEventPayload } from '../schemas/generated/events.ts';
import { createLogger } from '../platform/logger.ts';
import { mediaTools } from '../tests/support/hls.ts';
import { selectLadder } from './ladder.ts';
import { StreamTranscoder } from './transcoder.ts';

/**
 * The transcoder with real ffmpeg on a file (read as fast as ffmpeg can, like a backlog a live
 * transcode has not caught up with yet): finishing a run keeps all of it, stopping one does not.
 */
describe('a transcode that is asked to finish encodes everything it received', () => {
  const root = mkdtempSync(join(tmpdir(), 'transcoder-spec-'));
  const source = join(root, 'source.mp4');
  const { ffmpeg } = mediaTools();

  before(() => {
    const r = spawnSync(ffmpeg, [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '12', '-c:v', 'libx264', '-preset', 'ultrafast'],
      ...['-c:a', 'aac', '-y', source],
    ]);
    assert.equal(r.status, 0, String(r.stderr));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const run = async (streamId: string, end: (t: StreamTranscoder) => Promise<unknown>) => {
    const events: MediaEventPayload[] = [];
    const t = new StreamTranscoder(
      {
        streamId,
        input: source,
        live: false,
        hasAudio: true,
        // The whole ladder of a 720p source: from a file ffmpeg reads ahead of what it has encoded.
        ladder: selectLadder({ width: 1280, height: 720, frameRate: 30 }, 2000, undefined, 333),
        segmentDurationMs: 2000,
        encoder: 'libx264',
        decoder: 'cpu',
        x264Preset: 'veryfast',
        mediaRoot: root,
        thumbnail: null,
        stallTimeoutS: 10,
      },
      {
        publish: async (p) => void events.push(...p),
        ffmpegPath: ffmpeg,
        log: createLogger('transcoder-spec', 'warn'),
      },
    );
    await t.start();
    await new Promise((r) => setTimeout(r, 1500));
    const exit = await end(t);
    const seconds = events
      .filter((e) => e.type === 'SegmentReady' && e.rendition === '720p')
      .reduce((n, e) => n + (e.type === 'SegmentReady' ? e.durationMs : 0), 0);
    return { seconds: seconds / 1000, exit };
  };

  it('finish: every second of the 12 s source is in the segments; stop: ffmpeg is cut off where it was', async () => {
    const finished = await run('finished', (t) => t.finish(120_000));
    assert.ok(finished.seconds >= 11.9, `finish kept ${finished.seconds} s of 12`);
    const stopped = await run('stopped', (t) => t.stop());
    assert.ok(stopped.seconds < finished.seconds, `stop kept ${stopped.seconds} s, finish ${finished.seconds} s`);
  });
});
