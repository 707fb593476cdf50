import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MediaEventPayload, StreamLifecycleEventPayload } from '../../schemas/generated/events.ts';
import {
  apply,
  newestPart,
  noEffects,
  playableRenditions,
  restored,
  type Effects,
  type PackagerInput,
  type StreamPackage,
  type Track,
} from './state.ts';

const T0 = 1_795_600_000_000;
let offset = 0;
const media = (payload: MediaEventPayload): PackagerInput => ({
  source: 'media',
  offset: offset++,
  event: { eventId: `m${offset}`, occurredAt: T0, streamId: 's1', workerId: 'w1', payload },
});
const lifecycle = (payload: StreamLifecycleEventPayload, occurredAt = T0): PackagerInput => ({
  source: 'lifecycle',
  offset: offset++,
  event: { eventId: `l${offset}`, occurredAt, streamId: 's1', payload },
});
const ladder = media({
  type: 'RenditionLadder',
  segmentDurationMs: 2000,
  encoder: 'libx264',
  partTargetMs: 0,
  reason: 'START',
  dropped: [],
  renditions: ['720p', '360p'].map((name) => ({
    name,
    width: 1280,
    height: 720,
    frameRate: 30,
    videoBitrate: 3_000_000,
    audioBitrate: 128_000,
    codecs: 'avc1.64001f,mp4a.40.2',
  })),
});
const segment = (sequence: number, rendition = '720p', discontinuity = false) =>
  media({
    type: 'SegmentReady',
    rendition,
    sequence,
    durationMs: 2000,
    uri: `${rendition}/${String(sequence).padStart(6, '0')}.ts`,
    bytes: 1000,
    programDateTime: T0 + sequence * 2000,
    discontinuity,
    initUri: null,
  });
const created = (recordingEnabled: boolean) =>
  lifecycle({
    type: 'StreamCreated',
    streamerId: 'u1',
    streamerName: 'alice',
    title: 't',
    category: 'c',
    tags: [],
    latencyMode: 'STANDARD',
    recordingEnabled,
    chatEnabled: true,
    streamKeyHash: 'ab',
  });
const llLadder = media({
  ...((ladder.event as { payload: MediaEventPayload }).payload as MediaEventPayload & { type: 'RenditionLadder' }),
  partTargetMs: 334,
  reason: 'START',
  dropped: [],
});
const pad = (n: number) => String(n).padStart(6, '0');
/** Part `part` of segment `sequence`: six to a 2 s segment, 5 x 334 ms and 330 ms. */
const part = (
  sequence: number,
  i: number,
  o: { rendition?: string; durationMs?: number; discontinuity?: boolean } = {},
) => {
  const rendition = o.rendition ?? '720p';
  return media({
    type: 'PartReady',
    rendition,
    sequence,
    part: i,
    durationMs: o.durationMs ?? (i === 5 ? 330 : 334),
    independent: i === 0,
    uri: `${rendition}/${pad(sequence)}.${i}.m4s`,
    initUri: `${rendition}/init-000000.mp4`,
    bytes: 100,
    programDateTime: T0 + sequence * 2000 + i * 334,
    discontinuity: o.discontinuity ?? false,
  });
};
const cmafSegment = (sequence: number, rendition = '720p', discontinuity = false) =>
  media({
    type: 'SegmentReady',
    rendition,
    sequence,
    durationMs: 2000,
    uri: `${rendition}/${pad(sequence)}.m4s`,
    bytes: 600,
    programDateTime: T0 + sequence * 2000,
    discontinuity,
    initUri: `${rendition}/init-000000.mp4`,
  });
/** Every part of segment `sequence`, then the segment. */
const whole = (sequence: number, rendition = '720p') => [
  ...[0, 1, 2, 3, 4, 5].map((i) => part(sequence, i, { rendition })),
  cmafSegment(sequence, rendition),
];
const ended = () => lifecycle({ type: 'StreamEnded', reason: 'PUBLISHER_DISCONNECTED', endedBy: null }, T0 + 99_000);

/** given(inputs) -> state and the effects of the last input. */
function given(inputs: PackagerInput[], windowSize = 3): { state: StreamPackage; last: Effects } {
  let state: StreamPackage | undefined;
  let last = noEffects();
  for (const input of inputs) {
    last = noEffects();
    state = apply(state, input, windowSize, last);
  }
  return { state: state!, last };
}

const window = (s: StreamPackage, r = '720p') => s.tracks[r]!.window.map((x) => x.sequence);
const named = (xs: Track['parts']) => xs.map((x) => `${x.sequence}.${x.part}`);

