import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MediaEvent, PartReady, SegmentReady } from '../../schemas/generated/events.ts';
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

type Segment = SegmentReady & { workerId: string };

describe('media worker: real ingest, real ffmpeg, real Kafka', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let media: Awaited<ReturnType<typeof collect<'mediaSegments'>>>;
  let ingest: ServiceProcess;
  let publisher: Publisher;
  const workers: ServiceProcess[] = [];
  const root = mkdtempSync(join(tmpdir(), 'media-worker-spec-'));
  const key = `live_${randomBytes(32).toString('base64url')}`;
  const streamId = `stream_${randomBytes(6).toString('hex')}`;
  const group = uniqueName('mworker');

  const env = (): Record<string, string> => ({
    ...serverEnv(bus.config.topicPrefix),
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  });
  const startWorker = async (id: string): Promise<ServiceProcess> => {
    const w = new ServiceProcess(id, 'media/worker/main.ts', {
      ...env(),
      MEDIA_ROOT: root,
      MEDIA_WORKER_GROUP_ID: group,
      MEDIA_WORKER_ID: id,
      MEDIA_ENCODER: 'libx264',
      MEDIA_X264_PRESET: 'ultrafast',
    });
    workers.push(w);
    await w.waitForLog('started', (l) => l.msg === 'media worker started', 120_000);
    return w;
  };
  const segments = (): Segment[] =>
    media.events
      .filter((e): e is MediaEvent & { payload: { type: 'SegmentReady' } } => e.payload.type === 'SegmentReady')
      .map((e) => ({ ...e.payload, workerId: e.workerId }));
  const parts = (): PartReady[] =>
    media.events
      .filter((e): e is MediaEvent & { payload: { type: 'PartReady' } } => e.payload.type === 'PartReady')
      .map((e) => e.payload);
  const ffmpegsWriting = (): number =>
    spawnSync('pgrep', ['-f', join(root, streamId)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean).length;

  before(async () => {
    bus = testBus('mworker');
    await bus.init(['streamLifecycle', 'mediaSegments']);
    producer = bus.producer();
    await producer.connect();
    await createStreamWithKey(bus, producer, streamId, key);
    media = await collect(bus, 'mediaSegments');
    const started = await startIngest(env());
    ingest = started.ingest;
    const port = started.port;
    await startWorker('worker-a');
    publisher = publishTestPattern(`rtmp://127.0.0.1:${port}/live/${key}`, { size: '640x360', fps: 15 });
  });

  after(async () => {
    publisher?.proc.kill('SIGKILL');
    for (const w of workers) await w.kill('SIGTERM');
    await ingest?.kill('SIGTERM');
    await media?.stop();
    await producer?.disconnect();
    rmSync(root, { recursive: true, force: true });
  });

  it('transcodes the live source to a ladder that never upscales, segment by segment', async () => {
    const ladder = await waitFor(
      'RenditionLadder',
      () => media.events.find((e) => e.streamId === streamId && e.payload.type === 'RenditionLadder'),
      90_000,
    );
    assert.equal(ladder.payload.type, 'RenditionLadder');
    if (ladder.payload.type !== 'RenditionLadder') return;
    assert.deepEqual(
      ladder.payload.renditions.map((r) => [r.name, r.width, r.height, r.frameRate]),
      [
        ['360p', 640, 360, 15],
        ['160p', 284, 160, 15],
      ],
    );
    assert.equal(ladder.payload.segmentDurationMs, 2000);
    assert.equal(ladder.payload.encoder, 'libx264');
    // 15 fps, 333 ms parts: 5 frames each, 6 to a 2 s segment; PART-TARGET is what 5 frames last.
    assert.equal(ladder.payload.partTargetMs, 334);

    await waitFor(
      'two segments of each rung',
      () => ['360p', '160p'].every((r) => segments().filter((s) => s.rendition === r).length >= 2),
      90_000,
    );
    for (const s of segments()) {
      assert.equal(statSync(join(root, streamId, s.uri)).size, s.bytes, `${s.uri} has the announced size`);
      assert.match(s.uri, /^(360p|160p)\/\d{6}\.m4s$/);
      assert.match(s.initUri ?? '', new RegExp(`^${s.rendition}/init-\\d{6}\\.mp4$`));
    }
    // Every segment is its parts end to end, announced before it, numbered from 0, none longer
    // than PART-TARGET, and only the first starts on a keyframe.
    const order = media.events.filter((e) => e.streamId === streamId).map((e) => e.payload);
    for (const s of segments()) {
      const own = parts().filter((p) => p.rendition === s.rendition && p.sequence === s.sequence);
      assert.deepEqual(
        own.map((p) => p.part),
        own.map((_, i) => i),
      );
      assert.equal(own.length, 6, `${s.uri}: 6 parts of 5 frames`);
      assert.equal(
        own.reduce((n, p) => n + p.bytes, 0),
        s.bytes,
        `${s.uri} is its parts`,
      );
      assert.ok(own.every((p) => p.durationMs <= 334 && p.initUri === s.initUri));
      assert.deepEqual(
        own.map((p) => p.independent),
        own.map((_, i) => i === 0),
      );
      const index = (type: string, part?: number) =>
        order.findIndex(
          (p) =>
            p.type === type &&
            'sequence' in p &&
            p.rendition === s.rendition &&
            p.sequence === s.sequence &&
            (part === undefined || (p.type === 'PartReady' && p.part === part)),
        );
      assert.ok(
        own.every((p) => index('PartReady', p.part) < index('SegmentReady')),
        `${s.uri}: its parts come first`,
      );
    }
    const first = segments().find((s) => s.rendition === '360p')!;
    // A segment plays with its init section in front, as a player appends them.
    const playable = join(root, 'first-360p.mp4');
    writeFileSync(
      playable,
      Buffer.concat([
        readFileSync(join(root, streamId, first.initUri!)),
        readFileSync(join(root, streamId, first.uri)),
      ]),
    );
    const probe = spawnSync(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', playable],
      { encoding: 'utf8' },
    );
    const streams = (JSON.parse(probe.stdout) as { streams: Array<{ codec_name: string; width?: number }> }).streams;
    assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.equal(streams.find((s) => s.codec_name === 'h264')?.width, 640);
    await waitFor('a thumbnail', () => media.events.some((e) => e.payload.type === 'ThumbnailReady'));
  });

  it('a killed worker takes its ffmpeg with it; the next one resumes with continuous sequences', async () => {
    await workers[0]!.kill('SIGKILL');
    await waitFor('the dead worker’s ffmpeg to go', () => ffmpegsWriting() === 0);
    const before = Math.max(...segments().map((s) => s.sequence));
    await startWorker('worker-b');
    const resumed = await waitFor(
      'segments from worker-b',
      () => {
        const fromB = segments().filter((s) => s.workerId === 'worker-b' && s.sequence > before);
        return ['360p', '160p'].every((r) => fromB.filter((s) => s.rendition === r).length >= 2) && fromB;
      },
      180_000,
    );
    for (const rendition of ['360p', '160p']) {
      const seqs = [
        ...new Set(
          segments()
            .filter((s) => s.rendition === rendition)
            .map((s) => s.sequence),
        ),
      ].sort((a, b) => a - b);
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => i),
        `${rendition} sequences have no gap`,
      );
      // The dead run's unfinished segment, assembled from its parts by worker-b, may come first;
      // then worker-b's own run, whose first segment is the one discontinuity.
      const fromB = resumed.filter((s) => s.rendition === rendition).sort((x, y) => x.sequence - y.sequence);
      const breaks = fromB.filter((s) => s.discontinuity);
      assert.equal(breaks.length, 1, `${rendition}: one discontinuity, where worker-b's run starts`);
      assert.ok(fromB.indexOf(breaks[0]!) <= 1, `${rendition}: at most the dead run's last segment before it`);
    }
  });

  it('ending the broadcast stops the transcode after its last segment', async () => {
    publisher.proc.kill('SIGINT');
    await waitFor(
      'the worker to finish',
      () => workers[1]!.logs.some((l) => l.msg === 'ffmpeg finished' && l.streamId === streamId),
      60_000,
    );
    await waitFor('no ffmpeg left', () => ffmpegsWriting() === 0);
    for (const s of segments()) assert.equal(statSync(join(root, streamId, s.uri)).size, s.bytes);
  });
});
