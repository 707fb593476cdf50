import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MediaEventPayload, VodDeleted, VodRecorded } from '../../schemas/generated/events.ts';
import { playbackMedia } from './playback.ts';
import { MediaCatalog } from './catalog.ts';

const media = (payload: MediaEventPayload) => ({
  eventId: 'e',
  occurredAt: 0,
  streamId: 's1',
  workerId: 'w1',
  payload,
});
const ladder = (names: string[]) =>
  media({
    type: 'RenditionLadder',
    segmentDurationMs: 2000,
    encoder: 'libx264',
    partTargetMs: 0,
    reason: 'START',
    dropped: [],
    renditions: names.map((name) => ({
      name,
      width: 1280,
      height: 720,
      frameRate: 30,
      videoBitrate: 3_000_000,
      audioBitrate: 128_000,
      codecs: 'avc1.64001f,mp4a.40.2',
    })),
  });
const thumb = (uri: string) => media({ type: 'ThumbnailReady', uri, width: 320, height: 180 });
const vod: VodRecorded = {
  eventId: 'v',
  occurredAt: 0,
  streamId: 's1',
  playlistUri: 's1/vod.m3u8',
  durationMs: 10_000,
  segmentCount: 5,
  startedAt: 0,
  endedAt: 10_000,
  ladder: null,
  thumbnail: null,
};
const CDN = 'https://cdn.example.com/';

