import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MediaEvent, PartReady, RenditionLadder, SegmentReady } from '../../schemas/generated/events.ts';
import { testBus } from '../../tests/support/bus.ts';
import { serverEnv } from '../../tests/support/endpoints.ts';
import {
  collect,
  createStreamWithKey,
  publishTestPattern,
  startIngest,
  type Publisher,
} from '../../tests/support/media.ts';
import { ServiceProcess } from '../../tests/support/process.ts';
import { uniqueName } from '../../tests/support/isolation.ts';
import { waitFor } from '../../tests/support/wait.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';

/**
 * A transcode that cannot keep up, on purpose and on any machine: a 720p30 source, a ladder of
 * the 720p rung alone, x264's veryslow preset on one thread (a few frames a second even on a fast
 * core). The worker must drop to the source remuxed, announce it, and keep up from then on.
 */
describe('media worker under a capacity shortage: degrade, never fall behind', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let media: Awaited<ReturnType<typeof collect<'mediaSegments'>>>;
  let capacity: Awaited<ReturnType<typeof collect<'mediaCapacity'>>>;
  let ingest: ServiceProcess;
  let worker: ServiceProcess;
  let publisher: Publisher;
  const root = mkdtempSync(join(tmpdir(), 'media-degrade-spec-'));
  const key = `live_${randomBytes(32).toString('base64url')}`;
  const streamId = `stream_${randomBytes(6).toString('hex')}`;
  const workerId = uniqueName('starved');

  const mine = <T extends MediaEvent['payload']['type']>(type: T) =>
    media.events
      .filter((e) => e.streamId === streamId && e.payload.type === type)
      .map((e) => ({ ...(e.payload as Extract<MediaEvent['payload'], { type: T }>), occurredAt: e.occurredAt }));
  const ladders = (): Array<RenditionLadder & { occurredAt: number }> => mine('RenditionLadder');
  const segments = (rendition: string): Array<SegmentReady & { occurredAt: number }> =>
    mine('SegmentReady').filter((s) => s.rendition === rendition);
  const parts = (rendition: string): Array<PartReady & { occurredAt: number }> =>
    mine('PartReady').filter((p) => p.rendition === rendition);
  /** How far a part's last frame was behind the worker's clock when it was announced. */
  const lag = (p: PartReady & { occurredAt: number }) => p.occurredAt - p.programDateTime - p.durationMs;

  before(async () => {
    bus = testBus('mdegrade');
    await bus.init(['streamLifecycle', 'mediaSegments', 'mediaCapacity']);
    producer = bus.producer();
    await producer.connect();
    await createStreamWithKey(bus, producer, streamId, key);
    media = await collect(bus, 'mediaSegments');
    capacity = await collect(bus, 'mediaCapacity');
    const env = { ...serverEnv(bus.config.topicPrefix), METRICS_PORT: '0', LOG_LEVEL: 'info' };
    const started = await startIngest(env);
    ingest = started.ingest;
    const port = started.port;
    worker = new ServiceProcess(workerId, 'media/worker/main.ts', {
      ...env,
      MEDIA_ROOT: root,
      MEDIA_WORKER_GROUP_ID: uniqueName('mdegrade'),
      MEDIA_WORKER_ID: workerId,
      MEDIA_ENCODER: 'libx264',
      MEDIA_DECODER: 'cpu',
      MEDIA_LADDER: '720p',
      MEDIA_X264_PRESET: 'veryslow',
      MEDIA_FFMPEG_THREADS: '1',
      MEDIA_CAPACITY_EVERY_S: '2',
    });
    await worker.waitForLog('started', (l) => l.msg === 'media worker started', 120_000);
    // Keyframes every 2 s, as encoders are told to send for HLS: the remux cuts its segments there.
    publisher = publishTestPattern(`rtmp://127.0.0.1:${port}/live/${key}`, { size: '1280x720', fps: 30, gop: 60 });
  });

  after(async () => {
    publisher?.proc.kill('SIGKILL');
    await worker?.kill('SIGTERM');
    await ingest?.kill('SIGTERM');
    await media?.stop();
    await capacity?.stop();
    await producer?.disconnect();
    rmSync(root, { recursive: true, force: true });
  });

  it('falls behind on the full ladder, then announces the source remuxed and runs it', async (t) => {
    const degraded = await waitFor(
      'a degraded ladder',
      () => ladders().find((l) => l.reason === 'BELOW_REAL_TIME'),
      180_000,
    );
    const first = ladders()[0]!;
    assert.deepEqual([first.reason, first.renditions.map((r) => r.name), first.dropped], ['START', ['720p'], []]);
    // The drop followed data: the 720p run's newest part was more than a segment behind.
    const before720 = parts('720p').filter((p) => p.occurredAt <= degraded.occurredAt);
    assert.ok(before720.length > 0, 'the 720p run announced parts before it was dropped');
    assert.ok(lag(before720.at(-1)!) > 2000, `lag when dropped: ${lag(before720.at(-1)!)} ms`);
    t.diagnostic(
      `720p run: ${before720.length} parts, lag ${lag(before720.at(-1)!)} ms at the drop; ` +
        `first 720p part to the new ladder ${degraded.occurredAt - before720[0]!.occurredAt} ms`,
    );
    assert.deepEqual(
      degraded.renditions.map((r) => [r.name, r.width, r.height, r.frameRate]),
      [['source', 1280, 720, 30]],
    );
    assert.deepEqual(degraded.dropped, ['720p']);
    // The publisher's x264 ultrafast is Constrained Baseline, level 3.1 for 720p30, as probed.
    assert.equal(degraded.renditions[0]!.codecs, 'avc1.42e01f,mp4a.40.2');
    assert.ok(
      worker.logs.some((l) => l.msg === 'transcode below real time; restarting with a smaller ladder'),
      'the worker says why',
    );

    await waitFor('four remuxed segments', () => segments('source').length >= 4, 120_000);
    const remuxed = segments('source');
    const last720 = Math.max(-1, ...segments('720p').map((s) => s.sequence));
    assert.ok(remuxed[0]!.sequence > last720, 'numbering continues after the dropped rung');
    assert.deepEqual(
      remuxed.map((s) => s.discontinuity),
      remuxed.map((_, i) => i === 0),
      'the restart is one discontinuity',
    );
    for (const s of remuxed) {
      assert.equal(statSync(join(root, streamId, s.uri)).size, s.bytes);
      // Cut at the source's keyframes (every 60 frames): whole segments of its GOP.
      if (s !== remuxed.at(-1)) assert.equal(s.durationMs, 2000, `${s.uri} is one source GOP`);
      const own = parts('source').filter((p) => p.sequence === s.sequence);
      assert.equal(
        own.reduce((n, p) => n + p.bytes, 0),
        s.bytes,
        `${s.uri} is its parts`,
      );
      assert.deepEqual(
        own.map((p) => p.independent),
        own.map((_, i) => i === 0),
      );
      assert.ok(own.every((p) => p.durationMs <= degraded.partTargetMs));
    }
    const playable = join(root, 'first-source.mp4');
    const seg = remuxed[1]!;
    writeFileSync(
      playable,
      Buffer.concat([readFileSync(join(root, streamId, seg.initUri!)), readFileSync(join(root, streamId, seg.uri))]),
    );
    const probe = spawnSync(
      'ffprobe',
      [
        '-v',
        'error',
        '-count_frames',
        '-show_entries',
        'stream=codec_name,width,nb_read_frames',
        '-of',
        'json',
        playable,
      ],
      { encoding: 'utf8' },
    );
    const streams = (
      JSON.parse(probe.stdout) as { streams: Array<{ codec_name: string; width?: number; nb_read_frames?: string }> }
    ).streams;
    const video = streams.find((s) => s.codec_name === 'h264');
    assert.equal(video?.width, 1280);
    assert.equal(video?.nb_read_frames, '60', 'a remuxed segment decodes whole, from its first frame');
    assert.ok(streams.some((s) => s.codec_name === 'aac'));
  });

  it('keeps up once degraded: no part of the remux falls a segment behind', async (t) => {
    await waitFor('six remuxed segments', () => segments('source').length >= 6, 120_000);
    // The run's clock starts at its first frame, and ingest hands a new reader the GOP it holds at
    // once, so early parts can look early (negative lag): growth is measured from the lowest so far.
    const lags = parts('source').map(lag);
    const growth = lags.map((l, i) => l - Math.min(...lags.slice(0, i + 1)));
    const measured = capacity.events
      .flatMap((e) => e.streams.filter((s) => s.streamId === streamId).map((s) => ({ ...s, busy: e.cpuBusy })))
      .map(
        (s) =>
          `${s.renditions.join('+')} speed ${s.speed?.toFixed(2)} cpu ${s.cpuCores?.toFixed(2)}/${s.busy?.toFixed(2)}`,
      );
    assert.ok(
      growth.every((g) => g <= 2000),
      `no remuxed part falls more than a segment further behind: lags ${lags.join(', ')}; measured: ${measured.join('; ')}`,
    );
    t.diagnostic(`remux lags (ms): ${lags.join(', ')}`);
    assert.equal(ladders().filter((l) => l.reason === 'BELOW_REAL_TIME').length, 1, 'no further drop');
  });

  it('publishes its capacity: the stream, what it runs, what was dropped, its speed and CPU', async () => {
    const report = await waitFor(
      'a capacity report with the remux measured',
      () =>
        capacity.events.find(
          (e) =>
            e.workerId === workerId &&
            e.streams.some(
              (s) => s.streamId === streamId && s.renditions[0] === 'source' && s.cpuCores !== null && s.speed !== null,
            ),
        ),
      60_000,
    );
    const load = report.streams.find((s) => s.streamId === streamId)!;
    assert.deepEqual([load.renditions, load.dropped], [['source'], ['720p']]);
    assert.ok(load.speed! > 0 && load.cpuCores! >= 0);
    assert.equal(report.cpuCount > 0, true);
    assert.equal(report.encoder, 'libx264');
    // Whatever the 720p run had measured before it was dropped says it was below real time.
    const starved = capacity.events
      .flatMap((e) => e.streams)
      .filter((s) => s.streamId === streamId && s.renditions[0] === '720p' && s.speed !== null);
    for (const s of starved) assert.ok(s.speed! < 1, `the 720p run measured below real time: ${s.speed}`);
  });
});
