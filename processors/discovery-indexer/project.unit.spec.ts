import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamLifecycleEventPayload } from '../../schemas/generated/events.ts';
import { covers, versionOf, type StreamDocument } from '../../domain/discovery/document.ts';
import { evolve, type StreamRecord } from '../../domain/stream/evolve.ts';
import { fold, project, type IndexedChange } from './project.ts';

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

  describe('fold (one round)', () => {
    const other = (change: IndexedChange, streamId: string): IndexedChange =>
      ({ ...change, event: { ...change.event, streamId } }) as IndexedChange;

    it('writes each stream once, whatever the mix of topics and chunks in the round', () => {
      const round = [viewers(5, 1523, 1610), created, other(created, 'stream_2'), live, viewers(6, 1600, 1610)];
      const out = fold(new Map(), round);
      assert.deepEqual([...out.keys()].sort(), ['stream_1', 'stream_2']);
      assert.deepEqual(out.get('stream_1'), given([created, live, viewers(5, 1523, 1610), viewers(6, 1600, 1610)]));
    });

    it('equals the changes applied one by one, in any interleaving of the two sources and any cut into rounds', () => {
      const lifecycleEvents = [created, live, ended];
      const counts = [viewers(0, 10, 10), viewers(1, 30, 30), viewers(2, 20, 30)];
      const want = given([...lifecycleEvents, ...counts]);
      // Every interleaving that keeps each source in its own order, folded in rounds cut at every place.
      const interleavings = (a: IndexedChange[], b: IndexedChange[]): IndexedChange[][] =>
        !a.length || !b.length
          ? [[...a, ...b]]
          : [
              ...interleavings(a.slice(1), b).map((r) => [a[0]!, ...r]),
              ...interleavings(a, b.slice(1)).map((r) => [b[0]!, ...r]),
            ];
      for (const order of interleavings(lifecycleEvents, counts)) {
        for (let cut = 0; cut <= order.length; cut++) {
          const first = fold(new Map(), order.slice(0, cut));
          const second = fold(first, order.slice(cut));
          assert.deepEqual(second.get('stream_1') ?? first.get('stream_1'), want);
        }
      }
    });

    it('leaves out what the stored document already holds (a redelivered round writes nothing)', () => {
      const stored = fold(new Map(), [created, live, viewers(5, 1, 1)]);
      assert.equal(fold(stored, [live, viewers(5, 1, 1), created]).size, 0);
      const next = fold(stored, [live, ended]);
      assert.deepEqual([...next.values()], [given([created, live, viewers(5, 1, 1), ended])]);
    });
  });
});
