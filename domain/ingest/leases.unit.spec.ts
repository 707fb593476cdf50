import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IngestLease, StreamLifecycleEvent } from '../../schemas/generated/events.ts';
import { IngestLeases, leaseEvent, nodeLossEventId } from './leases.ts';

const GRACE = 30_000;
const TTL = 15_000;

const lease = (nodeId: string, at: number, released = false): IngestLease =>
  leaseEvent(nodeId, at, TTL, `lease-${nodeId}-${at}`, released);

const wentLive = (streamId: string, node: string, at: number): StreamLifecycleEvent => ({
  eventId: `live-${streamId}-${node}-${at}`,
  occurredAt: at,
  streamId,
  payload: {
    type: 'StreamWentLive',
    startedAt: at,
    sourceUrl: `rtmp://${node}/live/${streamId}`,
    ingestNode: node,
    width: null,
    height: null,
    frameRate: null,
    videoCodec: null,
    audioCodec: null,
  },
});

const ended = (streamId: string, at: number): StreamLifecycleEvent => ({
  eventId: `end-${streamId}-${at}`,
  occurredAt: at,
  streamId,
  payload: { type: 'StreamEnded', reason: 'PUBLISHER_DISCONNECTED', endedBy: null },
});

/** given(leases and lifecycle events, in order).at(now) -> the streams to end */
function given(events: Array<IngestLease | StreamLifecycleEvent>) {
  const state = new IngestLeases();
  for (const e of events) {
    if ('nodeId' in e) state.applyLease(e);
    else state.applyLifecycle(e);
  }
  return { state, endsAt: (now: number) => state.lostStreams(now, GRACE).map((s) => s.streamId) };
}

describe('ingest node leases', () => {
  it('a lease renewed in time keeps its streams live', () => {
    const { endsAt } = given([lease('a', 0), wentLive('s1', 'a', 1000), lease('a', 10_000), lease('a', 20_000)]);
    assert.deepEqual(endsAt(20_000 + TTL + GRACE - 1), []);
  });

  it('a lease that ran out ends its streams once the grace after it has passed, not before', () => {
    const { endsAt, state } = given([lease('a', 0), wentLive('s1', 'a', 1000), wentLive('s2', 'a', 2000)]);
    assert.deepEqual(endsAt(TTL - 1), []);
    assert.deepEqual(endsAt(TTL + GRACE - 1), []);
    assert.deepEqual(endsAt(TTL + GRACE), ['s1', 's2']);
    assert.deepEqual(state.lostStreams(TTL + GRACE, GRACE)[0], {
      streamId: 's1',
      nodeId: 'a',
      since: 1000,
      wentLiveEventId: 'live-s1-a-1000',
      lostAt: TTL,
    });
  });

  it('reports an expired node with what waits for its grace, and what ends', () => {
    const { state } = given([lease('a', 0), wentLive('s1', 'a', 1000), lease('b', 0), lease('b', 20_000)]);
    assert.deepEqual(state.expiredNodes(TTL, GRACE), [
      {
        nodeId: 'a',
        validUntil: TTL,
        released: false,
        ending: [],
        waiting: [{ streamId: 's1', nodeId: 'a', since: 1000, wentLiveEventId: 'live-s1-a-1000' }],
      },
    ]);
  });

  it('an encoder that reconnected elsewhere in time moves its stream off the lost node', () => {
    const { endsAt } = given([
      lease('a', 0),
      lease('b', 0),
      wentLive('s1', 'a', 1000),
      wentLive('s2', 'a', 1000),
      wentLive('s2', 'b', TTL + 5000), // the encoder published to node b within the grace
      lease('b', TTL + 10_000),
      lease('b', TTL + 20_000),
      lease('b', TTL + 30_000),
    ]);
    assert.deepEqual(endsAt(TTL + GRACE), ['s1']);
  });

  it('a stream ended meanwhile (its node restarted and ended it, or the streamer did) is not ended again', () => {
    const { endsAt } = given([lease('a', 0), wentLive('s1', 'a', 1000), ended('s1', 20_000)]);
    assert.deepEqual(endsAt(TTL + GRACE), []);
  });

  it('forgets a stream the registry says is not live (a StreamWentLive after its end)', () => {
    const { endsAt, state } = given([lease('a', 0), wentLive('s1', 'a', 1000), wentLive('s2', 'a', 1000)]);
    state.forget('s1');
    assert.deepEqual(endsAt(TTL + GRACE), ['s2']);
  });

  it('a node that came back (same id, a new lease) keeps its streams', () => {
    const { endsAt } = given([lease('a', 0), wentLive('s1', 'a', 1000), lease('a', TTL + 10_000)]);
    assert.deepEqual(endsAt(TTL + GRACE), []);
  });

  it('a released lease counts from its release', () => {
    const { endsAt } = given([lease('a', 0), wentLive('s1', 'a', 1000), lease('a', 5000, true)]);
    assert.deepEqual(endsAt(5000 + GRACE - 1), []);
    assert.deepEqual(endsAt(5000 + GRACE), ['s1']);
  });

  it('counts the grace from the StreamWentLive when that came after the lease read last (a topic read behind)', () => {
    const { endsAt } = given([lease('a', 0), wentLive('s1', 'a', 40_000)]);
    assert.deepEqual(endsAt(TTL + GRACE), []);
    assert.deepEqual(endsAt(40_000 + GRACE), ['s1']);
  });

  it('never ends a stream whose node holds no lease on record (an ingest from before leases)', () => {
    const { endsAt, state } = given([wentLive('s1', 'old-node', 0)]);
    assert.deepEqual(endsAt(10 * (TTL + GRACE)), []);
    assert.deepEqual(
      state.unleased().map((s) => s.streamId),
      ['s1'],
    );
  });

  it('a lease event holds for its ttl; a release holds no longer than its moment', () => {
    assert.deepEqual(leaseEvent('a', 1000, TTL, 'e'), {
      eventId: 'e',
      occurredAt: 1000,
      nodeId: 'a',
      validUntil: 1000 + TTL,
      released: false,
    });
    assert.equal(leaseEvent('a', 1000, TTL, 'e', true).validUntil, 1000);
  });

  it('derives one UUID per ended broadcast, whoever decides it', () => {
    const id = nodeLossEventId('live-s1-a-1000');
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(nodeLossEventId('live-s1-a-1000'), id);
    assert.notEqual(nodeLossEventId('live-s1-b-2000'), id);
  });
});
