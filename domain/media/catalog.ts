import { AppliedWaiters } from '../../platform/applied-waiters.ts';
import type {
  MediaEvent,
  RenditionLadder,
  ThumbnailReady,
  TranscodeRefused,
  VodDeleted,
  VodRecorded,
} from '../../schemas/generated/events.ts';

/**
 * What the API tells players about a stream's media, per stream: the newest rendition ladder,
 * the newest thumbnail, the newest VOD recording and why the worker refused the source, if it did. In memory, folded from live.media.segments,
 * live.vod.recordings and live.vod.deletions (SegmentReady is not kept: the playlists carry the
 * segments). No I/O. Offsets guard each source against redelivery, as in the stream registry.
 *
 * A deletion is final: once a VodDeleted is applied, the stream has no VOD, thumbnail or ladder
 * whatever VodRecorded comes before or after it (the topics are read independently, and a
 * packager rebuild may announce the recording again), so a replay never brings a video back.
 */
export interface StreamMedia {
  ladder: RenditionLadder | null;
  thumbnail: ThumbnailReady | null;
  vod: VodRecorded | null;
  /** The newest TranscodeRefused, until a later RenditionLadder (a source the worker took) clears it. */
  refusal: TranscodeRefused | null;
  /** The streamer deleted the recording: nothing of it is offered any more. */
  deleted: VodDeleted | null;
}

export class MediaCatalog {
  private readonly streams = new Map<
    string,
    StreamMedia & { mediaOffset: number; vodOffset: number; deletionOffset: number }
  >();
  private readonly waiters = new AppliedWaiters();

  /**
   * The VOD's own ladder and thumbnail stand in for those of live.media.segments, whose events
   * expire days after a broadcast while its VOD is kept.
   */
  get(streamId: string): StreamMedia | undefined {
    const e = this.streams.get(streamId);
    if (!e) return undefined;
    if (e.deleted) return { ladder: null, thumbnail: null, vod: null, refusal: null, deleted: e.deleted };
    return {
      ladder: e.ladder ?? e.vod?.ladder ?? null,
      thumbnail: e.thumbnail ?? e.vod?.thumbnail ?? null,
      vod: e.vod,
      refusal: e.refusal,
      deleted: null,
    };
  }

  private entry(streamId: string) {
    let e = this.streams.get(streamId);
    if (!e) {
      e = {
        ladder: null,
        thumbnail: null,
        vod: null,
        refusal: null,
        deleted: null,
        mediaOffset: -1,
        vodOffset: -1,
        deletionOffset: -1,
      };
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

  /** The first deletion of a stream stands; a later one (a second request that raced it) changes nothing. */
  applyVodDeleted(event: VodDeleted, offset: number): void {
    const e = this.entry(event.streamId);
    if (offset > e.deletionOffset) {
      e.deletionOffset = offset;
      e.deleted ??= event;
    }
    this.waiters.applied(event.eventId);
  }

  /**
   * Read-your-writes, as the stream registry's: resolves true once this instance has applied the
   * deletion, false if not within `timeoutMs`. Call it before publishing.
   */
  whenApplied(eventId: string, timeoutMs: number): Promise<boolean> {
    return this.waiters.whenApplied(eventId, timeoutMs);
  }
}
