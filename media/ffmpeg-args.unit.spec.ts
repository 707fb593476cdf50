import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTranscodePlan, planArgs, type TranscodeJob } from './ffmpeg-args.ts';
import { commandArgs, commandFor, detectMediaPath, type GpuCheck } from '../platform/ffmpeg.ts';
import { selectLadder, sourceRendition } from './ladder.ts';

const job = (o: Partial<TranscodeJob> = {}): TranscodeJob => ({
  input: 'rtmp://127.0.0.1:1935/live/stream_1',
  live: true,
  hasAudio: true,
  ladder: selectLadder({ width: 1280, height: 720, frameRate: 30 }, 2000, ['720p', '360p']),
  segmentDurationMs: 2000,
  encoder: 'libx264',
  decoder: 'cpu',
  x264Preset: 'veryfast',
  streamDir: '/media/stream_1',
  outputs: { '720p': 'unix:/tmp/w/720p.sock', '360p': 'unix:/tmp/w/360p.sock' },
  thumbnail: { everySec: 10, width: 320, height: 180, startNumber: 3 },
  stallTimeoutS: 10,
  ...o,
});

const cmaf = (name: string) => [
  '-f',
  'mp4',
  '-movflags',
  'empty_moov+default_base_moof+frag_keyframe',
  '-frag_duration',
  '1000',
  '-flush_packets',
  '1',
  `unix:/tmp/w/${name}.sock`,
];
const thumb = [
  '-map',
  '[thumb]',
  '-c:v',
  'mjpeg',
  '-q:v',
  '5',
  '-f',
  'image2',
  '-atomic_writing',
  '1',
  '-start_number',
  '3',
];

