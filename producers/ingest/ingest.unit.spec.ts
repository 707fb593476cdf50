import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import { createLogger } from '../../platform/logger.ts';
import { Metrics } from '../../platform/metrics.ts';
import { evolve, type StreamRecord } from '../../domain/stream/evolve.ts';
import { streamEvents } from '../../tests/support/stream-events.ts';
import { Ingest } from './ingest.ts';

const KEY = 'live_key-of-the-test-stream';
const GRACE = 30_000;

/** An Ingest wired to a registry of one stream, a fake clock and a publish that records. */
function rig(o: { graceMs?: number } = {}) {
  let now = 1_000_000;
  const events: StreamLifecycleEvent[] = [];
  const disconnected: string[] = [];
  const gone: string[] = [];
  const created = streamEvents.created('stream_a', { streamKeyHash: createHash('sha256').update(KEY).digest('hex') });
  const stream: StreamRecord = evolve(undefined, { ...created, occurredAt: now })!;
  const ingest = new Ingest({
    lookupByKeyHash: (h) => (h === stream.streamKeyHash ? stream : undefined),
    streamStatus: () => stream.status,
    publish: async (batch) => {
      for (const e of batch) {
        events.push(e);
        // The registry the ingest reads follows the topic.
        Object.assign(stream, evolve(stream, e));
      }
    },
    probe: async () => ({ width: 640, height: 360, frameRate: 30, videoCodec: 'h264', audioCodec: 'aac' }),
    disconnect: (id) => disconnected.push(id),
    streamGone: (id) => gone.push(id),
    pullUrl: (id) => `rtmp://127.0.0.1:1935/live/${id}`,
    ingestNode: 'ingest-here',
    mediaTimeoutMs: 10_000,
    reconnectGraceMs: o.graceMs ?? GRACE,
    log: createLogger('ingest-spec', 'silent'),
    metrics: new Metrics('ingest-spec', { defaults: false }),
    clock: () => now,
  });
  const publishLive = async (sessionId: string) => {
    assert.deepEqual(ingest.authorizePublish(sessionId, KEY, '127.0.0.1'), { accept: true, streamId: 'stream_a' });
    ingest.onMedia(sessionId, { kind: 'audio', bytes: 100 });
    await ingest.drain();
  };
  const types = () => events.map((e) => e.payload.type);
  return {
    ingest,
    stream,
    events,
    types,
    disconnected,
    gone,
    publishLive,
    advance: (ms: number) => (now += ms),
    async settle() {
      ingest.sweep();
      await ingest.drain();
    },
  };
}

