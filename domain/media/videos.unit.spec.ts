import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VodRecorded } from '../../schemas/generated/events.ts';
import type { StreamRecord } from '../stream/evolve.ts';
import type { StreamMedia } from './catalog.ts';
import { VideoError } from './video-errors.ts';
import {
  decideVideoDeletion,
  decodeVideoCursor,
  encodeVideoCursor,
  pageOfVideos,
  videoOf,
  type Video,
} from './videos.ts';

const stream = (o: Partial<StreamRecord> = {}): StreamRecord => ({
  streamId: 's1',
  status: 'ended',
  streamerId: 'u1',
  streamerName: 'alice',
  title: 'Speedrun',
  category: 'Gaming',
  tags: ['any%'],
  latencyMode: 'STANDARD',
  recordingEnabled: true,
  chatEnabled: true,
  streamKeyHash: 'h',
  createdAt: 1_000,
  updatedAt: 9_000,
  startedAt: 2_000,
  endedAt: 9_000,
  ...o,
});
const vod: VodRecorded = {
  eventId: 'v',
  occurredAt: 9_500,
  streamId: 's1',
  playlistUri: 's1/vod.m3u8',
  durationMs: 6_980,
  segmentCount: 4,
  startedAt: 2_010,
  endedAt: 8_990,
  ladder: null,
  thumbnail: null,
};
const media = (o: Partial<StreamMedia> = {}): StreamMedia => ({
  ladder: null,
  thumbnail: { uri: 'thumbs/000003.jpg', width: 320, height: 180 },
  vod,
  refusal: null,
  deleted: null,
  ...o,
});

describe('the video library', () => {
  it("a video is an ended stream's VOD, with the stream's title and the broadcast's peak viewers", () => {
    assert.deepEqual(videoOf(stream(), media(), 42), {
      videoId: 's1',
      streamerId: 'u1',
      streamerName: 'alice',
      title: 'Speedrun',
      category: 'Gaming',
      tags: ['any%'],
      durationMs: 6_980,
      startedAt: 2_010,
      endedAt: 8_990,
      recordedAt: 9_500,
      playlistUri: 's1/vod.m3u8',
      thumbnailUri: 'thumbs/000003.jpg',
      peakViewers: 42,
    });
    assert.equal(videoOf(stream(), media({ thumbnail: null }), 0)?.thumbnailUri, null);
  });

  it('no video: unknown stream, not ended, no VOD yet, or deleted', () => {
    assert.equal(videoOf(undefined, media(), 0), undefined);
    assert.equal(videoOf(stream({ status: 'live', endedAt: null }), media(), 0), undefined);
    assert.equal(videoOf(stream(), undefined, 0), undefined);
    assert.equal(videoOf(stream(), media({ vod: null }), 0), undefined);
    const deleted = { eventId: 'd', occurredAt: 1, streamId: 's1', streamerId: 'u1', deletedBy: 'u1' };
    assert.equal(videoOf(stream(), media({ deleted }), 0), undefined);
  });

  describe('pages', () => {
    const video = (videoId: string, startedAt: number): Video => ({
      ...videoOf(stream(), media(), 0)!,
      videoId,
      startedAt,
    });
    const all = [video('a', 100), video('b', 300), video('c', 200), video('d', 300), video('e', 50)];
    const ids = (vs: Video[]) => vs.map((v) => v.videoId);

    it('newest first, ties by id; the next cursor only when more remain', () => {
      const first = pageOfVideos(all, null, 2);
      assert.deepEqual(ids(first.videos), ['d', 'b']);
      assert.deepEqual(first.next, { startedAt: 300, videoId: 'b' });
      const second = pageOfVideos(all, first.next, 2);
      assert.deepEqual(ids(second.videos), ['c', 'a']);
      const third = pageOfVideos(all, second.next, 2);
      assert.deepEqual([ids(third.videos), third.next], [['e'], null]);
      assert.deepEqual(pageOfVideos(all, null, 5).next, null, 'exactly one full page');
      assert.deepEqual(pageOfVideos([], null, 5), { videos: [], next: null });
    });

    it('a video deleted between pages shifts nothing else', () => {
      const first = pageOfVideos(all, null, 2);
      const rest = pageOfVideos(
        all.filter((v) => v.videoId !== 'd' && v.videoId !== 'c'),
        first.next,
        2,
      );
      assert.deepEqual(ids(rest.videos), ['a', 'e']);
    });

    it('cursors round-trip; anything the API did not issue is refused', () => {
      const c = { startedAt: 1_795_600_019_500, videoId: 'stream_abc:1' };
      assert.deepEqual(decodeVideoCursor(encodeVideoCursor(c)), c);
      for (const bad of [
        '',
        'x',
        Buffer.from('nope').toString('base64url'),
        'MTIz=',
        Buffer.from('12:').toString('base64url'),
      ])
        assert.equal(decodeVideoCursor(bad), null, bad);
    });
  });

  describe('deleting', () => {
    const made = { eventId: 'e1', now: 50_000 };

    it('given the video, when its owner deletes it, then VodDeleted', () => {
      assert.deepEqual(decideVideoDeletion('s1', videoOf(stream(), media(), 0), 'u1', made), {
        eventId: 'e1',
        occurredAt: 50_000,
        streamId: 's1',
        streamerId: 'u1',
        deletedBy: 'u1',
      });
    });

    it('someone else may not (not_video_owner); no video is video_not_found, for anyone', () => {
      const refused = (f: () => unknown, code: string) =>
        assert.throws(f, (err: unknown) => err instanceof VideoError && err.code === code);
      refused(() => decideVideoDeletion('s1', videoOf(stream(), media(), 0), 'u2', made), 'not_video_owner');
      refused(() => decideVideoDeletion('s9', undefined, 'u1', made), 'video_not_found');
    });
  });
});
