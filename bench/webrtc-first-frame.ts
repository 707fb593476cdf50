import { cpus } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { integer, parse, tool } from '../platform/cli.ts';
import { FAKE_MEDIA_ARGS, launchChromium } from '../tests/support/browser.ts';
import { mediaTools } from '../tests/support/hls.ts';
import { firstFrameAt, webrtcPage, whepPlay, whipPublish, type WhepResult } from '../tests/support/webrtc.ts';
import { loadAverage, now, pct, publish, sleep, withStream, type Publisher } from './lib/live-rig.ts';
import { writeResult, type Metric } from './lib/results.ts';

/**
 * How long a WebRTC viewer waits for a picture (issue #21), in headless Chromium, report only:
 *
 *   - publisher to first frame: a fresh ultra-low stream is published, over WHIP by a browser
 *     (Chromium's fake camera and microphone, H.264) or over RTMP by the rig's ffmpeg (640x360
 *     15 fps, a keyframe a second), and from that moment a viewer page POSTs its WHEP offer every
 *     200 ms until the gateway takes it (404 until the stream is live); the figure runs from the
 *     WHIP POST (or the ffmpeg publisher's start) to the first frame that page presents;
 *   - join to first frame: on each of those streams, once live a while, fresh viewer pages join
 *     one after the other: from the WHEP POST to the first frame presented.
 *
 * "Presented" is requestVideoFrameCallback's expectedDisplayTime, as in the glass benchmark. The
 * pages and this process read the same machine clock (performance.timeOrigin + now()).
 *
 *   The command line: `program`, below (npm run bench -- webrtc-first-frame --help).
 */
const program = tool({
  name: 'bench webrtc-first-frame',
  command: 'npm run bench -- webrtc-first-frame',
  description:
    'Time to the first presented frame of a WebRTC (WHEP) viewer joining an ultra-low stream, for a ' +
    'WHIP and an RTMP publisher, in headless Chromium.',
  examples: ['npm run bench -- webrtc-first-frame --rounds 5 --joins 4'],
})
  .option('--rounds <R>', 'fresh streams per publisher kind (WHIP, RTMP)', integer(1), 5)
  .option('--joins <J>', 'viewers joining each live stream in turn', integer(1), 4)
  .option('--no-write', 'print only; leave bench/results/webrtc-first-frame.json as it is');
const { options: values } = parse(program);
const ROUNDS = values.rounds;
const JOINS = values.joins;

/** A WHEP play that was answered, with its page's first presented frame (waited for). */
async function played(page: Page, r: WhepResult): Promise<WhepResult & { firstFrameAt: number }> {
  if (r.status !== 201) throw new Error(`WHEP answered ${r.status}: ${r.body}`);
  return { ...r, firstFrameAt: await firstFrameAt(page) };
}

type Kind = 'whip' | 'rtmp';
interface StartSample {
  /** Publisher start (WHIP POST, ffmpeg spawned) -> the first WHEP 201, -> the first frame; ms. */
  toPlayable: number;
  toFirstFrame: number;
  attempts: number;
}
const starts: Record<Kind, StartSample[]> = { whip: [], rtmp: [] };
const joins: Record<Kind, Array<{ toAnswer: number; toFirstFrame: number }>> = { whip: [], rtmp: [] };

const { ffmpeg } = mediaTools();
const browser: Browser = await launchChromium(FAKE_MEDIA_ARGS);
try {
  await withStream({ latencyMode: 'ULTRA_LOW', ladder: '360p', webrtc: {} }, async ({ pipeline, webrtc, another }) => {
    const gateway = webrtc!.url;
    for (let r = 0; r < ROUNDS; r++)
      for (const kind of ['whip', 'rtmp'] as const) {
        const { streamId, key } = await another('ULTRA_LOW');
        const pages: Page[] = [];
        const page = async (): Promise<Page> => {
          const p = await webrtcPage(browser, `${gateway}/whip`);
          pages.push(p);
          return p;
        };
        const whep = `${gateway}/whep/${streamId}`;
        let rtmp: Publisher | null = null;
        try {
          const viewer = await page();
          let startedAt: number;
          let playing: Promise<WhepResult>;
          if (kind === 'whip') {
            const pub = await whipPublish(await page(), `${gateway}/whip`, key);
            if (pub.status !== 201) throw new Error(`WHIP answered ${pub.status}`);
            startedAt = pub.postedAt;
            playing = whepPlay(viewer, whep, { retryMs: 200, giveUpMs: 60_000 });
          } else {
            playing = whepPlay(viewer, whep, { retryMs: 200, giveUpMs: 60_000 });
            startedAt = now();
            rtmp = publish(pipeline.rtmpUrl(key), ffmpeg, 1000);
          }
          const t = await played(viewer, await playing);
          const s = {
            toPlayable: Math.round(t.answeredAt - startedAt),
            toFirstFrame: Math.round(t.firstFrameAt - startedAt),
            attempts: t.attempts,
          };
          starts[kind].push(s);
          console.log(
            `${kind} round ${r + 1}: publisher -> playable ${s.toPlayable} ms, -> first frame ${s.toFirstFrame} ms`,
          );
          await sleep(3000);
          for (let j = 0; j < JOINS; j++) {
            const p = await page();
            // Joins fall anywhere in the keyframe interval.
            await sleep(Math.random() * 1000);
            const jt = await played(p, await whepPlay(p, whep, { retryMs: 200, giveUpMs: 10_000 }));
            joins[kind].push({
              toAnswer: Math.round(jt.answeredAt - jt.postedAt),
              toFirstFrame: Math.round(jt.firstFrameAt - jt.postedAt),
            });
            await p.close();
          }
          console.log(
            `${kind} round ${r + 1}: joins ${joins[kind]
              .slice(-JOINS)
              .map((x) => x.toFirstFrame)
              .join('/')} ms`,
          );
        } catch (err) {
          console.error(`${kind} round ${r + 1} failed; the services' last lines:\n${pipeline.tail()}`);
          throw err;
        } finally {
          for (const p of pages) await p.close().catch(() => undefined);
          if (rtmp) {
            rtmp.stop();
            await rtmp.exited;
          }
        }
        await sleep(1000);
      }
  });
} finally {
  await browser.close();
}
const load = loadAverage();

