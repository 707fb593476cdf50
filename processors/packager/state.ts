import type {
  MediaEvent,
  RenditionLadder,
  StreamLifecycleEvent,
  ThumbnailReady,
} from '../../schemas/generated/events.ts';
import { roundedSeconds, type SegmentEntry } from './playlists.ts';

/**
 * The packager's state for one stream, folded from live.media.segments and
 * live.stream.lifecycle alone (pure). The full recording is not held here: every admitted segment
 * is an effect (`record`) the shell appends to the stream's journal, read back once for the VOD.
 *
 * Offsets guard against redelivery: one stream's events share one partition per topic, so an
 * offset at or below the last applied one for that source was applied already.
 */
export interface Track {
  /** The newest segments (at most the window size), oldest first. */
  window: SegmentEntry[];
  /** EXT-X-DISCONTINUITY-SEQUENCE of the window: discontinuities that left it. */
  discontinuitySequence: number;
  /** Only grows: a live playlist's target duration must not shrink between reloads. */
  targetDurationS: number;
  /** Highest sequence admitted, -1 for none. */
  lastSequence: number;
  /** Segments admitted so far (the recording's length). */
  segments: number;
}

export type PackageStatus = 'unknown' | 'ready' | 'live' | 'ended';

export interface StreamPackage {
  streamId: string;
  ladder: RenditionLadder | null;
  /** The newest ThumbnailReady: VodRecorded carries it past the segments topic's retention. */
  thumbnail: ThumbnailReady | null;
  tracks: Record<string, Track>;
  /** From StreamCreated; the schema's default (true) until it is known. */
  recording: boolean;
  status: PackageStatus;
  startedAt: number | null;
  endedAt: number | null;
  /** First segment's wall clock: the start of a recording whose StreamWentLive was not seen. */
  firstSegmentAt: number | null;
  mediaOffset: number;
  lifecycleOffset: number;
}

export type PackagerInput =
  | { source: 'media'; offset: number; event: MediaEvent }
  | { source: 'lifecycle'; offset: number; event: StreamLifecycleEvent };

/** What the shell must do after an input: append, rewrite, finalize. */
export interface Effects {
  /** Segments to append to their rendition's journal, in order. */
  record: Array<{ rendition: string; segment: SegmentEntry }>;
  /** Renditions whose live playlist changed. */
  media: Set<string>;
  master: boolean;
  /** Write (or rewrite) the VOD playlists and announce them. */
  vod: boolean;
}

export const noEffects = (): Effects => ({ record: [], media: new Set(), master: false, vod: false });

export function emptyPackage(streamId: string): StreamPackage {
  return {
    streamId,
    ladder: null,
    thumbnail: null,
    tracks: {},
    recording: true,
    status: 'unknown',
    startedAt: null,
    endedAt: null,
    firstSegmentAt: null,
    mediaOffset: -1,
    lifecycleOffset: -1,
  };
}

const emptyTrack = (targetDurationS: number): Track => ({
  window: [],
  discontinuitySequence: 0,
  targetDurationS,
  lastSequence: -1,
  segments: 0,
});

/** Renditions the live master lists: the ladder's, once each has a segment to play. */
export const playableRenditions = (p: StreamPackage) =>
  (p.ladder?.renditions ?? []).filter((r) => (p.tracks[r.name]?.segments ?? 0) > 0);

/** Applies one input to the state; `effects` collects what changed (merged over a chunk). */
export function apply(
  state: StreamPackage | undefined,
  input: PackagerInput,
  windowSize: number,
  effects: Effects,
): StreamPackage {
  const p = state ?? emptyPackage(input.event.streamId);
  if (input.source === 'media') {
    if (input.offset <= p.mediaOffset) return p;
    return applyMedia({ ...p, mediaOffset: input.offset }, input.event, windowSize, effects);
  }
  if (input.offset <= p.lifecycleOffset) return p;
  return applyLifecycle({ ...p, lifecycleOffset: input.offset }, input.event, effects);
}

function applyMedia(p: StreamPackage, event: MediaEvent, windowSize: number, effects: Effects): StreamPackage {
  const e = event.payload;
  switch (e.type) {
    case 'RenditionLadder': {
      effects.master = true;
      return {
        ...p,
        ladder: {
          renditions: e.renditions,
          segmentDurationMs: e.segmentDurationMs,
          encoder: e.encoder,
          partTargetMs: e.partTargetMs,
        },
      };
    }
    case 'SegmentReady': {
      const track = p.tracks[e.rendition] ?? emptyTrack(roundedSeconds(p.ladder?.segmentDurationMs ?? e.durationMs));
      // An old sequence is a repeat (a worker resending after a crash): the first copy stands.
      if (e.sequence <= track.lastSequence) return p;
      const segment: SegmentEntry = {
        sequence: e.sequence,
        durationMs: e.durationMs,
        uri: e.uri,
        programDateTime: e.programDateTime,
        discontinuity: e.discontinuity,
      };
      // Listed segments must be consecutive: after a skipped sequence the window starts afresh.
      const contiguous = track.lastSequence < 0 || e.sequence === track.lastSequence + 1;
      const kept = contiguous ? track.window : [];
      const all = [...kept, segment];
      const gone = [...(contiguous ? [] : track.window), ...all.slice(0, Math.max(0, all.length - windowSize))];
      const next: Track = {
        window: all.slice(-windowSize),
        discontinuitySequence: track.discontinuitySequence + gone.filter((s) => s.discontinuity).length,
        targetDurationS: Math.max(track.targetDurationS, roundedSeconds(e.durationMs)),
        lastSequence: e.sequence,
        segments: track.segments + 1,
      };
      effects.record.push({ rendition: e.rendition, segment });
      effects.media.add(e.rendition);
      if (track.segments === 0) effects.master = true;
      if (p.status === 'ended' && p.recording) effects.vod = true;
      return {
        ...p,
        tracks: { ...p.tracks, [e.rendition]: next },
        firstSegmentAt: p.firstSegmentAt ?? e.programDateTime,
      };
    }
    case 'PartReady':
      // Listed by the LL-HLS packager (issue #20); until then the segment alone is listed.
      return p;
    case 'ThumbnailReady':
      return { ...p, thumbnail: { uri: e.uri, width: e.width, height: e.height } };
    default: {
      const _exhaustive: never = e;
      return _exhaustive;
    }
  }
}

/**
 * Deliberately not the registry's evolve (domain/stream/evolve.ts), which ignores a stream until
 * its StreamCreated: the packager's state also folds the segments topic and is saved to disk
 * with it, so it starts 'unknown' (segments can come first) and still ends, with ENDLIST, a
 * stream whose StreamCreated it never read.
 */
function applyLifecycle(p: StreamPackage, event: StreamLifecycleEvent, effects: Effects): StreamPackage {
  const e = event.payload;
  switch (e.type) {
    case 'StreamCreated':
      return p.status === 'unknown' ? { ...p, status: 'ready', recording: e.recordingEnabled } : p;
    case 'StreamUpdated':
      return p;
    case 'StreamWentLive':
      return p.status === 'ended' ? p : { ...p, status: 'live', startedAt: e.startedAt };
    case 'StreamEnded': {
      if (p.status === 'ended') return p;
      // The live playlists get ENDLIST, so players stop reloading them.
      for (const name of Object.keys(p.tracks)) effects.media.add(name);
      if (p.recording) effects.vod = true;
      return { ...p, status: 'ended', endedAt: event.occurredAt };
    }
    default: {
      const _exhaustive: never = e;
      return _exhaustive;
    }
  }
}
