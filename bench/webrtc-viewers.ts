import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { decimal, integer, listOption, parse, tool } from '../platform/cli.ts';
import { procStat } from '../platform/proc-stat.ts';
import { nodeBinary } from '../platform/runtime.ts';
import { mediaTools } from '../tests/support/hls.ts';
import { cpuSeconds } from './lib/cpu.ts';
import { loadAverage, pct, publish, sleep, untilServed, withStream } from './lib/live-rig.ts';
import { writeResult, type Metric } from './lib/results.ts';

/**
 * WHEP viewers of one stream per process (issue #21: "the benchmark measures viewers per core"):
 * one ultra-low stream published over RTMP by the rig's ffmpeg (640x360 30 fps, 2.5 Mbps H.264,
 * AAC), played through the WebRTC gateway's RTMP bridge (H.264 copied, Opus) by N real WebRTC
 * receivers in a separate process (bench/lib/whep-viewers.ts: werift peers that complete ICE and
 * DTLS and receive the SRTP, no decode), for N in `--viewers`, one after the other on the same
 * gateway and bridge. For each N, over `--seconds`:
 *
 *   - the gateway's own CPU (its Node process, /proc utime + stime), and apart from it its RTMP
 *     bridge's ffmpeg (the processes below it): the bridge's cost is per stream, not per viewer;
 *   - the same with no viewer at all (the bridge kept running: WEBRTC_BRIDGE_LINGER_MS is long
 *     here), the baseline the per-viewer cost is counted above;
 *   - every viewer's video packets and bitrate, checked against the source's (the N = 1 round's
 *     viewer): a viewer the gateway fell behind on would show it.
 *
 * Viewers per core is extrapolated, linearly, from the CPU per viewer at the largest N: measured
 * on this 2-core machine, where the viewers' own process and the rest of the platform share the
 * cores, it is an estimate, not a measured ceiling.
 *
 *   The command line: `program`, below (npm run bench -- webrtc-viewers --help).
 */
const program = tool({
  name: 'bench webrtc-viewers',
  command: 'npm run bench -- webrtc-viewers',
  description:
    "WHEP viewers of one ultra-low stream per WebRTC gateway process: the gateway's CPU per viewer, " +
    "apart from its RTMP bridge, and every viewer's packets and bitrate against the source.",
  examples: ['npm run bench -- webrtc-viewers --viewers 1,10,25,50 --seconds 20'],
})
  .addOption(listOption('--viewers <N,...>', 'viewer counts, measured in turn', integer(1), [1, 10, 25, 50]))
  .option('--seconds <S>', 'seconds measured per count, after every viewer has video', decimal({ above: 0 }), 20)
  .option('--no-write', 'print only; leave bench/results/webrtc-viewers.json as it is');
const { options: values } = parse(program);
const COUNTS = values.viewers;
const SECONDS = values.seconds;
const BITRATE = '2500k';
const FPS = 30;

interface Round {
  viewers: number;
  /** ms of CPU per s: the gateway's Node process, its bridge ffmpeg, the viewers' process. */
  gateway: number;
  bridge: number;
  client: number;
  /** Each viewer's video packets/s and kbit/s, audio packets/s. */
  rates: Array<{ videoPps: number; videoKbps: number; audioPps: number; firstVideoMs: number }>;
  load: string;
}

const ownSeconds = (pid: number): number => (procStat(pid)?.cpuTicks ?? 0) / 100;

/** CPU of the gateway (alone, and its bridge) and of `client` over `ms` from now. */
async function measureCpu(
  gatewayPid: number,
  clientPid: number | null,
  until: Promise<unknown>,
): Promise<{ gateway: number; bridge: number; client: number }> {
  const t0 = performance.now();
  const own0 = ownSeconds(gatewayPid);
  const tree0 = cpuSeconds(gatewayPid);
  const client0 = clientPid === null ? 0 : cpuSeconds(clientPid);
  await until;
  const s = (performance.now() - t0) / 1000;
  const own = ownSeconds(gatewayPid) - own0;
  const tree = cpuSeconds(gatewayPid) - tree0;
  const client = clientPid === null ? 0 : cpuSeconds(clientPid) - client0;
  const ms = (x: number) => Math.round((x / s) * 1000);
  return { gateway: ms(own), bridge: ms(tree - own), client: ms(client) };
}

/** One round: `n` viewers in their own Node 24 process, measured once all have video. */
async function round(whep: string, gatewayPid: number, n: number): Promise<Round> {
  const child = spawn(
    nodeBinary('node24'),
    ['--import', 'tsx', 'bench/lib/whep-viewers.ts', whep, String(n), String(SECONDS)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout });
  const events = lines[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      const r = await events.next();
      if (r.done) throw new Error(`the viewers' process ended early: ${err}`);
      try {
        return JSON.parse(r.value as string) as Record<string, unknown>;
      } catch {
        /* a stray line */
      }
    }
  };
  const first = await next();
  if (first.event !== 'measuring') throw new Error(`viewers: ${JSON.stringify(first)} ${err}`);
  const result = next();
  const cpu = await measureCpu(gatewayPid, child.pid!, result);
  const r = await result;
  await new Promise((done) => (child.exitCode === null ? child.once('exit', done) : done(null)));
  return { viewers: n, ...cpu, rates: r.viewers as Round['rates'], load: loadAverage() };
}