const REPORT = 'report only (issue #21 asks for the time to a first frame; it sets no figure)';
const ms = (xs: number[]) => `p50 ${pct(xs, 50)} ms, p95 ${pct(xs, 95)} ms, each ${xs.join('/')} ms`;
const startRow = (kind: Kind): Metric => {
  const s = starts[kind];
  const what =
    kind === 'whip'
      ? "WHIP POST (a browser's fake camera) -> first frame on a WHEP viewer's screen"
      : "RTMP publish start (the rig's ffmpeg) -> first frame on a WHEP viewer's screen";
  return {
    metric: `${what}, new ultra-low stream, p50`,
    value: pct(
      s.map((x) => x.toFirstFrame),
      50,
    ),
    unit: 'ms',
    peer: null,
    ratio: null,
    target: REPORT,
    meetsTarget: null,
    notes:
      `${s.length} streams: ${ms(s.map((x) => x.toFirstFrame))}. Of which the stream playable (the first WHEP 201, ` +
      `the viewer retrying every 200 ms from the start): ${ms(s.map((x) => x.toPlayable))}. ` +
      (kind === 'whip'
        ? 'The gateway takes a WHEP viewer once the stream is live on the lifecycle topic: the WHIP bridge publishes to the RTMP ingest, which probes it (up to 2 s of media) before StreamWentLive.'
        : "The ingest's probe and StreamWentLive, then the gateway's RTMP bridge (ffprobe of the pull, ffmpeg's start) and the next keyframe (one a second)."),
  };
};
const joinRow = (kind: Kind, p: number): Metric => {
  const s = joins[kind];
  return {
    metric: `WHEP POST -> first frame, a viewer joining a live ${kind === 'whip' ? 'WHIP (browser) stream' : 'RTMP stream (1 s keyframes)'}, p${p}`,
    value: pct(
      s.map((x) => x.toFirstFrame),
      p,
    ),
    unit: 'ms',
    peer: null,
    ratio: null,
    target: REPORT,
    meetsTarget: null,
    notes:
      `${s.length} joins: ${ms(s.map((x) => x.toFirstFrame))}; of which WHEP POST -> 201 answer ${ms(s.map((x) => x.toAnswer))}. ` +
      (kind === 'whip'
        ? 'A viewer whose connection comes up makes the gateway ask the publisher for a keyframe (PLI, at most one per 500 ms per stream).'
        : 'The RTMP bridge copies the H.264: a joining viewer waits for the next of the source’s keyframes, one a second.'),
  };
};
const [head, ...extra] = [
  startRow('whip'),
  startRow('rtmp'),
  joinRow('whip', 50),
  joinRow('whip', 95),
  joinRow('rtmp', 50),
  joinRow('rtmp', 95),
];
for (const m of [head!, ...extra]) console.log(JSON.stringify(m));
if (!values.write) process.exit(0);
const file = writeResult('webrtc-first-frame', {
  ...head!,
  command: `npm run bench -- webrtc-first-frame --rounds ${ROUNDS} --joins ${JOINS}`,
  notes:
    `Headless Chromium pages (WebRTC from the browser's own RTCPeerConnection; frames as requestVideoFrameCallback ` +
    `presents them) against this platform's media path and WebRTC gateway (werift, Node 24), all on loopback: ` +
    `${ROUNDS} fresh ultra-low streams per publisher kind, ${JOINS} viewers joining each once live. 1-minute load ` +
    `average ${load} at the end, on this ${cpus().length}-core machine shared with the platform's other services.`,
  extra,
});
console.log(`wrote ${file}`);
process.exit(0);
