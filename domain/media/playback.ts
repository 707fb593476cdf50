import type { StreamStatus } from '../stream/evolve.ts';
import type { StreamMedia } from './catalog.ts';

/**
 * The media part of the API's answers (playback URL, qualities, thumbnail, why the worker refused
 * the source), from the media
 * catalog. URLs point at the CDN (the edge caches), under the packager's layout
 * (processors/packager/layout.ts): the live master while a stream is live or ready, its VOD
 * master once it ended recorded. An ended stream that was not recorded, or whose recording its
 * streamer deleted, has nothing to play and no thumbnail: the packager deletes its media
 * (processors/packager/retention.ts).
 */
const base = (url: string): string => url.replace(/\/+$/, '');
const enc = encodeURIComponent;

type StreamRef = { streamId: string; status: StreamStatus; recordingEnabled: boolean };

const gone = (s: StreamRef, media: StreamMedia | undefined): boolean =>
  s.status === 'ended' && (!s.recordingEnabled || Boolean(media?.deleted));

/** A thumbnail through the CDN: its uri is relative to the stream's folder (ThumbnailReady). */
export const cdnThumbnailUrl = (cdnBaseUrl: string, streamId: string, uri: string): string =>
  `${base(cdnBaseUrl)}/hls/${enc(streamId)}/${uri}`;

/** A VOD's master through the CDN: its uri is relative to the origin root (VodRecorded). */
export const cdnVodUrl = (cdnBaseUrl: string, playlistUri: string): string => `${base(cdnBaseUrl)}/hls/${playlistUri}`;

export function thumbnailUrl(stream: StreamRef | undefined, media: StreamMedia | undefined, cdnBaseUrl: string) {
  if (!stream || gone(stream, media) || !media?.thumbnail) return null;
  return cdnThumbnailUrl(cdnBaseUrl, stream.streamId, media.thumbnail.uri);
}

export function playbackMedia(stream: StreamRef, media: StreamMedia | undefined, cdnBaseUrl: string) {
  const cdn = base(cdnBaseUrl);
  const vod = stream.status === 'ended' ? media?.vod : null;
  const live = `${cdn}/hls/${enc(stream.streamId)}/master.m3u8`;
  return {
    hls: vod ? cdnVodUrl(cdnBaseUrl, vod.playlistUri) : gone(stream, media) ? null : live,
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
