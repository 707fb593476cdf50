import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testBus } from '../../tests/support/bus.ts';
import { serverEnv } from '../../tests/support/endpoints.ts';
import {
  collect,
  createStreamWithKey,
  publishAudioOnly,
  startIngest,
  type Publisher,
} from '../../tests/support/media.ts';
import { ServiceProcess } from '../../tests/support/process.ts';
import { uniqueName } from '../../tests/support/isolation.ts';
import { waitFor } from '../../tests/support/wait.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';

describe('media worker: a source it cannot use is refused once (real ingest, real ffmpeg, real Kafka)', () => {
  let bus: EventBus;
  let producer: EventProducer;
  let media: Awaited<ReturnType<typeof collect<'mediaSegments'>>>;
  let lifecycle: Awaited<ReturnType<typeof collect<'streamLifecycle'>>>;
  let ingest: ServiceProcess;
  let worker: ServiceProcess;
  let publisher: Publisher;
  const root = mkdtempSync(join(tmpdir(), 'media-refused-spec-'));
  const key = `live_${randomBytes(32).toString('base64url')}`;
  const streamId = `stream_${randomBytes(6).toString('hex')}`;

  before(async () => {
    bus = testBus('mrefused');
    await bus.init(['streamLifecycle', 'mediaSegments']);
    producer = bus.producer();
    await producer.connect();
    await createStreamWithKey(bus, producer, streamId, key);
    media = await collect(bus, 'mediaSegments');
    lifecycle = await collect(bus, 'streamLifecycle');
    const env = { ...serverEnv(bus.config.topicPrefix), METRICS_PORT: '0', LOG_LEVEL: 'info' };
    const started = await startIngest(env);
    ingest = started.ingest;
    const port = started.port;
    worker = new ServiceProcess('worker', 'media/worker/main.ts', {
      ...env,
      MEDIA_ROOT: root,
      MEDIA_WORKER_GROUP_ID: uniqueName('mrefused'),
      MEDIA_WORKER_ID: 'worker-r',
      MEDIA_ENCODER: 'libx264',
      MEDIA_DECODER: 'cpu',
    });
    await worker.waitForLog('started', (l) => l.msg === 'media worker started', 120_000);
    publisher = publishAudioOnly(`rtmp://127.0.0.1:${port}/live/${key}`);
  });

  after(async () => {
    publisher?.proc.kill('SIGKILL');
    await worker?.kill('SIGTERM');
    await ingest?.kill('SIGTERM');
    await media?.stop();
    await lifecycle?.stop();
    await producer?.disconnect();
    rmSync(root, { recursive: true, force: true });
  });

  it('an audio-only publish gets exactly one TranscodeRefused NO_VIDEO, no ladder and no second attempt', async () => {
    const refusals = () => media.events.filter((e) => e.streamId === streamId && e.payload.type === 'TranscodeRefused');
    const [refused] = await waitFor('TranscodeRefused', () => (refusals().length ? refusals() : undefined), 90_000);
    assert.equal(refused!.payload.type, 'TranscodeRefused');
    if (refused!.payload.type !== 'TranscodeRefused') return;
    assert.equal(refused!.payload.code, 'NO_VIDEO');
    assert.match(refused!.payload.reason, /^the broadcast has no video: the source carries only audio \(aac\)/);
    assert.ok(
      lifecycle.events.some((e) => e.streamId === streamId && e.payload.type === 'StreamWentLive'),
      'the stream went live',
    );

    // The publisher stays: a retrying worker would probe again within seconds (backoff 1 s, 2 s, 4 s...).
    await new Promise((r) => setTimeout(r, 10_000));
    assert.equal(publisher.proc.exitCode, null, `the publisher is still sending: ${publisher.stderr()}`);
    assert.equal(refusals().length, 1, 'refused once');
    assert.equal(
      media.events.filter((e) => e.streamId === streamId && e.payload.type !== 'TranscodeRefused').length,
      0,
      'no ladder, no segments',
    );
    const logged = worker.logs.filter((l) => l.msg === 'source refused');
    assert.equal(logged.length, 1, worker.tail());
    assert.equal(logged[0]!.code, 'NO_VIDEO');
    assert.equal(
      worker.logs.filter(
        (l) => l.msg === 'could not start transcoding' || l.msg === 'stream still live; resuming its transcode',
      ).length,
      0,
      worker.tail(),
    );
  });
});
