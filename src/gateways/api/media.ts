import type { StreamStatus } from '../../processors/stream-registry/evolve.ts';
import type { StreamMedia } from '../../processors/media-catalog/catalog.ts';

/**
 * The media part of the API's answers (playback URL, qualities, thumbnail), from the media
 * catalog. URLs point at the CDN (the edge caches), under the packager's layout
 * (processors/packager/layout.ts): the live master while a stream is live or ready, its VOD
 * master once it ended recorded.
 */
const base = (url: string): string => url.replace(/\/+$/, '');
const enc = encodeURIComponent;

export function thumbnailUrl(streamId: string, media: StreamMedia | undefined, cdnBaseUrl: string): string | null {
  return media?.thumbnail ? `${base(cdnBaseUrl)}/hls/${enc(streamId)}/${media.thumbnail.uri}` : null;
}

export function playbackMedia(
  stream: { streamId: string; status: StreamStatus },
  media: StreamMedia | undefined,
  cdnBaseUrl: string,
) {
  const cdn = base(cdnBaseUrl);
  const vod = stream.status === 'ended' ? media?.vod : null;
  return {
    hls: vod ? `${cdn}/hls/${vod.playlistUri}` : `${cdn}/hls/${enc(stream.streamId)}/master.m3u8`,
    qualities: (media?.ladder?.renditions ?? []).map((r) => ({
      name: r.name,
      bitrate: r.videoBitrate + r.audioBitrate,
      resolution: `${r.width}x${r.height}`,
      fps: r.frameRate,
    })),
    thumbnail: thumbnailUrl(stream.streamId, media, cdnBaseUrl),
  };
}