describe('Ingest: a publisher that vanishes', () => {
  it('keeps the stream live for the grace, and the same key resumes the broadcast with its startedAt', async () => {
    const r = rig();
    await r.publishLive('s1');
    const first = r.events[0]!.payload;
    assert.equal(first.type, 'StreamWentLive');

    r.advance(5_000);
    r.ingest.onClose('s1'); // the socket dropped, no unpublish
    assert.deepEqual(r.gone, ['stream_a'], "the worker's pull is told the source is gone");
    r.advance(GRACE - 1);
    await r.settle();
    assert.deepEqual(r.types(), ['StreamWentLive'], 'nothing ends within the grace');

    await r.publishLive('s2');
    assert.deepEqual(r.types(), ['StreamWentLive', 'StreamWentLive']);
    const again = r.events[1]!.payload;
    assert.ok(first.type === 'StreamWentLive' && again.type === 'StreamWentLive');
    assert.equal(again.startedAt, first.startedAt, 'the broadcast goes on: same startedAt');

    r.advance(GRACE * 2);
    r.ingest.onMedia('s2', { kind: 'audio', bytes: 100 });
    await r.settle();
    assert.deepEqual(r.types(), ['StreamWentLive', 'StreamWentLive'], 'the old session ends nothing');
    assert.equal(r.ingest.isPublishing('stream_a'), true);
  });

  it('a second drop and reconnect still carries the first startedAt', async () => {
    const r = rig();
    await r.publishLive('s1');
    for (const [gone, back] of [
      ['s1', 's2'],
      ['s2', 's3'],
    ] as const) {
      r.advance(5_000);
      r.ingest.onClose(gone);
      await r.publishLive(back);
    }
    assert.deepEqual(r.types(), ['StreamWentLive', 'StreamWentLive', 'StreamWentLive']);
    const starts = r.events.map((e) => (e.payload as { startedAt: number }).startedAt);
    assert.deepEqual(new Set(starts).size, 1, `one broadcast: ${starts.join(', ')}`);
  });

  it('ends the stream once the grace runs out', async () => {
    const r = rig();
    await r.publishLive('s1');
    r.ingest.onClose('s1');
    r.advance(GRACE);
    await r.settle();
    assert.deepEqual(r.types(), ['StreamWentLive', 'StreamEnded']);
    assert.deepEqual(r.events[1]!.payload, { type: 'StreamEnded', reason: 'PUBLISHER_DISCONNECTED', endedBy: null });
  });

  it('ends it at once when the publisher unpublished first, or when the grace is 0', async () => {
    const stopped = rig();
    await stopped.publishLive('s1');
    stopped.ingest.onUnpublish('s1');
    stopped.ingest.onClose('s1');
    await stopped.ingest.drain();
    assert.deepEqual(stopped.types(), ['StreamWentLive', 'StreamEnded']);

    const noGrace = rig({ graceMs: 0 });
    await noGrace.publishLive('s1');
    noGrace.ingest.onClose('s1');
    await noGrace.ingest.drain();
    assert.deepEqual(noGrace.types(), ['StreamWentLive', 'StreamEnded']);
  });

  it('on shutdown ends the streams it was holding and those it cuts', async () => {
    const r = rig();
    await r.publishLive('s1');
    r.ingest.onClose('s1');
    await r.ingest.drain();
    assert.deepEqual(r.types(), ['StreamWentLive']);
    r.ingest.shutdown();
    await r.ingest.drain();
    assert.deepEqual(r.types(), ['StreamWentLive', 'StreamEnded']);

    const live = rig();
    await live.publishLive('s1');
    live.ingest.shutdown();
    live.ingest.onClose('s1');
    await live.ingest.drain();
    assert.deepEqual(live.types(), ['StreamWentLive', 'StreamEnded']);
  });

  it('yields to a newer publisher on another ingest node without ending the broadcast', async () => {
    const r = rig();
    await r.publishLive('s1');
    const elsewhere: StreamLifecycleEvent = {
      ...r.events[0]!,
      eventId: 'e2',
      payload: {
        ...(r.events[0]!.payload as Extract<StreamLifecycleEvent['payload'], { type: 'StreamWentLive' }>),
        ingestNode: 'ingest-there',
      },
    };
    r.ingest.onLifecycle(r.events[0]!); // our own announcement changes nothing
    assert.deepEqual(r.disconnected, []);
    r.ingest.onLifecycle(elsewhere);
    assert.deepEqual(r.disconnected, ['s1']);
    r.ingest.onClose('s1');
    r.advance(GRACE * 2);
    await r.settle();
    assert.deepEqual(r.types(), ['StreamWentLive'], 'the stream lives on over there');

    // A wait for a reconnect ends the same way when the publisher comes back elsewhere.
    const w = rig();
    await w.publishLive('s1');
    w.ingest.onClose('s1');
    w.ingest.onLifecycle({ ...elsewhere, streamId: 'stream_a' });
    w.advance(GRACE * 2);
    await w.settle();
    assert.deepEqual(w.types(), ['StreamWentLive']);
  });

  it('after a restart, waits out the grace for the streams it held before, then ends them', async () => {
    const before = rig();
    before.stream.status = 'live';
    before.stream.startedAt = 900_000;
    const wentLive = (node: string): StreamLifecycleEvent => ({
      eventId: `e-${node}`,
      occurredAt: 900_000,
      streamId: 'stream_a',
      payload: {
        type: 'StreamWentLive',
        startedAt: 900_000,
        sourceUrl: 'rtmp://127.0.0.1:1935/live/stream_a',
        ingestNode: node,
        width: null,
        height: null,
        frameRate: null,
        videoCodec: null,
        audioCodec: null,
      },
    });
    before.ingest.onLifecycle(wentLive('ingest-here')); // read back from the topic at start
    assert.deepEqual(before.ingest.adoptOrphans(), ['stream_a']);
    before.advance(GRACE - 1);
    await before.settle();
    assert.deepEqual(before.types(), []);
    before.advance(1);
    await before.settle();
    assert.deepEqual(before.types(), ['StreamEnded']);

    // The encoder comes back in time: the broadcast goes on, with its startedAt.
    const back = rig();
    Object.assign(back.stream, { status: 'live', startedAt: 900_000 });
    back.ingest.onLifecycle(wentLive('ingest-here'));
    back.ingest.adoptOrphans();
    await back.publishLive('s9');
    back.advance(GRACE * 2);
    back.ingest.onMedia('s9', { kind: 'audio', bytes: 100 });
    await back.settle();
    assert.deepEqual(back.types(), ['StreamWentLive']);
    assert.equal((back.events[0]!.payload as { startedAt: number }).startedAt, 900_000);

    // Streams another node holds, or that ended, are not ours to end.
    const other = rig();
    Object.assign(other.stream, { status: 'live', startedAt: 900_000 });
    other.ingest.onLifecycle(wentLive('ingest-there'));
    assert.deepEqual(other.ingest.adoptOrphans(), []);
  });
});
