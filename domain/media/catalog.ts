import type {
  MediaEvent,
  RenditionLadder,
  ThumbnailReady,
  TranscodeRefused,
  VodRecorded,
} from '../../schemas/generated/events.ts';

/**
 * What the API tells players about a stream's media, per stream: the newest rendition ladder,
 * the newest thumbnail, the newest VOD recording and why the worker refused the source, if it did. In memory, folded from live.media.segments
 * and live.vod.recordings (SegmentReady is not kept: the playlists carry the segments). No I/O.
 * Offsets guard each source against redelivery, as in the stream registry.
 */
export interface StreamMedia {
  ladder: RenditionLadder | null;
  thumbnail: ThumbnailReady | null;
  vod: VodRecorded | null;
  /** The newest TranscodeRefused, until a later RenditionLadder (a source the worker took) clears it. */
  refusal: TranscodeRefused | null;
}

export class MediaCatalog {
  private readonly streams = new Map<string, StreamMedia & { mediaOffset: number; vodOffset: number }>();

  /**
   * The VOD's own ladder and thumbnail stand in for those of live.media.segments, whose events
   * expire days after a broadcast while its VOD is kept.
   */
  get(streamId: string): StreamMedia | undefined {
    const e = this.streams.get(streamId);
    if (!e) return undefined;
    return {
      ladder: e.ladder ?? e.vod?.ladder ?? null,
      thumbnail: e.thumbnail ?? e.vod?.thumbnail ?? null,
      vod: e.vod,
      refusal: e.refusal,
    };
  }

  private entry(streamId: string) {
    let e = this.streams.get(streamId);
    if (!e) {
      e = { ladder: null, thumbnail: null, vod: null, refusal: null, mediaOffset: -1, vodOffset: -1 };
      this.streams.set(streamId, e);
    }
    return e;
  }

  applyMedia(event: MediaEvent, offset: number): void {
    const p = event.payload;
    if (p.type === 'SegmentReady' || p.type === 'PartReady') return;
    const e = this.entry(event.streamId);
    if (offset <= e.mediaOffset) return;
    e.mediaOffset = offset;
    switch (p.type) {
      case 'RenditionLadder':
        e.ladder = {
          renditions: p.renditions,
          segmentDurationMs: p.segmentDurationMs,
          encoder: p.encoder,
          partTargetMs: p.partTargetMs,
          reason: p.reason,
          dropped: p.dropped,
        };
        e.refusal = null;
        return;
      case 'ThumbnailReady':
        e.thumbnail = { uri: p.uri, width: p.width, height: p.height };
        return;
      case 'TranscodeRefused':
        e.refusal = { code: p.code, reason: p.reason };
        return;
      default: {
        const _exhaustive: never = p;
        return _exhaustive;
      }
    }
  }

  applyVod(event: VodRecorded, offset: number): void {
    const e = this.entry(event.streamId);
    if (offset <= e.vodOffset) return;
    e.vodOffset = offset;
    e.vod = event;
  }
}
