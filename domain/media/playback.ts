import type { StreamStatus } from '../stream/evolve.ts';
import type { StreamMedia } from './catalog.ts';

/**
 * The media part of the API's answers (playback URL, qualities, thumbnail, why the worker refused
 * the source), from the media
 * catalog. URLs point at the CDN (the edge caches), under the packager's layout
 * (processors/packager/layout.ts): the live master while a stream is live or ready, its VOD
 * master once it ended recorded. An ended stream that was not recorded has nothing to play and
 * no thumbnail: the packager deletes its media (processors/packager/retention.ts).
 */
const base = (url: string): string => url.replace(/\/+$/, '');
const enc = encodeURIComponent;

type StreamRef = { streamId: string; status: StreamStatus; recordingEnabled: boolean };

const gone = (s: StreamRef): boolean => s.status === 'ended' && !s.recordingEnabled;

export function thumbnailUrl(stream: StreamRef | undefined, media: StreamMedia | undefined, cdnBaseUrl: string) {
  if (!stream || gone(stream) || !media?.thumbnail) return null;
  return `${base(cdnBaseUrl)}/hls/${enc(stream.streamId)}/${media.thumbnail.uri}`;
}

export function playbackMedia(stream: StreamRef, media: StreamMedia | undefined, cdnBaseUrl: string) {
  const cdn = base(cdnBaseUrl);
  const vod = stream.status === 'ended' ? media?.vod : null;
  const live = `${cdn}/hls/${enc(stream.streamId)}/master.m3u8`;
  return {
    hls: vod ? `${cdn}/hls/${vod.playlistUri}` : gone(stream) ? null : live,
    // Rewind while live: the packager's DVR master (PACKAGER_DVR_WINDOW_S back; none when it is 0).
    dvr: stream.status === 'live' ? `${cdn}/hls/${enc(stream.streamId)}/dvr.m3u8` : null,
    qualities: (media?.ladder?.renditions ?? []).map((r) => ({
      name: r.name,
      bitrate: r.videoBitrate + r.audioBitrate,
      resolution: `${r.width}x${r.height}`,
      fps: r.frameRate,
    })),
    thumbnail: thumbnailUrl(stream, media, cdnBaseUrl),
    // Why there are no qualities: the media worker refused the source (until it takes a later one).
    media_error: media?.refusal ? { code: media.refusal.code, reason: media.refusal.reason } : null,
  };
}
