/**
 * Transcoding on an NVIDIA GPU: how many live 1080p30 streams one worker machine keeps up with,
 * each transcoded to the 1080p/720p/480p ladder through the worker's own path, on the CPU
 * (libx264, CPU decode and scaling: the peer, on the same machine in the same run) and on every
 * GPU path the worker's detection (detectMediaPath, as the worker runs it) finds working there:
 * NVDEC + scale_cuda feeding libx264, and NVENC where the GPU has it.
 *
 * For each path, 1, 2, 4, ... transcodes run at once from the same file, read as fast as ffmpeg
 * goes; a count keeps up when its slowest session runs at ≥ 1× real time. Machine CPU time over
 * the run gives the cores one live ladder costs.
 *
 *   The command line: `program`, below (npm run bench -- transcode-gpu --help).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { integer, listOption, parse, tool } from '../platform/cli.ts';
import { DEBIAN_TOOLS, ensureDebianTools } from '../platform/debian.ts';
import type { Decoder, Encoder } from '../platform/ffmpeg.ts';
import { detectMediaPath, ffmpegLauncher, systemGpuCheck } from '../platform/ffmpeg.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';
import { generateSource, runWorkerPath } from './lib/transcode-run.ts';

const program = tool({
  name: 'bench transcode-gpu',
  command: 'npm run bench -- transcode-gpu',
  description:
    'How many live 1080p30 streams one worker machine keeps up with, each transcoded to the ' +
    "1080p/720p/480p ladder through the worker's path, on the CPU and on an NVIDIA GPU.",
  examples: [
    'npm run bench -- transcode-gpu',
    'npm run bench -- transcode-gpu --seconds 12 --sessions 1,4,5,6,7,8 --preset veryfast',
  ],
})
  .option('--seconds <S>', 'length of the generated 1080p30 source', integer(1), 12)
  .addOption(
    listOption('--sessions <N,...>', 'how many transcodes at once, in turn', integer(1), [1, 2, 4, 8, 12, 16, 24]),
  )
  .option('--preset <P>', 'libx264 preset', 'veryfast');
const { options: values } = parse(program);
const seconds = values.seconds;
const counts = values.sessions;
const preset = values.preset;
const say = (m: string): void => console.log(`[bench:transcode-gpu] ${m}`);
const tools = ensureDebianTools([DEBIAN_TOOLS.ffmpeg], { info: say, warn: say });

const gpuName =
  spawnSync('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], { encoding: 'utf8' })
    .stdout?.trim()
    .split('\n')[0] ?? '';
const detected = detectMediaPath({ encoder: 'auto', decoder: 'auto' }, systemGpuCheck(tools.ffmpeg));
say(`GPU: ${gpuName || 'none'}; the worker would choose: ${detected.reason}`);
if (!gpuName) {
  say('no NVIDIA GPU answers here: nothing to measure (the CPU figures are `npm run bench -- transcode`)');
  process.exit(0);
}

interface Path {
  encoder: Encoder;
  decoder: Decoder;
  label: string;
}
const paths: Path[] = [{ encoder: 'libx264', decoder: 'cpu', label: 'libx264, CPU decode and scaling' }];
if (detected.decoder === 'cuda')
  paths.push({ encoder: 'libx264', decoder: 'cuda', label: 'libx264, NVDEC + scale_cuda' });
if (detected.encoder === 'h264_nvenc') {
  paths.push({ encoder: 'h264_nvenc', decoder: detected.decoder, label: `h264_nvenc, ${detected.decoder} decode` });
}

const work = mkdtempSync(join(tmpdir(), 'bench-transcode-gpu-'));
say(`generating a ${seconds} s 1080p30 source`);
const source = generateSource(tools.ffmpeg!, seconds, work);
const launcher = ffmpegLauncher(tools.ffmpeg);

const busyCoreS = (): number =>
  cpus().reduce((a, c) => a + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0) / 1000;

interface Step {
  sessions: number;
  slowestRtf: number;
  coresPerStream: number;
}
const r2 = (x: number): number => Math.round(x * 100) / 100;
const results = new Map<Path, Step[]>();
for (const path of paths) {
  const steps: Step[] = [];
  for (const n of counts) {
    const busy0 = busyCoreS();
    const t0 = performance.now();
    const runs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        runWorkerPath({
          source,
          mediaRoot: join(work, `${path.encoder}-${path.decoder}-${n}-${i}`),
          ffmpegPath: launcher,
          encoder: path.encoder,
          decoder: path.decoder,
          x264Preset: preset,
        }),
      ),
    );
    const wallS = (performance.now() - t0) / 1000;
    const step = {
      sessions: n,
      slowestRtf: r2(seconds / Math.max(...runs.map((r) => r.wallS))),
      coresPerStream: r2((busyCoreS() - busy0) / wallS / n / (seconds / wallS)),
    };
    steps.push(step);
    say(
      `${path.label}: ${n} at once, slowest ${step.slowestRtf}x real time, ${step.coresPerStream} cores per live stream`,
    );
    for (let i = 0; i < n; i++) rmSync(join(work, `${path.encoder}-${path.decoder}-${n}-${i}`), { recursive: true });
    if (step.slowestRtf < 0.9) break;
  }
  results.set(path, steps);
}
rmSync(work, { recursive: true, force: true });

const capacity = (p: Path): number =>
  Math.max(
    0,
    ...results
      .get(p)!
      .filter((s) => s.slowestRtf >= 1)
      .map((s) => s.sessions),
  );
const table = (p: Path): string =>
  results
    .get(p)!
    .map((s) => `${s.sessions}: ${s.slowestRtf}x (${s.coresPerStream} cores each)`)
    .join('; ');
const cpuPath = paths[0]!;
const best = paths.slice(1).sort((a, b) => capacity(b) - capacity(a))[0];
const metricFor = (p: Path): Metric => ({
  metric: `live 1080p30 ladders kept at real time, ${p.label}`,
  value: capacity(p),
  unit: 'streams',
  peer: p === cpuPath ? null : { name: cpuPath.label, value: capacity(cpuPath) },
  ratio: p === cpuPath ? null : ratio(capacity(p), capacity(cpuPath)),
  target: 'measure when a GPU machine is lent',
  meetsTarget: null,
  notes: `slowest session per count: ${table(p)}`,
});
const nvenc: Metric = {
  metric: 'NVENC sessions',
  value: detected.encoder === 'h264_nvenc' ? capacity(paths.at(-1)!) : 0,
  unit: 'streams',
  peer: null,
  ratio: null,
  target: 'measure when a GPU machine is lent',
  meetsTarget: null,
  notes:
    detected.encoder === 'h264_nvenc' ? 'see the h264_nvenc row' : `not available on ${gpuName}: ${detected.reason}`,
};
const mainPath = best ?? cpuPath;
const file = writeResult('transcode-gpu', {
  ...metricFor(mainPath),
  notes: [
    `GPU: ${gpuName}. The worker's detection chose: ${detected.reason}.`,
    `Each stream: a ${seconds} s 1920x1080 30 fps source (testsrc2 + tone, H.264) to 1080p (6 Mb/s), 720p (3 Mb/s) and`,
    `480p (1.5 Mb/s) plus AAC per rung and a thumbnail every 10 s, 2 s segments, through StreamTranscoder (the worker's`,
    `own path), libx264 preset ${preset}. N transcodes start together from the same file, read as fast as ffmpeg goes;`,
    'N keeps up when the slowest one runs at ≥ 1× real time. Cores per live stream = machine CPU time over the run,',
    'per stream, per media second.',
    `${mainPath.label}, slowest session per count: ${table(mainPath)}.`,
  ].join(' '),
  command: `npm run bench -- transcode-gpu --seconds ${seconds} --sessions ${counts.join(',')} --preset ${preset}`,
  extra: [...paths.filter((p) => p !== mainPath).map(metricFor), nvenc],
});
say(`wrote ${file}`);
