import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSource, type SourceLimits } from './source-policy.ts';
import type { ProbedSource } from '../platform/ffmpeg.ts';

const limits: SourceLimits = { maxHeight: 2160, maxFrameRate: 120 };
const hd: ProbedSource = { width: 1280, height: 720, frameRate: 30, videoCodec: 'h264', audioCodec: 'aac' };

describe('source policy', () => {
  it('takes an H.264 or HEVC source within the limits, with or without audio', () => {
    assert.deepEqual(checkSource(hd, limits), { ok: true });
    assert.deepEqual(checkSource({ ...hd, videoCodec: 'hevc' }, limits), { ok: true });
    assert.deepEqual(checkSource({ ...hd, audioCodec: null }, limits), { ok: true });
    assert.deepEqual(checkSource({ ...hd, frameRate: null }, limits), { ok: true });
    assert.deepEqual(checkSource({ ...hd, width: 3840, height: 2160, frameRate: 120 }, limits), { ok: true });
  });

  it('refuses an audio-only source with NO_VIDEO, naming the audio it got', () => {
    const audioOnly: ProbedSource = { width: null, height: null, frameRate: null, videoCodec: null, audioCodec: 'aac' };
    assert.deepEqual(checkSource(audioOnly, limits), {
      ok: false,
      code: 'NO_VIDEO',
      reason: 'the broadcast has no video: the source carries only audio (aac); send a video track (H.264) with it',
    });
  });

  it('refuses a source with neither video nor audio with NO_VIDEO', () => {
    const empty: ProbedSource = { width: null, height: null, frameRate: null, videoCodec: null, audioCodec: null };
    const v = checkSource(empty, limits);
    assert.equal(v.ok, false);
    assert.ok(!v.ok && v.code === 'NO_VIDEO' && v.reason.startsWith('the broadcast has no video: '));
  });

  it('refuses a video codec it does not decode with UNSUPPORTED_CODEC', () => {
    assert.deepEqual(checkSource({ ...hd, videoCodec: 'flv1' }, limits), {
      ok: false,
      code: 'UNSUPPORTED_CODEC',
      reason: "the broadcast's video codec is not supported: flv1; send H.264 or HEVC",
    });
  });

  it('refuses a source above the height or frame rate limit with OVER_LIMITS', () => {
    assert.deepEqual(checkSource({ ...hd, width: 7680, height: 4320 }, limits), {
      ok: false,
      code: 'OVER_LIMITS',
      reason: 'the broadcast is above the resolution limit: 7680x4320, at most 2160 lines high',
    });
    assert.deepEqual(checkSource({ ...hd, frameRate: 240 }, limits), {
      ok: false,
      code: 'OVER_LIMITS',
      reason: 'the broadcast is above the frame rate limit: 240 fps, at most 120',
    });
    assert.deepEqual(checkSource({ ...hd, frameRate: 60 }, { ...limits, maxFrameRate: 60 }), { ok: true });
  });
});
