import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamLifecycleEventPayload } from '../../schemas/generated/events.ts';
import { covers, versionOf, type StreamDocument } from '../../domain/discovery/document.ts';
import { evolve, type StreamRecord } from '../../domain/stream/evolve.ts';
import { project, type IndexedChange } from './project.ts';

const lifecycle = (offset: number, occurredAt: number, payload: StreamLifecycleEventPayload): IndexedChange => ({
  source: 'lifecycle',
  offset,
  event: { eventId: `e${offset}`, occurredAt, streamId: 'stream_1', payload },
});
const viewers = (offset: number, count: number, peak: number): IndexedChange => ({
  source: 'viewers',
  offset,
  event: {
    eventId: `v${offset}`,
    occurredAt: 0,
    streamId: 'stream_1',
    viewers: count,
    peakViewers: peak,
    qualities: {},
    bufferingRatio: 0,
  },
});
const created = lifecycle(3, 1000, {
  type: 'StreamCreated',
  streamerId: 'user_1',
  streamerName: 'alice',
  title: 'Dark Souls',
  category: 'Gaming',
  tags: ['souls'],
  latencyMode: 'STANDARD',
  recordingEnabled: true,
  chatEnabled: true,
  streamKeyHash: 'ab'.repeat(32),
});
const live = lifecycle(7, 2000, {
  type: 'StreamWentLive',
  startedAt: 1990,
  sourceUrl: 's',
  ingestNode: 'i',
  width: null,
  height: null,
  frameRate: null,
  videoCodec: null,
  audioCodec: null,
});
const ended = lifecycle(9, 3000, { type: 'StreamEnded', reason: 'STREAMER_ENDED', endedBy: 'user_1' });

/** given(changes).then(document) */
const given = (changes: IndexedChange[]): StreamDocument | undefined =>
  changes.reduce<StreamDocument | undefined>(project, undefined);

describe('discovery project', () => {
  it('a created stream is a ready document with its searchable fields, and no secret', () => {
    assert.deepEqual(given([created]), {
      stream_id: 'stream_1',
      status: 'ready',
      status_rank: 1,
      streamer_id: 'user_1',
      streamer_name: 'alice',
      title: 'Dark Souls',
      category: 'Gaming',
      tags: ['souls'],
      latency_mode: 'STANDARD',
      viewer_count: 0,
      peak_viewer_count: 0,
      created_at: 1000,
      updated_at: 1000,
      started_at: null,
      ended_at: null,
      lifecycle_offset: 3,
      viewers_offset: -1,
    });
  });

  it('live ranks before ready, ended after both', () => {
    assert.equal(given([created, live])?.status_rank, 0);
    assert.equal(given([created, live])?.started_at, 1990);
    assert.deepEqual([given([created, live, ended])?.status, given([created, live, ended])?.status_rank], ['ended', 2]);
  });

  it('a redelivered or older change returns the document itself', () => {
    const doc = given([created, live])!;
    assert.equal(project(doc, live), doc);
    assert.equal(project(doc, created), doc);
    const counted = project(doc, viewers(5, 10, 12));
    assert.equal(project(counted, viewers(4, 99, 99)), counted);
  });

  it('viewer counts and lifecycle land in either order with the same result', () => {
    const a = given([created, viewers(5, 1523, 1610), live]);
    const b = given([viewers(5, 1523, 1610), created, live]);
    assert.deepEqual(a, b);
    assert.equal(a?.viewer_count, 1523);
    assert.equal(a?.peak_viewer_count, 1610);
  });

  it('counts before creation make a document no search returns (status null)', () => {
    const doc = given([viewers(0, 3, 3)]);
    assert.equal(doc?.status, null);
    assert.equal(doc?.viewer_count, 3);
  });

  it('the version strictly grows with every applied change, from either source', () => {
    const steps = [created, viewers(0, 1, 1), live, viewers(1, 2, 2), ended];
    const versions = steps.map((_, i) => versionOf(given(steps.slice(0, i + 1))!));
    assert.deepEqual(
      versions,
      [...versions].sort((x, y) => x - y),
    );
    assert.equal(new Set(versions).size, versions.length);
  });

  it('agrees with the stream registry after every event, those the registry refuses included', () => {
    const payloadOf = (c: IndexedChange): StreamLifecycleEventPayload => {
      assert.ok(c.source === 'lifecycle');
      return c.event.payload;
    };
    const updated = (title: string): StreamLifecycleEventPayload => ({
      type: 'StreamUpdated',
      title,
      category: null,
      tags: null,
      updatedBy: 'user_1',
    });
    const [c, l, e] = [created, live, ended].map(payloadOf);
    let record: StreamRecord | undefined;
    let doc: StreamDocument | undefined;
    [l!, c!, updated('Elden Ring'), l!, l!, e!, l!, updated('late')].forEach((payload, i) => {
      const event = { eventId: `s${i}`, occurredAt: 1000 * (i + 1), streamId: 'stream_1', payload };
      record = evolve(record, event);
      doc = project(doc, { source: 'lifecycle', offset: i, event });
      const seen = [doc.status, doc.title, doc.updated_at, doc.started_at, doc.ended_at];
      const want = [record?.status, record?.title, record?.updatedAt, record?.startedAt, record?.endedAt];
      assert.deepEqual(
        seen,
        want.map((v) => v ?? null),
        `after event ${i}`,
      );
    });
  });

  it('covers: a stored document at or past both guards already holds a write', () => {
    const doc = given([created, viewers(5, 1, 1)])!;
    assert.ok(covers(doc, given([created])!));
    assert.ok(!covers(given([created])!, doc));
  });
});