describe('packager state', () => {
  it('a TranscodeRefused packages nothing: no tracks, no playlist to write', () => {
    const { state, last } = given([
      created(true),
      media({ type: 'TranscodeRefused', code: 'NO_VIDEO', reason: 'the broadcast has no video: only audio (aac)' }),
    ]);
    assert.deepEqual(state.tracks, {});
    assert.equal(state.ladder, null);
    assert.deepEqual(last, noEffects());
  });

  it('the live window slides over the newest segments; each one is recorded and rewrites its playlist', () => {
    const { state, last } = given([ladder, segment(0), segment(1), segment(2), segment(3), segment(4)]);
    assert.deepEqual(window(state), [2, 3, 4]);
    assert.equal(state.tracks['720p']!.segments, 5);
    assert.deepEqual([...last.media], ['720p']);
    assert.deepEqual(
      last.record.map((r) => r.segment.sequence),
      [4],
    );
    assert.equal(last.master, false);
  });

  it('the master is rewritten when a rendition gets its first segment, and lists only those that have one', () => {
    const first = given([ladder, segment(0)]);
    assert.equal(first.last.master, true);
    assert.deepEqual(
      playableRenditions(first.state).map((r) => r.name),
      ['720p'],
    );
    const both = given([ladder, segment(0), segment(0, '360p')]);
    assert.equal(both.last.master, true);
    assert.deepEqual(
      playableRenditions(both.state).map((r) => r.name),
      ['720p', '360p'],
    );
  });

  it('a discontinuity that leaves the window advances the discontinuity sequence', () => {
    const { state } = given([ladder, segment(0), segment(1, '720p', true), segment(2), segment(3), segment(4)]);
    assert.deepEqual(window(state), [2, 3, 4]);
    assert.equal(state.tracks['720p']!.discontinuitySequence, 1);
  });

  it('a skipped sequence restarts the window, so listed segments stay consecutive', () => {
    const { state } = given([ladder, segment(0), segment(1), segment(3)]);
    assert.deepEqual(window(state), [3]);
  });

  it('redelivered records and repeated sequences change nothing', () => {
    const s0 = segment(0);
    const s1 = segment(1);
    const { state } = given([ladder, s0, s1]);
    const effects = noEffects();
    assert.equal(apply(state, s1, 3, effects), state);
    assert.equal(apply(state, { ...segment(1) }, 3, effects).tracks, state.tracks);
    assert.deepEqual(effects.record, []);
  });

  it('a recorded stream that ends rewrites its live playlists (ENDLIST) and asks for the VOD', () => {
    const { state, last } = given([created(true), ladder, segment(0), segment(0, '360p'), ended()]);
    assert.equal(state.status, 'ended');
    assert.equal(state.endedAt, T0 + 99_000);
    assert.deepEqual([...last.media].sort(), ['360p', '720p']);
    assert.equal(last.vod, true);
  });

  it('a late segment after the end rewrites the VOD; without recording there is never one', () => {
    assert.equal(given([created(true), ladder, segment(0), ended(), segment(1)]).last.vod, true);
    assert.equal(given([created(false), ladder, segment(0), ended()]).last.vod, false);
    assert.equal(given([created(false), ladder, segment(0), ended(), segment(1)]).last.vod, false);
  });

  describe('LL-HLS parts', () => {
    it('parts wait in progress until their SegmentReady; only the newest segments keep theirs', () => {
      const inProgress = given([llLadder, ...[0, 1, 2, 3, 4].flatMap((n) => whole(n)), part(5, 0), part(5, 1)], 6);
      const track = inProgress.state.tracks['720p']!;
      assert.deepEqual(window(inProgress.state), [0, 1, 2, 3, 4]);
      assert.deepEqual(named(track.pending), ['5.0', '5.1']);
      // 0.668 s in progress: segments 2, 3 and 4 end within 6 s (3 target durations) of the end.
      assert.deepEqual([...new Set(track.parts.map((x) => x.sequence))], [2, 3, 4]);
      assert.deepEqual(inProgress.last.record, [], 'parts are not journaled');
      assert.deepEqual(
        inProgress.last.parts.map((x) => x.part.uri),
        ['720p/000005.1.m4s'],
      );

      const complete = given([llLadder, ...[0, 1, 2, 3, 4, 5].flatMap((n) => whole(n))], 6);
      const done = complete.state.tracks['720p']!;
      assert.deepEqual(done.pending, []);
      // Nothing in progress: segment 2 ends 6 s before the end, just within.
      assert.deepEqual([...new Set(done.parts.map((x) => x.sequence))], [2, 3, 4, 5]);
      assert.deepEqual(newestPart(done), { msn: 5, part: 5 });
    });

    it('repeated parts and late parts of a complete segment change nothing', () => {
      const p0 = part(0, 0);
      const p1 = part(0, 1);
      const { state } = given([llLadder, p0, p1]);
      const effects = noEffects();
      assert.equal(apply(state, { ...p1, offset: 10_000 }, 3, effects).tracks, state.tracks);
      const complete = given([llLadder, ...whole(0)]).state;
      assert.equal(apply(complete, { ...part(0, 2), offset: 10_001 }, 3, effects).tracks, complete.tracks);
      assert.deepEqual(effects.parts, []);
    });

    it('a run that ends mid-segment: its parts go when a later sequence comes, and the window restarts at it', () => {
      const { state, last } = given([
        llLadder,
        ...whole(0),
        ...whole(1),
        part(2, 0),
        part(2, 1),
        part(3, 0, { discontinuity: true }),
      ]);
      const track = state.tracks['720p']!;
      assert.deepEqual(named(track.pending), ['3.0']);
      assert.deepEqual(track.window, [], 'segment 2 never completes: nothing before 3 can be numbered');
      assert.deepEqual(track.parts, []);
      assert.equal(track.discontinuitySequence, 0);
      assert.ok(last.media.has('720p'));
      const after = given([llLadder, ...whole(0), ...whole(1), part(2, 0), ...whole(3)]).state.tracks['720p']!;
      assert.deepEqual(window({ tracks: { r: after } } as unknown as StreamPackage, 'r'), [3]);
      assert.deepEqual([...new Set(after.parts.map((x) => x.sequence))], [3]);
    });

    it('a dropped segment in progress that began a run counts in the discontinuity sequence', () => {
      const { state } = given([
        llLadder,
        ...whole(0),
        part(1, 0, { discontinuity: true }),
        cmafSegment(2, '720p', true),
      ]);
      assert.equal(state.tracks['720p']!.discontinuitySequence, 1);
      assert.deepEqual(window(state), [2]);
    });

    it('a part longer than the target, or after a missing one, leaves its segment to be listed whole', () => {
      const long = given([llLadder, part(0, 0), part(0, 1, { durationMs: 400 }), part(0, 2)]).state;
      assert.deepEqual(long.tracks['720p']!.pending, []);
      const gap = given([llLadder, part(0, 0), part(0, 2), part(0, 3)]).state;
      assert.deepEqual(gap.tracks['720p']!.pending, []);
      const listed = given([llLadder, part(0, 0), part(0, 2), cmafSegment(0), part(1, 0)]).state.tracks['720p']!;
      assert.deepEqual(window({ tracks: { r: listed } } as unknown as StreamPackage, 'r'), [0]);
      assert.deepEqual(named(listed.parts), []);
      assert.deepEqual(named(listed.pending), ['1.0']);
    });

    it("a part rewrites every rendition's playlist (their reports); a segment whose parts came rewrites only its own", () => {
      const both = [llLadder, ...whole(0, '720p'), ...whole(0, '360p')];
      assert.deepEqual([...given([...both, part(1, 0)]).last.media].sort(), ['360p', '720p']);
      assert.deepEqual([...given([...both.slice(0, -1)]).last.media].sort(), ['360p', '720p']);
      assert.deepEqual([...given(both).last.media], ['360p']);
      assert.deepEqual(
        [...given([ladder, segment(0), segment(0, '360p')]).last.media],
        ['360p'],
        'MPEG-TS: no reports',
      );
    });

    it('a part before the ladder starts its track like a segment does', () => {
      const { state } = given([part(0, 0)]);
      assert.deepEqual(named(state.tracks['720p']!.pending), ['0.0']);
      assert.deepEqual(newestPart(state.tracks['720p']!), { msn: 0, part: 0 });
    });

    it('a state saved before parts existed is read back with none', () => {
      const { state } = given([ladder, segment(0)]);
      const { parts: _p, pending: _q, ...old } = state.tracks['720p']!;
      const back = restored('s1', { ...state, tracks: { '720p': old as Track } })!;
      assert.deepEqual(back.tracks['720p']!.parts, []);
      assert.deepEqual(back.tracks['720p']!.pending, []);
      assert.equal(restored('s1', undefined), undefined);
    });
  });
});
