import type {
  MediaEvent,
  PartReady,
  RenditionLadder,
  StreamLifecycleEvent,
  ThumbnailReady,
  VodDeleted,
} from '../../schemas/generated/events.ts';
import { partsFrom, roundedSeconds, type PartEntry, type SegmentEntry } from './playlists.ts';

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
  /** LL-HLS parts of the window's newest segments, those a playlist lists (`partsFrom`). Never journaled. */
  parts: PartEntry[];
  /**
   * Parts of the segment in progress (after lastSequence), consecutive from part 0. When they
   * cannot all be listed (one longer than the part target, or after a gap), the segment's parts are
   * dropped and the segment is listed whole once complete.
   */
  pending: PartEntry[];
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
  /**
   * When its streamer deleted the recording (the first VodDeleted's occurredAt): from then on no
   * VOD is written or announced again, and the retention removes the media after its grace period.
   */
  deletedAt: number | null;
  deletionOffset: number;
}

export type PackagerInput =
  | { source: 'media'; offset: number; event: MediaEvent }
  | { source: 'lifecycle'; offset: number; event: StreamLifecycleEvent }
  | { source: 'deletion'; offset: number; event: VodDeleted };

/** What the shell must do after an input: append, rewrite, finalize. */
export interface Effects {
  /** Segments to append to their rendition's journal, in order. */
  record: Array<{ rendition: string; segment: SegmentEntry }>;
  /** Parts admitted (the listed-delay histogram). */
  parts: Array<{ rendition: string; part: PartEntry }>;
  /** Renditions whose live playlist changed. */
  media: Set<string>;
  master: boolean;
  /** Write (or rewrite) the VOD playlists and announce them. */
  vod: boolean;
}

export const noEffects = (): Effects => ({ record: [], parts: [], media: new Set(), master: false, vod: false });

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
    deletedAt: null,
    deletionOffset: -1,
  };
}

const emptyTrack = (targetDurationS: number): Track => ({
  window: [],
  discontinuitySequence: 0,
  targetDurationS,
  lastSequence: -1,
  segments: 0,
  parts: [],
  pending: [],
});

/** A state saved before a field existed gets the field's empty value. */
export function restored(streamId: string, saved: StreamPackage | undefined): StreamPackage | undefined {
  if (!saved) return undefined;
  const tracks = Object.entries(saved.tracks).map(([name, t]) => [name, { ...emptyTrack(t.targetDurationS), ...t }]);
  return { ...emptyPackage(streamId), ...saved, tracks: Object.fromEntries(tracks) as Record<string, Track> };
}

/** What EXT-X-RENDITION-REPORT says of a rendition: its newest part, or its newest segment when that has none. */
export function newestPart(t: Track): { msn: number; part: number | null } | null {
  const last = t.pending[t.pending.length - 1] ?? t.parts[t.parts.length - 1];
  if (last && last.sequence >= t.lastSequence) return { msn: last.sequence, part: last.part };
  return t.lastSequence >= 0 ? { msn: t.lastSequence, part: null } : null;
}

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
  if (input.source === 'deletion') {
    if (input.offset <= p.deletionOffset) return p;
    // The first deletion stands; no effect now: the retention's sweep removes the media later.
    return { ...p, deletionOffset: input.offset, deletedAt: p.deletedAt ?? input.event.occurredAt };
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
          reason: e.reason,
          dropped: e.dropped,
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
        initUri: e.initUri,
      };
      // Parts of another sequence belong to a segment that will never complete (its run ended).
      const orphan = track.pending[0]?.sequence === e.sequence ? [] : track.pending;
      // Listed segments must be consecutive: after a skipped sequence the window starts afresh.
      const contiguous = track.lastSequence < 0 || e.sequence === track.lastSequence + 1;
      const kept = contiguous ? track.window : [];
      const all = [...kept, segment];
      const gone = [...(contiguous ? [] : track.window), ...all.slice(0, Math.max(0, all.length - windowSize))];
      const targetDurationS = Math.max(track.targetDurationS, roundedSeconds(e.durationMs));
      const window = all.slice(-windowSize);
      const parts = [...track.parts, ...(orphan.length ? [] : track.pending)];
      const next: Track = {
        window,
        discontinuitySequence: track.discontinuitySequence + discontinuities(gone, orphan),
        targetDurationS,
        lastSequence: e.sequence,
        segments: track.segments + 1,
        parts: parts.filter((x) => x.sequence >= partsFrom(window, 0, targetDurationS)),
        pending: [],
      };
      effects.record.push({ rendition: e.rendition, segment });
      changed(p, e.rendition, track, next, effects);
      if (track.segments === 0) effects.master = true;
      if (p.status === 'ended' && p.recording && p.deletedAt === null) effects.vod = true;
      return {
        ...p,
        tracks: { ...p.tracks, [e.rendition]: next },
        firstSegmentAt: p.firstSegmentAt ?? e.programDateTime,
      };
    }
    case 'PartReady': {
      const track = p.tracks[e.rendition] ?? emptyTrack(roundedSeconds(p.ladder?.segmentDurationMs ?? 0));
      const part = partEntry(e);
      const next = withPart(track, part, p.ladder?.partTargetMs ?? 0);
      if (next === track) return p;
      if (next.pending.includes(part)) effects.parts.push({ rendition: e.rendition, part });
      changed(p, e.rendition, track, next, effects);
      return { ...p, tracks: { ...p.tracks, [e.rendition]: next } };
    }
    case 'ThumbnailReady':
      return { ...p, thumbnail: { uri: e.uri, width: e.width, height: e.height } };
    case 'TranscodeRefused':
      // Nothing to package: the stream keeps no renditions (the API shows the reason).
      return p;
    default: {
      const _exhaustive: never = e;
      return _exhaustive;
    }
  }
}

