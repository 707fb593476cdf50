import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CACHE_POLICY, cacheControl, mediaAddress, resolveMediaPath } from './hls-paths.ts';

describe('origin paths', () => {
  it('maps each media URL to its kind and file', () => {
    const cases: Array<[string, string, string]> = [
      ['/hls/s1/master.m3u8', 'master', 'master.m3u8'],
      ['/hls/s1/720p.m3u8', 'playlist', '720p.m3u8'],
      ['/hls/s1/vod.m3u8', 'vod', 'vod.m3u8'],
      ['/hls/s1/720p.vod.m3u8', 'vod', '720p.vod.m3u8'],
      ['/hls/s1/dvr.m3u8', 'master', 'dvr.m3u8'],
      ['/hls/s1/720p.dvr.m3u8', 'playlist', '720p.dvr.m3u8'],
      ['/hls/s1/720p/000042.ts', 'segment', '720p/000042.ts'],
      ['/hls/s1/thumbs/000003.jpg', 'thumbnail', 'thumbs/000003.jpg'],
    ];
    for (const [path, kind, file] of cases) {
      assert.deepEqual(resolveMediaPath(path), { ok: true, kind, streamId: 's1', file }, path);
    }
  });

  it('places a segment or part in its rendition by its name', () => {
    assert.deepEqual(mediaAddress('720p/000043.2.m4s'), { rendition: '720p', msn: 43, part: 2 });
    assert.deepEqual(mediaAddress('720p/000043.m4s'), { rendition: '720p', msn: 43, part: null });
    assert.deepEqual(mediaAddress('360p/1000000.ts'), { rendition: '360p', msn: 1_000_000, part: null });
    for (const file of ['000043.m4s', '720p/init-000040.mp4', '720p/seg.m4s', 'thumbs/000001.jpg', '720p.m3u8']) {
      assert.equal(mediaAddress(file), null, file);
    }
  });

  it('refuses every spelling of a way out of the stream folders', () => {
    for (const path of [
      '/hls/s1/../../etc/passwd',
      '/hls/s1/%2e%2e/%2e%2e/etc/passwd.ts',
      '/hls/s1/%2E%2E%2Fs2/master.m3u8',
      '/hls/..%2f..%2fetc/passwd.m3u8',
      '/hls/s1/720p%2f000001.ts',
      '/hls/s1/..\\..\\x.ts',
      '/hls/s1//720p.m3u8',
      '/hls/s1/.packager/state.json',
      '/hls/s1/./master.m3u8',
    ]) {
      const r = resolveMediaPath(path);
      assert.equal(r.ok, false, path);
    }
    assert.deepEqual(resolveMediaPath('/hls/s1/%2e%2e/x.ts'), { ok: false, status: 400, reason: 'malformed path' });
  });

  it('answers 404 for anything that is not a media file name', () => {
    for (const path of ['/', '/hls/s1', '/hls/s1/state.json', '/hls/s1/a/b/c.ts', '/etc/passwd', '/hls/s1/x.mp4']) {
      assert.deepEqual(resolveMediaPath(path), { ok: false, status: 404, reason: 'no such media' }, path);
    }
  });

  it('segments are immutable, playlists short-lived and revalidated', () => {
    assert.equal(cacheControl('segment', DEFAULT_CACHE_POLICY), 'public, max-age=31536000, immutable');
    assert.equal(cacheControl('playlist', DEFAULT_CACHE_POLICY), 'public, max-age=1, must-revalidate');
    assert.equal(cacheControl('master', DEFAULT_CACHE_POLICY), 'public, max-age=2, must-revalidate');
    assert.equal(cacheControl('vod', DEFAULT_CACHE_POLICY), 'public, max-age=86400');
    // A VOD just written may still grow (segments announced after the end): revalidated meanwhile.
    assert.equal(cacheControl('vod', DEFAULT_CACHE_POLICY, 5_000), 'public, max-age=1, must-revalidate');
    assert.equal(cacheControl('vod', DEFAULT_CACHE_POLICY, 301_000), 'public, max-age=86400');
  });
});
