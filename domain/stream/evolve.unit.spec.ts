import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamLifecycleEvent, StreamLifecycleEventPayload } from '../../schemas/generated/events.ts';
import { evolve, type StreamRecord } from './evolve.ts';

let seq = 0;
const at = (occurredAt: number, payload: StreamLifecycleEventPayload): StreamLifecycleEvent => ({
  eventId: `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`,
  occurredAt,
  streamId: 'stream_1',
  payload,
});
const created = at(1000, {
  type: 'StreamCreated',
  streamerId: 'user_1',
  streamerName: 'alice',
  title: 'Dark Souls',
  category: 'Gaming',
  tags: ['souls'],
  latencyMode: 'LOW',
  recordingEnabled: true,
  chatEnabled: false,
  streamKeyHash: 'ab'.repeat(32),
});
const wentLive = at(2000, {
  type: 'StreamWentLive',
  startedAt: 1990,
  sourceUrl: 'rtmp://ingest/stream_1',
  ingestNode: 'ingest-1',
  width: null,
  height: null,
  frameRate: null,
  videoCodec: null,
  audioCodec: null,
});
const ended = at(3000, { type: 'StreamEnded', reason: 'STREAMER_ENDED', endedBy: 'user_1' });

const given = (events: StreamLifecycleEvent[]): StreamRecord | undefined =>
  events.reduce<StreamRecord | undefined>(evolve, undefined);

describe('stream registry evolve', () => {
  it('StreamCreated makes a ready stream with everything the API and ingest read', () => {
    assert.deepEqual(given([created]), {
      streamId: 'stream_1',
      streamerId: 'user_1',
      streamerName: 'alice',
      title: 'Dark Souls',
      category: 'Gaming',
      tags: ['souls'],
      latencyMode: 'LOW',
      recordingEnabled: true,
      chatEnabled: false,
      streamKeyHash: 'ab'.repeat(32),
      status: 'ready',
      createdAt: 1000,
      updatedAt: 1000,
      startedAt: null,
      endedAt: null,
    });
  });

  it('StreamUpdated changes only the fields it carries', () => {
    const s = given([
      created,
      at(1500, { type: 'StreamUpdated', title: null, category: 'Retro', tags: null, updatedBy: 'user_1' }),
    ]);
    assert.equal(s?.title, 'Dark Souls');
    assert.equal(s?.category, 'Retro');
    assert.deepEqual(s?.tags, ['souls']);
    assert.equal(s?.updatedAt, 1500);
  });

  it('goes ready -> live -> ended with the broadcast start and end times', () => {
    const s = given([created, wentLive, ended]);
    assert.equal(s?.status, 'ended');
    assert.equal(s?.startedAt, 1990);
    assert.equal(s?.endedAt, 3000);
  });

  it('an ended stream never goes live again and keeps its first end', () => {
    const s = given([created, ended, wentLive, at(4000, { type: 'StreamEnded', reason: 'ADMIN', endedBy: null })]);
    assert.equal(s?.status, 'ended');
    assert.equal(s?.startedAt, null);
    assert.equal(s?.endedAt, 3000);
  });

  it('ignores events about a stream it never saw created, and a second creation', () => {
    assert.equal(given([wentLive, ended]), undefined);
    const twice = given([
      created,
      { ...created, payload: { ...created.payload, title: 'other' } as StreamLifecycleEventPayload },
    ]);
    assert.equal(twice?.title, 'Dark Souls');
  });
});
