import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FollowEvent } from '../../schemas/generated/events.ts';
import { planEdges } from './plan.ts';

const ev = (type: 'Followed' | 'Unfollowed', streamerId: string, followerId: string, at = 1000): FollowEvent => ({
  eventId: `e-${type}-${streamerId}-${followerId}-${at}`,
  occurredAt: at,
  streamerId,
  payload: { type, followerId },
});

describe('planEdges', () => {
  it('keeps the last event per pair, by offset, and stamps it with the offset', () => {
    const { edges, users } = planEdges([
      { event: ev('Followed', 'alice', 'bob', 1), version: '10' },
      { event: ev('Unfollowed', 'alice', 'bob', 2), version: '11' },
      { event: ev('Followed', 'alice', 'carol', 3), version: '12' },
      { event: ev('Followed', 'alice', 'bob', 4), version: '13' },
    ]);
    assert.deepEqual(edges, [
      { kind: 'follow', streamerId: 'alice', followerId: 'bob', at: 4, writeTime: 13 },
      { kind: 'follow', streamerId: 'alice', followerId: 'carol', at: 3, writeTime: 12 },
    ]);
    assert.deepEqual(users.sort(), ['alice', 'bob', 'carol']);
  });

  it('a redelivered older event in a later chunk is still planned with its own (older) write time', () => {
    const { edges } = planEdges([
      { event: ev('Followed', 'alice', 'bob', 1), version: '10' },
      { event: ev('Unfollowed', 'alice', 'bob', 2), version: '11' },
    ]);
    assert.deepEqual(edges, [{ kind: 'unfollow', streamerId: 'alice', followerId: 'bob', at: 2, writeTime: 11 }]);
    const redelivered = planEdges([{ event: ev('Followed', 'alice', 'bob', 1), version: '10' }]).edges;
    assert.equal(redelivered[0]!.writeTime, 10, 'loses to the unfollow already written at 11');
  });
});