const { ffmpeg } = mediaTools();
const rounds: Round[] = [];
let baseline: { gateway: number; bridge: number; load: string } | null = null;
await withStream(
  { latencyMode: 'ULTRA_LOW', ladder: '360p', webrtc: { WEBRTC_BRIDGE_LINGER_MS: '3600000' } },
  async ({ pipeline, streamId, key, webrtc }) => {
    const pub = publish(pipeline.rtmpUrl(key), ffmpeg, 1000, { fps: FPS, videoBitrate: BITRATE });
    try {
      await untilServed(pipeline.edgeFile(streamId, '360p.m3u8'));
      const whep = `${webrtc!.url}/whep/${streamId}`;
      // A first viewer starts the bridge; then the bridge alone, with nobody watching.
      console.log('warm-up: 1 viewer (starts the RTMP bridge)');
      await round(whep, webrtc!.pid, 1);
      await sleep(3000);
      const idle = await measureCpu(webrtc!.pid, null, sleep(SECONDS * 1000));
      baseline = { gateway: idle.gateway, bridge: idle.bridge, load: loadAverage() };
      console.log(`no viewer: gateway ${idle.gateway} ms/s, bridge ffmpeg ${idle.bridge} ms/s`);
      for (const n of COUNTS) {
        const r = await round(whep, webrtc!.pid, n);
        rounds.push(r);
        const v = r.rates.map((x) => x.videoPps);
        console.log(
          `${n} viewers: gateway ${r.gateway} ms/s (${((r.gateway - idle.gateway) / n).toFixed(1)} per viewer above idle), ` +
            `bridge ${r.bridge} ms/s, viewers' process ${r.client} ms/s; video pps min ${Math.min(...v).toFixed(1)} ` +
            `median ${pct(v, 50)}; load ${r.load}`,
        );
        await sleep(3000);
      }
    } finally {
      pub.stop();
      await pub.exited;
    }
  },
);

const idle = baseline!;
const source = rounds.find((r) => r.viewers === 1)?.rates[0] ?? rounds[0]!.rates[0]!;
const perViewer = (r: Round): number => Math.round(((r.gateway - idle.gateway) / r.viewers) * 10) / 10;
const REPORT = 'report only (issue #21 asks how many viewers a core serves; it sets no figure)';
const roundNotes = (r: Round): string => {
  const v = r.rates.map((x) => x.videoPps);
  const k = r.rates.map((x) => x.videoKbps);
  const a = r.rates.map((x) => x.audioPps);
  const f = r.rates.map((x) => x.firstVideoMs);
  return (
    `Gateway Node process ${r.gateway} ms of CPU per s in all (${idle.gateway} with no viewer); its RTMP bridge ` +
    `ffmpeg ${r.bridge} ms/s; the viewers' own process ${r.client} ms/s. Every viewer received video: packets/s ` +
    `min ${Math.min(...v).toFixed(1)}, median ${pct(v, 50)} (the 1-viewer round's: ${source.videoPps.toFixed(1)}), ` +
    `kbit/s min ${Math.round(Math.min(...k))}, median ${pct(k, 50)}; audio packets/s min ${Math.min(...a).toFixed(1)}; ` +
    `WHEP POST -> first video packet p50 ${pct(f, 50)} ms, max ${pct(f, 100)} ms. 1-minute load average ${r.load}.`
  );
};
const rows: Metric[] = rounds.map((r) => ({
  metric: `WebRTC gateway CPU per WHEP viewer, ${r.viewers} viewer${r.viewers === 1 ? '' : 's'} of one 2.5 Mbps stream (above the no-viewer baseline)`,
  value: perViewer(r),
  unit: 'ms of CPU per s per viewer',
  peer: null,
  ratio: null,
  target: REPORT,
  meetsTarget: null,
  notes: roundNotes(r),
}));
const last = rounds.at(-1)!;
const perCore = Math.floor(1000 / perViewer(last));
const head: Metric = {
  metric: `WHEP viewers per core, extrapolated from the CPU per viewer at ${last.viewers} viewers of one stream (not measured at that count)`,
  value: perCore,
  unit: 'viewers per core',
  peer: null,
  ratio: null,
  target: REPORT,
  meetsTarget: null,
};
const extra: Metric[] = [
  ...rows,
  {
    metric: 'WebRTC gateway CPU with the RTMP bridge running and no viewer',
    value: idle.gateway,
    unit: 'ms of CPU per s',
    peer: null,
    ratio: null,
    target: REPORT,
    meetsTarget: null,
    notes: `The gateway's Node process receiving the bridge's RTP on loopback and forwarding it to nobody; the bridge's ffmpeg itself ${idle.bridge} ms/s (per stream). 1-minute load average ${idle.load}.`,
  },
];
for (const m of [head, ...extra]) console.log(JSON.stringify(m));
if (!values.write) process.exit(0);
const file = writeResult('webrtc-viewers', {
  ...head,
  command: `npm run bench -- webrtc-viewers --viewers ${COUNTS.join(',')} --seconds ${SECONDS}`,
  notes:
    `One ultra-low stream (the rig's ffmpeg: 640x360 ${FPS} fps, libx264 ultrafast zerolatency at ${BITRATE} average, ` +
    `a keyframe a second, AAC) published over RTMP to the ingest; the WebRTC gateway (werift, Node 24) pulls it ` +
    `through its RTMP bridge (ffmpeg: H.264 copied, AAC -> Opus, RTP on loopback) and forwards each packet to every ` +
    `WHEP viewer (its own SRTP session). The viewers: werift peers in one Node 24 process (bench/lib/whep-viewers.ts), ` +
    `each a full WHEP session (ICE, DTLS, SRTP, RTCP) receiving video and audio, no decode; each count measured for ` +
    `${SECONDS} s once every viewer had video, one after the other on the same gateway. CPU per viewer = (gateway ` +
    `CPU with N viewers - with none) / N; viewers per core = 1000 / that, at the largest N: a linear extrapolation. ` +
    `On this ${cpus().length}-core machine, shared with the platform's other services, the viewers' process and the ` +
    `publisher.`,
  extra,
});
console.log(`wrote ${file}`);
process.exit(0);
