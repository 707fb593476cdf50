import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { MediaEvent, MediaEventPayload } from '../../schemas/generated/events.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { ConsumedEvent } from '../../platform/kafka/consumer.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { CdnPrefetcher } from './prefetcher.ts';

describe('CDN prefetcher', () => {
  let edge: Server;
  const asked: string[] = [];
  const now = 1_800_000_000_000;

  before(async () => {
    edge = createServer((req, res) => {
      asked.push(req.url!);
      res.setHeader('x-cache-status', 'MISS');
      res.end('x');
    });
    await new Promise<void>((resolve) => edge.listen(0, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => edge.close(() => resolve())));

  const record = (payload: MediaEventPayload, occurredAt = now): ConsumedEvent<MediaEvent> => ({
    event: { eventId: 'e', occurredAt, streamId: 's1', workerId: 'w1', payload },
    key: 's1',
    topic: 'live.media.segments',
    partition: 0,
    offset: '0',
    version: '0',
    timestamp: occurredAt,
    headers: {},
  });
  const part = (sequence: number, index: number, initUri: string): MediaEventPayload => ({
    type: 'PartReady',
    rendition: '720p',
    sequence,
    part: index,
    durationMs: 333,
    independent: index === 0,
    uri: `720p/${String(sequence).padStart(6, '0')}.${index}.m4s`,
    initUri,
    bytes: 1000,
    programDateTime: now,
    discontinuity: false,
  });

  it("warms parts and segments as they are announced, and each run's init section once", async () => {
    const prefetcher = new CdnPrefetcher(
      { metrics: new Metrics('prefetch', { defaults: false }) } as unknown as EventBus,
      createLogger('prefetch', 'silent'),
      {
        groupId: 'g',
        edges: [`http://127.0.0.1:${(edge.address() as AddressInfo).port}`],
        timeoutMs: 1000,
        maxAgeMs: 30_000,
        concurrency: 1,
        now: () => now,
      },
    );
    await prefetcher.handle([
      record(part(40, 0, '720p/init-000040.mp4')),
      record(part(40, 1, '720p/init-000040.mp4')),
      record({
        type: 'SegmentReady',
        rendition: '720p',
        sequence: 40,
        durationMs: 2000,
        uri: '720p/000040.m4s',
        bytes: 2000,
        programDateTime: now,
        discontinuity: false,
        initUri: '720p/init-000040.mp4',
      }),
      record(part(41, 0, '720p/init-000040.mp4'), now - 60_000),
    ]);
    // A worker restart: a new run, a new init section.
    await prefetcher.handle([record(part(41, 0, '720p/init-000041.mp4'))]);
    assert.deepEqual(asked, [
      '/hls/s1/720p/init-000040.mp4',
      '/hls/s1/720p/000040.0.m4s',
      '/hls/s1/720p/000040.1.m4s',
      '/hls/s1/720p/000040.m4s',
      '/hls/s1/720p/init-000041.mp4',
      '/hls/s1/720p/000041.0.m4s',
    ]);
  });
});