describe('ffmpeg ladder arguments', () => {
  it('libx264: one decode, split, scaled rungs with aligned keyframes, fMP4 to the worker sockets, thumbnails', () => {
    // prettier-ignore
    assert.deepEqual(planArgs(buildTranscodePlan(job())), [
      '-rw_timeout', '10000000', '-fflags', 'nobuffer', '-flags', 'low_delay', '-i', 'rtmp://127.0.0.1:1935/live/stream_1',
      '-y', '-filter_complex',
      '[0:v]split=3[s0][s1][s2];[s0]fps=30,scale=1280:720,format=yuv420p[v0];[s1]fps=30,scale=640:360,format=yuv420p[v1];[s2]fps=1/10,scale=320:180[thumb]',
      '-hide_banner', '-loglevel', 'warning', '-nostdin', '-progress', 'pipe:2', '-stats_period', '1',
      '-map', '[v0]', '-map', '0:a:0',
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'high', '-level:v', '3.1', '-sc_threshold', '0',
      '-g', '60', '-keyint_min', '60', '-force_key_frames', 'expr:gte(t,n_forced*2)',
      '-b:v', '3000000', '-maxrate', '3000000', '-bufsize', '6000000',
      '-c:a', 'aac', '-b:a', '128000', '-ar', '48000', '-ac', '2',
      ...cmaf('720p'),
      '-map', '[v1]', '-map', '0:a:0',
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'high', '-level:v', '3.0', '-sc_threshold', '0',
      '-g', '60', '-keyint_min', '60', '-force_key_frames', 'expr:gte(t,n_forced*2)',
      '-b:v', '700000', '-maxrate', '700000', '-bufsize', '1400000',
      '-c:a', 'aac', '-b:a', '96000', '-ar', '48000', '-ac', '2',
      ...cmaf('360p'),
      ...thumb,
      '/media/stream_1/thumbs/%06d.jpg',
    ]);
  });

  it('h264_nvenc: CUDA decode and scaling, NVENC with IDR keyframes, thumbnails downloaded from the GPU', () => {
    const args = planArgs(
      buildTranscodePlan(job({ encoder: 'h264_nvenc', decoder: 'cuda', ladder: job().ladder.slice(0, 1) })),
    );
    // prettier-ignore
    assert.deepEqual(args, [
      '-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda', '-rw_timeout', '10000000', '-fflags', 'nobuffer', '-flags', 'low_delay',
      '-i', 'rtmp://127.0.0.1:1935/live/stream_1',
      '-y', '-filter_complex',
      '[0:v]split=2[s0][s1];[s0]fps=30,scale_cuda=1280:720[v0];[s1]fps=1/10,scale_cuda=320:180,hwdownload,format=nv12[thumb]',
      '-hide_banner', '-loglevel', 'warning', '-nostdin', '-progress', 'pipe:2', '-stats_period', '1',
      '-map', '[v0]', '-map', '0:a:0',
      '-c:v', 'h264_nvenc', '-preset', 'p4', '-tune', 'll', '-rc', 'cbr', '-profile:v', 'high', '-level:v', '3.1',
      '-forced-idr', '1', '-no-scenecut', '1',
      '-g', '60', '-keyint_min', '60', '-force_key_frames', 'expr:gte(t,n_forced*2)',
      '-b:v', '3000000', '-maxrate', '3000000', '-bufsize', '6000000',
      '-c:a', 'aac', '-b:a', '128000', '-ar', '48000', '-ac', '2',
      ...cmaf('720p'),
      ...thumb,
      '/media/stream_1/thumbs/%06d.jpg',
    ]);
  });

  it('CUDA decode with libx264: scaled on the GPU, each rung downloaded once for the CPU encoder', () => {
    const args = planArgs(buildTranscodePlan(job({ decoder: 'cuda', ladder: job().ladder.slice(0, 1) })));
    assert.deepEqual(args.slice(0, 14), [
      '-hwaccel',
      'cuda',
      '-hwaccel_output_format',
      'cuda',
      '-rw_timeout',
      '10000000',
      '-fflags',
      'nobuffer',
      '-flags',
      'low_delay',
      '-i',
      'rtmp://127.0.0.1:1935/live/stream_1',
      '-y',
      '-filter_complex',
    ]);
    assert.equal(
      args[14],
      '[0:v]split=2[s0][s1];[s0]fps=30,scale_cuda=1280:720,hwdownload,format=nv12[v0];[s1]fps=1/10,scale_cuda=320:180,hwdownload,format=nv12[thumb]',
    );
    assert.deepEqual(args.slice(args.indexOf('-c:v'), args.indexOf('-c:v') + 4), [
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
    ]);
  });

  it('a source without audio gets a silent AAC track; low latency cuts 1 s segments', () => {
    const args = planArgs(
      buildTranscodePlan(
        job({ hasAudio: false, segmentDurationMs: 1000, thumbnail: null, ladder: job().ladder.slice(1) }),
      ),
    );
    assert.deepEqual(args.slice(0, 11), [
      '-rw_timeout',
      '10000000',
      '-fflags',
      'nobuffer',
      '-flags',
      'low_delay',
      '-i',
      'rtmp://127.0.0.1:1935/live/stream_1',
      '-f',
      'lavfi',
      '-i',
    ]);
    assert.equal(args[11], 'anullsrc=channel_layout=stereo:sample_rate=48000');
    assert.ok(args.includes('1:a:0') && args.includes('-shortest'));
    assert.ok(args.includes('expr:gte(t,n_forced*1)'));
    assert.deepEqual(args.slice(-9), cmaf('360p'));
  });

  it('the source remuxed: its video copied as it came, audio still AAC, only keyframes decoded (for thumbnails)', () => {
    const source = sourceRendition({ width: 1280, height: 720, frameRate: 30 }, 2000, 'avc1.64001f,mp4a.40.2', 333);
    // prettier-ignore
    assert.deepEqual(planArgs(buildTranscodePlan(job({ ladder: [source], outputs: { source: 'unix:/tmp/w/source.sock' } }))), [
      '-rw_timeout', '10000000', '-fflags', 'nobuffer', '-flags', 'low_delay', '-skip_frame', 'nokey',
      '-i', 'rtmp://127.0.0.1:1935/live/stream_1',
      '-y', '-filter_complex', '[0:v]split=1[s0];[s0]fps=1/10,scale=320:180[thumb]',
      '-hide_banner', '-loglevel', 'warning', '-nostdin', '-progress', 'pipe:2', '-stats_period', '1',
      '-map', '0:v:0', '-map', '0:a:0', '-c:v', 'copy',
      '-c:a', 'aac', '-b:a', '128000', '-ar', '48000', '-ac', '2',
      ...cmaf('source'),
      ...thumb,
      '/media/stream_1/thumbs/%06d.jpg',
    ]);
    // Without thumbnails nothing is decoded at all, and there is no filter graph to give.
    const bare = planArgs(
      buildTranscodePlan(job({ ladder: [source], thumbnail: null, outputs: { source: 'unix:/s' } })),
    );
    assert.ok(!bare.includes('-filter_complex') && !bare.includes('-skip_frame'));
    assert.deepEqual(bare.slice(bare.indexOf('-map'), bare.indexOf('-map') + 6), [
      '-map',
      '0:v:0',
      '-map',
      '0:a:0',
      '-c:v',
      'copy',
    ]);
  });

  it('a thread cap reaches every encoder', () => {
    const args = planArgs(buildTranscodePlan(job({ threads: 1 })));
    assert.equal(args.filter((a, i) => a === '-threads' && args[i + 1] === '1').length, 2);
    assert.ok(!planArgs(buildTranscodePlan(job())).includes('-threads'));
  });

  it('refuses a ladder rung without an output', () => {
    assert.throws(
      () => buildTranscodePlan(job({ outputs: { '720p': 'unix:/tmp/w/720p.sock' } })),
      /no output for rendition 360p/,
    );
  });

  it('fluent-ffmpeg runs exactly the tested list, even with spaces in paths', () => {
    const plan = buildTranscodePlan(
      job({
        streamDir: '/media root/stream_1',
        outputs: { '720p': 'unix:/a b/720p.sock', '360p': 'unix:/a b/360p.sock' },
      }),
    );
    assert.deepEqual(commandArgs(commandFor(plan, '/usr/bin/ffmpeg')), planArgs(plan));
  });
});

