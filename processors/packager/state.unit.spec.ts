import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MediaEventPayload, StreamLifecycleEventPayload } from '../../schemas/generated/events.ts';
import { apply, noEffects, playableRenditions, type Effects, type PackagerInput, type StreamPackage } from './state.ts';

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

describe('packager state', () => {
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
});
