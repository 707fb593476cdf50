import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { testBus } from '../../tests/support/bus.ts';
import { uniqueName } from '../../tests/support/isolation.ts';
import { waitFor } from '../../tests/support/wait.ts';
import type { EventBus } from '../../platform/kafka/bus.ts';
import type { EventProducer } from '../../platform/kafka/producer.ts';
import { MediaCatalog } from './catalog.ts';
import { MediaCatalogProjection } from './projection.ts';

describe('media catalog projection against real Kafka', () => {
  let bus: EventBus;
  let producer: EventProducer;
  const catalog = new MediaCatalog();
  let projection: MediaCatalogProjection;

  before(async () => {
    bus = testBus('media-catalog');
    await bus.init(['mediaSegments', 'vodRecordings']);
    producer = bus.producer();
    await producer.connect();
    projection = new MediaCatalogProjection(bus, catalog, { groupId: uniqueName('media-catalog') });
    await projection.start();
  });
  after(async () => {
    await projection.stop();
    await producer.disconnect();
  });

  it('folds ladders, thumbnails and VOD recordings per stream', async () => {
    const id = uniqueName('s');
    const envelope = { eventId: randomUUID(), occurredAt: Date.now(), streamId: id, workerId: 'w1' };
    await producer.publish(bus.topic('mediaSegments'), [
      {
        ...envelope,
        payload: {
          type: 'RenditionLadder',
          segmentDurationMs: 2000,
          encoder: 'libx264',
          partTargetMs: 0,
          reason: 'START',
          dropped: [],
          renditions: [
            {
              name: '360p',
              width: 640,
              height: 360,
              frameRate: 30,
              videoBitrate: 700_000,
              audioBitrate: 96_000,
              codecs: 'avc1.64001e,mp4a.40.2',
            },
          ],
        },
      },
      {
        ...envelope,
        eventId: randomUUID(),
        payload: { type: 'ThumbnailReady', uri: 'thumbs/000000.jpg', width: 320, height: 180 },
      },
    ]);
    await producer.publish(bus.topic('vodRecordings'), [
      {
        eventId: randomUUID(),
        occurredAt: Date.now(),
        streamId: id,
        playlistUri: `${id}/vod.m3u8`,
        durationMs: 4000,
        segmentCount: 2,
        startedAt: Date.now() - 4000,
        endedAt: Date.now(),
        ladder: null,
        thumbnail: null,
      },
    ]);
    const got = await waitFor('all three folded', () => {
      const m = catalog.get(id);
      return m?.ladder && m.thumbnail && m.vod ? m : undefined;
    });
    assert.equal(got.ladder?.renditions[0]?.name, '360p');
    assert.equal(got.thumbnail?.uri, 'thumbs/000000.jpg');
    assert.equal(got.vod?.playlistUri, `${id}/vod.m3u8`);
  });

  it('a VOD whose segment events have expired still has its qualities and thumbnail, from VodRecorded', async () => {
    const id = uniqueName('old');
    const ladder = {
      segmentDurationMs: 2000,
      encoder: 'libx264',
      partTargetMs: 0,
      reason: 'START' as const,
      dropped: [],
      renditions: [
        {
          name: '720p',
          width: 1280,
          height: 720,
          frameRate: 30,
          videoBitrate: 3_000_000,
          audioBitrate: 128_000,
          codecs: 'avc1.64001f,mp4a.40.2',
        },
      ],
    };
    // Only the recordings topic speaks of this stream (as after live.media.segments' retention).
    await producer.publish(bus.topic('vodRecordings'), [
      {
        eventId: randomUUID(),
        occurredAt: Date.now(),
        streamId: id,
        playlistUri: `${id}/vod.m3u8`,
        durationMs: 4000,
        segmentCount: 2,
        startedAt: Date.now() - 4000,
        endedAt: Date.now(),
        ladder,
        thumbnail: { uri: 'thumbs/000004.jpg', width: 320, height: 180 },
      },
    ]);
    const got = await waitFor('the VOD folded', () => catalog.get(id));
    assert.deepEqual(JSON.parse(JSON.stringify(got.ladder)), ladder, 'through Avro and back');
    assert.deepEqual({ ...got.thumbnail }, { uri: 'thumbs/000004.jpg', width: 320, height: 180 });
  });
});