const partEntry = (e: PartReady): PartEntry => ({
  sequence: e.sequence,
  part: e.part,
  durationMs: e.durationMs,
  uri: e.uri,
  independent: e.independent,
  programDateTime: e.programDateTime,
  discontinuity: e.discontinuity,
  initUri: e.initUri,
});

/** Discontinuities that left the playlist: segments, and a dropped segment in progress. */
const discontinuities = (gone: SegmentEntry[], orphan: PartEntry[]): number =>
  gone.filter((s) => s.discontinuity).length + (orphan[0]?.discontinuity ? 1 : 0);

/**
 * Folds a part into its track. Parts of complete segments, repeats and parts older than those in
 * progress change nothing. A part of a later sequence drops the parts in progress (their segment
 * never completes: the worker's run ended mid-segment); when it skips a sequence, the window
 * restarts as a skipped SegmentReady does, so the part is listed at once with the right number.
 */
function withPart(track: Track, part: PartEntry, partTargetMs: number): Track {
  if (part.sequence <= track.lastSequence) return track;
  const current = track.pending[0]?.sequence ?? part.sequence;
  if (part.sequence < current) return track;
  const same = part.sequence === current;
  const pending = same ? track.pending : [];
  if (same && part.part < pending.length) return track;
  const listable = part.part === pending.length && (partTargetMs === 0 || part.durationMs <= partTargetMs);
  if (!listable && pending.length === 0 && same) return track;
  const orphan = same ? [] : track.pending;
  const skipped = track.lastSequence >= 0 && part.sequence > track.lastSequence + 1;
  const window = skipped ? [] : track.window;
  const next = listable ? [...pending, part] : [];
  const tailMs = next.reduce((n, x) => n + x.durationMs, 0);
  return {
    ...track,
    window,
    discontinuitySequence: track.discontinuitySequence + discontinuities(skipped ? track.window : [], orphan),
    parts: track.parts.filter((x) => x.sequence >= partsFrom(window, tailMs, track.targetDurationS)),
    pending: next,
  };
}

/**
 * Marks the rendition's live playlist changed, and every rendition's when LL-HLS rendition reports
 * (which carry this one's newest part) change with it. Effects are a set over the chunk, so each
 * playlist is still written once per chunk.
 */
function changed(p: StreamPackage, rendition: string, before: Track, after: Track, effects: Effects): void {
  effects.media.add(rendition);
  if (!p.ladder?.partTargetMs) return;
  const [a, b] = [newestPart(before), newestPart(after)];
  if (a?.msn === b?.msn && a?.part === b?.part) return;
  for (const name of Object.keys(p.tracks)) effects.media.add(name);
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
      if (p.recording && p.deletedAt === null) effects.vod = true;
      return { ...p, status: 'ended', endedAt: event.occurredAt };
    }
    default: {
      const _exhaustive: never = e;
      return _exhaustive;
    }
  }
}
