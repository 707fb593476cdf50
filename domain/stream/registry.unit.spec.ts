import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { streamEvents } from '../../tests/support/stream-events.ts';
import { StreamRegistry } from './registry.ts';

describe('stream registry store', () => {
  it('finds streams by id and by stream-key hash', () => {
    const r = new StreamRegistry();
    r.applyLifecycle(streamEvents.created('s1', { streamKeyHash: 'h1' }), 0);
    assert.equal(r.get('s1')?.streamKeyHash, 'h1');
    assert.equal(r.byStreamKeyHash('h1')?.streamId, 's1');
    assert.equal(r.byStreamKeyHash('nope'), undefined);
  });

  it('ignores a redelivered or older offset for the same stream', () => {
    const r = new StreamRegistry();
    r.applyLifecycle(streamEvents.created('s1'), 3);
    r.applyLifecycle(streamEvents.ended('s1'), 5);
    r.applyLifecycle(streamEvents.updated('s1', { title: 'late duplicate' }), 4);
    assert.equal(r.get('s1')?.status, 'ended');
    assert.equal(r.get('s1')?.title, 'A stream');
    r.applyViewers(streamEvents.viewers('s1', 10), 8);
    r.applyViewers(streamEvents.viewers('s1', 99), 7);
    assert.equal(r.viewerCount('s1'), 10);
    assert.equal(r.viewerCount('unknown'), 0);
  });

  it('whenApplied resolves true once the event is applied, even as a no-op, and false on timeout', async () => {
    const r = new StreamRegistry();
    const ended = streamEvents.ended('never-created');
    const seen = r.whenApplied(ended.eventId, 10_000);
    r.applyLifecycle(ended, 0);
    assert.equal(await seen, true);
    assert.equal(await r.whenApplied('other', 5), false);
  });
});