describe('media path detection', () => {
  const calls: string[] = [];
  const check = (gpu: boolean, nvenc: boolean, encodes: boolean, decodes: boolean): GpuCheck => ({
    nvidiaSmi: () => (calls.push('smi'), gpu),
    hasNvencEncoder: () => nvenc,
    testEncode: () => ({ ok: encodes, detail: encodes ? '' : 'OpenEncodeSessionEx failed: unsupported device (2)' }),
    testCudaDecode: () => ({ ok: decodes, detail: decodes ? '' : 'Impossible to convert between the formats' }),
  });
  const auto = { encoder: 'auto', decoder: 'auto' } as const;

  it('uses NVENC and NVDEC only where the GPU really encodes and decodes, and says why not', () => {
    assert.deepEqual(detectMediaPath(auto, check(true, true, true, true)), {
      encoder: 'h264_nvenc',
      decoder: 'cuda',
      reason:
        'encoder h264_nvenc: NVIDIA GPU with a working NVENC; decoder cuda: NVIDIA GPU with working NVDEC and scale_cuda',
    });
    assert.deepEqual(detectMediaPath(auto, check(false, true, true, true)), {
      encoder: 'libx264',
      decoder: 'cpu',
      reason: 'encoder libx264: no NVIDIA GPU; decoder cpu: no NVIDIA GPU',
    });
    assert.match(
      detectMediaPath(auto, check(true, false, true, true)).reason,
      /encoder libx264: ffmpeg has no h264_nvenc/,
    );
  });

  it("a GPU without NVENC (A100, H100) still decodes and scales, with the encoder's own error in the reason", () => {
    const p = detectMediaPath(auto, check(true, true, false, true));
    assert.equal(p.encoder, 'libx264');
    assert.equal(p.decoder, 'cuda');
    assert.match(p.reason, /h264_nvenc test encode failed \(OpenEncodeSessionEx failed: unsupported device \(2\)\)/);
    assert.equal(detectMediaPath(auto, check(true, true, true, false)).decoder, 'cpu');
  });

  it('forced modes: the CPU asks nothing of the GPU, a forced GPU path that cannot run refuses to start', () => {
    calls.length = 0;
    assert.deepEqual(detectMediaPath({ encoder: 'libx264', decoder: 'cpu' }, check(true, true, true, true)), {
      encoder: 'libx264',
      decoder: 'cpu',
      reason: 'encoder libx264: MEDIA_ENCODER=libx264; decoder cpu: MEDIA_DECODER=cpu',
    });
    assert.deepEqual(calls, []);
    assert.throws(
      () => detectMediaPath({ encoder: 'h264_nvenc', decoder: 'auto' }, check(false, false, false, false)),
      /MEDIA_ENCODER=h264_nvenc but no NVIDIA GPU/,
    );
    assert.throws(
      () => detectMediaPath({ encoder: 'auto', decoder: 'cuda' }, check(true, true, true, false)),
      /MEDIA_DECODER=cuda but CUDA decode \+ scale_cuda test failed \(Impossible/,
    );
  });
});
