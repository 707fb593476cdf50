/**
 * Transcoding speed: a 1080p30 source to the 1080p/720p/480p ladder with libx264 on this box,
 * through our worker's path (StreamTranscoder: the plan from ffmpeg-args.ts, fluent-ffmpeg, the
 * parent-death launcher, playlist polling and an event per segment) against the very same ffmpeg
 * argument list run by hand (child_process, no wrapper, no polling), alternating, in one run.
 *
 *   The command line: `program`, below (npm run bench -- transcode --help).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { integer, parse, tool } from '../platform/cli.ts';
import { DEBIAN_TOOLS, ensureDebianTools } from '../platform/debian.ts';
import { buildTranscodePlan, planArgs } from '../media/ffmpeg-args.ts';
import { ffmpegLauncher } from '../platform/ffmpeg.ts';
import { ratio, writeResult, type Metric } from './lib/results.ts';
import { generateSource, LADDER, runWorkerPath, THUMBNAIL } from './lib/transcode-run.ts';

const program = tool({
  name: 'bench transcode',
  command: 'npm run bench -- transcode',
  description:
    "A 1080p30 source to the 1080p/720p/480p ladder with libx264 through the worker's path " +
    '(StreamTranscoder) against the same ffmpeg command run by hand: real-time factor and overhead.',
  examples: ['npm run bench -- transcode --seconds 20 --preset veryfast --rounds 2'],
})
  .option('--seconds <S>', 'length of the generated 1080p30 source', integer(1), 20)
  .option('--preset <P>', 'libx264 preset', 'veryfast')
  .option('--rounds <R>', 'rounds of each path, alternating', integer(1), 2);
const { options: values } = parse(program);
const seconds = values.seconds;
const preset = values.preset;
const rounds = values.rounds;
const say = (m: string): void => console.log(`[bench:transcode] ${m}`);
const tools = ensureDebianTools([DEBIAN_TOOLS.ffmpeg], { info: say, warn: say });
const work = mkdtempSync(join(tmpdir(), 'bench-transcode-'));

say(`generating a ${seconds} s 1080p30 source (testsrc2 + tone)`);
const source = generateSource(tools.ffmpeg!, seconds, work);

async function byHand(round: number): Promise<number> {
  const streamDir = join(work, `hand-${round}`, 'stream');
  for (const r of LADDER) mkdirSync(join(streamDir, r.name), { recursive: true });
  mkdirSync(join(streamDir, '.work'), { recursive: true });
  mkdirSync(join(streamDir, 'thumbs'), { recursive: true });
  const args = planArgs(
    buildTranscodePlan({
      input: source,
      live: false,
      hasAudio: true,
      ladder: LADDER,
      segmentDurationMs: 2000,
      encoder: 'libx264',
      decoder: 'cpu',
      x264Preset: preset,
      streamDir,
      // The same fMP4 the worker reads from its sockets, to a file here: encoding is what is timed.
      outputs: Object.fromEntries(LADDER.map((r) => [r.name, join(streamDir, r.name, 'out.mp4')])),
      thumbnail: { ...THUMBNAIL, startNumber: 0 },
      stallTimeoutS: 10,
    }),
  );
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const p = spawn(tools.ffmpeg!, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    p.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`ffmpeg by hand exited ${code}`);
  return (performance.now() - t0) / 1000;
}

const worker = (round: number) =>
  runWorkerPath({
    source,
    mediaRoot: join(work, `worker-${round}`),
    ffmpegPath: ffmpegLauncher(tools.ffmpeg),
    encoder: 'libx264',
    decoder: 'cpu',
    x264Preset: preset,
  });

const hand: number[] = [];
const ours: number[] = [];
let segments = 0;
for (let i = 0; i < rounds; i++) {
  // Alternate which goes first, so neither always gets the cooler machine.
  const order = i % 2 === 0 ? (['hand', 'worker'] as const) : (['worker', 'hand'] as const);
  for (const which of order) {
    if (which === 'hand') {
      hand.push(await byHand(i));
      say(`round ${i + 1}: by hand ${hand.at(-1)!.toFixed(2)} s wall`);
    } else {
      const r = await worker(i);
      ours.push(r.wallS);
      segments = r.segments;
      say(`round ${i + 1}: worker path ${r.wallS.toFixed(2)} s wall, ${r.segments} SegmentReady`);
    }
  }
}
rmSync(work, { recursive: true, force: true });

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const rtfOurs = r2(seconds / mean(ours));
const rtfHand = r2(seconds / mean(hand));
const overheadPct = r2(((mean(ours) - mean(hand)) / mean(hand)) * 100);
const extra: Metric[] = [
  {
    metric: 'worker path overhead against the same ffmpeg command by hand',
    value: overheadPct,
    unit: '% wall time',
    peer: null,
    ratio: null,
    target: '≤ 5%',
    meetsTarget: overheadPct <= 5,
    notes: `mean of ${rounds} alternating rounds each; walls ours ${ours.map(r2).join(', ')} s, by hand ${hand.map(r2).join(', ')} s`,
  },
];
const file = writeResult('transcode', {
  metric: `real-time factor, 1080p30 -> 1080p/720p/480p, libx264 ${preset}, worker path`,
  value: rtfOurs,
  unit: '× real time',
  peer: { name: 'the same ffmpeg argument list run by hand', value: rtfHand },
  ratio: ratio(rtfOurs, rtfHand),
  target: '≥ 1.2× real time, overhead ≤ 5%',
  meetsTarget: rtfOurs >= 1.2 && overheadPct <= 5,
  notes: [
    `A ${seconds} s 1920x1080 30 fps testsrc2 source with a 48 kHz tone (generated, H.264 ultrafast qp 18),`,
    `transcoded to 1080p (6 Mb/s), 720p (3 Mb/s) and 480p (1.5 Mb/s) with libx264 preset ${preset}, AAC audio per rung,`,
    `2 s HLS/MPEG-TS segments with keyframes forced every 2 s, and a thumbnail every 10 s: one ffmpeg, one decode.`,
    `Real-time factor = media seconds / wall seconds, from the process start to its exit (the worker path: from`,
    `StreamTranscoder.start() to its final scan, ${segments} SegmentReady per run, published to a counter rather than Kafka).`,
    `Read from a file as fast as ffmpeg goes (no -re), so the factor is the headroom a live stream would have.`,
    `1-minute load average at the end: ${loadavg()[0]!.toFixed(2)} (the box is shared with Kafka, Cassandra and Elasticsearch).`,
  ].join(' '),
  command: `npm run bench -- transcode --seconds ${seconds} --preset ${preset} --rounds ${rounds}`,
  extra,
});
say(`worker ${rtfOurs}x, by hand ${rtfHand}x, overhead ${overheadPct}% -> ${file}`);
