import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { streamEvents } from '../../tests/support/stream-events.ts';
import { evolve, type StreamRecord } from './evolve.ts';
import { checkStreamKey } from './key-check.ts';

const key = 'live_secret';
const hash = createHash('sha256').update(key).digest('hex');
const record = (status: 'ready' | 'live' | 'ended'): StreamRecord => {
  const events = [streamEvents.created('s1', { streamKeyHash: hash })];
  if (status !== 'ready') events.push(streamEvents.wentLive('s1'));
  if (status === 'ended') events.push(streamEvents.ended('s1'));
  return events.reduce<StreamRecord | undefined>(evolve, undefined)!;
};
const lookup = (r: StreamRecord) => (h: string) => (h === r.streamKeyHash ? r : undefined);

describe('stream key check', () => {
  it('accepts the key of a ready stream, by its hash', () => {
    const r = checkStreamKey(key, lookup(record('ready')), () => false);
    assert.equal(r.ok && r.stream.streamId, 's1');
  });

  it('refuses unknown, malformed and ended keys, and a second publisher here', () => {
    assert.deepEqual(
      checkStreamKey('live_other', lookup(record('ready')), () => false),
      {
        ok: false,
        reason: 'unknown_key',
      },
    );
    assert.deepEqual(
      checkStreamKey('', lookup(record('ready')), () => false),
      { ok: false, reason: 'malformed_key' },
    );
    assert.deepEqual(
      checkStreamKey('x'.repeat(300), lookup(record('ready')), () => false),
      {
        ok: false,
        reason: 'malformed_key',
      },
    );
    assert.deepEqual(
      checkStreamKey(key, lookup(record('ended')), () => false),
      { ok: false, reason: 'stream_ended' },
    );
    assert.deepEqual(
      checkStreamKey(key, lookup(record('live')), () => true),
      {
        ok: false,
        reason: 'already_publishing',
      },
    );
  });

  it('lets the streamer take over a live stream whose publisher is not here (its ingest died)', () => {
    assert.equal(checkStreamKey(key, lookup(record('live')), () => false).ok, true);
  });
});
