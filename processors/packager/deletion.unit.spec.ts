import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apply, emptyPackage, noEffects, type PackagerInput, type StreamPackage } from './state.ts';
import { mediaExpired } from './retention.ts';

const T0 = 1_795_600_000_000;
const HOUR = 3_600_000;
const deletion = (offset: number, occurredAt: number): PackagerInput => ({
  source: 'deletion',
  offset,
  event: { eventId: `d${offset}`, occurredAt, streamId: 's1', streamerId: 'u1', deletedBy: 'u1' },
});
const ended = (o: Partial<StreamPackage> = {}): StreamPackage => ({
  ...emptyPackage('s1'),
  status: 'ended',
  startedAt: T0,
  endedAt: T0 + HOUR,
  ...o,
});

describe('packager: a recording its streamer deleted', () => {
  it('given an ended recording, when VodDeleted, then its time is kept (the first one stands) and no VOD is written', () => {
    const effects = noEffects();
    const once = apply(ended(), deletion(0, T0 + 2 * HOUR), 6, effects);
    assert.deepEqual([once.deletedAt, once.deletionOffset], [T0 + 2 * HOUR, 0]);
    assert.deepEqual(effects, noEffects());
    const again = apply(once, deletion(1, T0 + 3 * HOUR), 6, effects);
    assert.equal(again.deletedAt, T0 + 2 * HOUR, 'a second deletion changes nothing');
    assert.equal(apply(again, deletion(1, T0 + 4 * HOUR), 6, effects), again, 'a redelivery is skipped');
  });

  it('a deletion read before the end (the topics are read independently) still keeps the VOD from being written', () => {
    const effects = noEffects();
    const live = { ...emptyPackage('s1'), status: 'live' as const, startedAt: T0 };
    const deleted = apply(live, deletion(0, T0 + HOUR), 6, effects);
    const end: PackagerInput = {
      source: 'lifecycle',
      offset: 0,
      event: {
        eventId: 'l0',
        occurredAt: T0 + HOUR,
        streamId: 's1',
        payload: { type: 'StreamEnded', reason: 'PUBLISHER_DISCONNECTED', endedBy: null },
      },
    };
    const after = apply(deleted, end, 6, effects);
    assert.equal(after.status, 'ended');
    assert.equal(effects.vod, false);
  });

  it('retention: a deleted recording after its grace period, an unrecorded stream after its keep time, never a kept recording', () => {
    const keep = 5 * 60_000;
    const grace = 24 * HOUR;
    const deletedAt = T0 + 2 * HOUR;
    assert.equal(mediaExpired(ended({ deletedAt }), deletedAt + grace - 1, keep, grace), false);
    assert.equal(mediaExpired(ended({ deletedAt }), deletedAt + grace, keep, grace), true);
    assert.equal(mediaExpired(ended(), T0 + 1000 * HOUR, keep, grace), false, 'a recording nobody deleted stays');
    assert.equal(mediaExpired(ended({ recording: false }), T0 + HOUR + keep, keep, grace), true);
    assert.equal(mediaExpired(ended({ recording: false }), T0 + HOUR + keep - 1, keep, grace), false);
    const live = { ...ended({ deletedAt }), status: 'live' as const, endedAt: null };
    assert.equal(mediaExpired(live, deletedAt + grace, keep, grace), false, 'never while live');
  });
});