describe('media catalog and the playback answer built from it', () => {
  it('keeps the newest ladder and thumbnail; redeliveries change nothing', () => {
    const c = new MediaCatalog();
    c.applyMedia(ladder(['720p']), 1);
    c.applyMedia(thumb('thumbs/000001.jpg'), 2);
    c.applyMedia(ladder(['720p', '360p']), 3);
    c.applyMedia(thumb('thumbs/000002.jpg'), 4);
    c.applyMedia(thumb('thumbs/000001.jpg'), 2);
    assert.deepEqual(
      c.get('s1')?.ladder?.renditions.map((r) => r.name),
      ['720p', '360p'],
    );
    assert.equal(c.get('s1')?.thumbnail?.uri, 'thumbs/000002.jpg');
    assert.equal(c.get('s2'), undefined);
  });

  it('a live stream plays its master through the CDN, with its ladder as qualities and its thumbnail', () => {
    const c = new MediaCatalog();
    c.applyMedia(ladder(['720p']), 1);
    c.applyMedia(thumb('thumbs/000007.jpg'), 2);
    assert.deepEqual(playbackMedia({ streamId: 's1', status: 'live', recordingEnabled: true }, c.get('s1'), CDN), {
      hls: 'https://cdn.example.com/hls/s1/master.m3u8',
      dvr: 'https://cdn.example.com/hls/s1/dvr.m3u8',
      qualities: [{ name: '720p', bitrate: 3_128_000, resolution: '1280x720', fps: 30 }],
      thumbnail: 'https://cdn.example.com/hls/s1/thumbs/000007.jpg',
      media_error: null,
    });
    assert.deepEqual(playbackMedia({ streamId: 's1', status: 'ready', recordingEnabled: true }, undefined, CDN), {
      hls: 'https://cdn.example.com/hls/s1/master.m3u8',
      dvr: null,
      qualities: [],
      thumbnail: null,
      media_error: null,
    });
  });

  it('an ended, recorded stream plays its VOD', () => {
    const c = new MediaCatalog();
    c.applyVod(vod, 0);
    assert.equal(
      playbackMedia({ streamId: 's1', status: 'ended', recordingEnabled: true }, c.get('s1'), CDN).hls,
      'https://cdn.example.com/hls/s1/vod.m3u8',
    );
    assert.equal(
      playbackMedia({ streamId: 's1', status: 'live', recordingEnabled: true }, c.get('s1'), CDN).hls,
      'https://cdn.example.com/hls/s1/master.m3u8',
    );
  });

  it("the ladder and thumbnail of live.media.segments come first; a VOD's own stand in once those expired", () => {
    const fromVod = {
      ...vod,
      ladder: {
        renditions: [],
        segmentDurationMs: 2000,
        encoder: 'libx264',
        partTargetMs: 0,
        reason: 'START' as const,
        dropped: [],
      },
      thumbnail: { uri: 'thumbs/000009.jpg', width: 320, height: 180 },
    };
    const expired = new MediaCatalog();
    expired.applyVod(fromVod, 0);
    assert.deepEqual(expired.get('s1'), {
      ladder: fromVod.ladder,
      thumbnail: fromVod.thumbnail,
      vod: fromVod,
      refusal: null,
      deleted: null,
    });
    const both = new MediaCatalog();
    both.applyMedia(ladder(['720p']), 1);
    both.applyMedia(thumb('thumbs/000007.jpg'), 2);
    both.applyVod(fromVod, 0);
    assert.deepEqual(
      both.get('s1')?.ladder?.renditions.map((r) => r.name),
      ['720p'],
    );
    assert.equal(both.get('s1')?.thumbnail?.uri, 'thumbs/000007.jpg');
  });

  it('an ended stream that was not recorded has nothing to play and no thumbnail (its media is deleted)', () => {
    const c = new MediaCatalog();
    c.applyMedia(ladder(['720p']), 1);
    c.applyMedia(thumb('thumbs/000007.jpg'), 2);
    const unrecorded = { streamId: 's1', recordingEnabled: false };
    assert.deepEqual(playbackMedia({ ...unrecorded, status: 'ended' }, c.get('s1'), CDN), {
      hls: null,
      dvr: null,
      qualities: [{ name: '720p', bitrate: 3_128_000, resolution: '1280x720', fps: 30 }],
      thumbnail: null,
      media_error: null,
    });
    assert.equal(
      playbackMedia({ ...unrecorded, status: 'live' }, c.get('s1'), CDN).thumbnail,
      'https://cdn.example.com/hls/s1/thumbs/000007.jpg',
      'while live it plays like any other',
    );
  });

  it("keeps the newest refusal as the playback answer's media_error until a later ladder clears it", () => {
    const c = new MediaCatalog();
    const refused = (code: 'NO_VIDEO' | 'OVER_LIMITS', reason: string) =>
      media({ type: 'TranscodeRefused', code, reason });
    const live = { streamId: 's1', status: 'live' as const, recordingEnabled: true };
    c.applyMedia(refused('NO_VIDEO', 'the broadcast has no video: the source carries only audio (aac)'), 1);
    assert.deepEqual(playbackMedia(live, c.get('s1'), CDN), {
      hls: 'https://cdn.example.com/hls/s1/master.m3u8',
      dvr: 'https://cdn.example.com/hls/s1/dvr.m3u8',
      qualities: [],
      thumbnail: null,
      media_error: { code: 'NO_VIDEO', reason: 'the broadcast has no video: the source carries only audio (aac)' },
    });
    c.applyMedia(refused('OVER_LIMITS', 'the broadcast is above the frame rate limit: 240 fps, at most 120'), 2);
    assert.equal(c.get('s1')?.refusal?.code, 'OVER_LIMITS', 'the newest refusal');
    c.applyMedia(ladder(['720p']), 3);
    assert.equal(c.get('s1')?.refusal, null, 'a later run took a source');
    assert.equal(playbackMedia(live, c.get('s1'), CDN).media_error, null);
    c.applyMedia(refused('NO_VIDEO', 'redelivered'), 1);
    assert.equal(c.get('s1')?.refusal, null, 'a redelivered refusal does not come back');
  });

  describe('a deleted recording', () => {
    const deletion: VodDeleted = {
      eventId: 'd',
      occurredAt: 20_000,
      streamId: 's1',
      streamerId: 'u1',
      deletedBy: 'u1',
    };
    const ended = { streamId: 's1', status: 'ended' as const, recordingEnabled: true };

    it('offers nothing to play and no thumbnail once deleted', () => {
      const c = new MediaCatalog();
      c.applyMedia(thumb('thumbs/000001.jpg'), 0);
      c.applyVod(vod, 0);
      assert.equal(playbackMedia(ended, c.get('s1'), CDN).hls, 'https://cdn.example.com/hls/s1/vod.m3u8');
      c.applyVodDeleted(deletion, 0);
      assert.deepEqual(c.get('s1'), { ladder: null, thumbnail: null, vod: null, refusal: null, deleted: deletion });
      const m = playbackMedia(ended, c.get('s1'), CDN);
      assert.deepEqual([m.hls, m.thumbnail, m.qualities], [null, null, []]);
    });

    it('stays deleted whatever VodRecorded comes after (another topic, a redelivery, a packager rebuild)', () => {
      const c = new MediaCatalog();
      c.applyVodDeleted(deletion, 0);
      c.applyVod(vod, 0);
      c.applyVod({ ...vod, eventId: 'again' }, 1);
      assert.equal(c.get('s1')?.vod, null);
      assert.equal(playbackMedia(ended, c.get('s1'), CDN).hls, null);
      c.applyVodDeleted({ ...deletion, eventId: 'd2', occurredAt: 30_000 }, 1);
      assert.equal(c.get('s1')?.deleted?.eventId, 'd', 'the first deletion stands');
    });

    it('whenApplied resolves true once the deletion is applied, and false on timeout', async () => {
      const c = new MediaCatalog();
      const seen = c.whenApplied('d', 10_000);
      c.applyVodDeleted(deletion, 0);
      assert.equal(await seen, true);
      assert.equal(await c.whenApplied('other', 5), false);
    });
  });
});
