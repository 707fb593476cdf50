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

  it('holds every open stream, and at most the cache size of ended ones, whatever the history', () => {
    const r = new StreamRegistry({ endedCacheSize: 3 });
    let offset = 0;
    const ids = Array.from({ length: 1000 }, (_, i) => `s${i}`);
    for (const id of ids) {
      r.applyLifecycle(streamEvents.created(id, { streamerId: 'churner', streamKeyHash: `h_${id}` }), offset++);
      r.applyViewers(streamEvents.viewers(id, 5), offset++);
    }
    // All but the last two end, in order.
    for (const id of ids.slice(0, -2)) r.applyLifecycle(streamEvents.ended(id), offset++);
    assert.equal(r.endedInMemory, 3);
    assert.equal(r.size, 5, 'two open, three ended');
    assert.deepEqual(
      r.openStreamsOf('churner').map((s) => s.streamId),
      ['s998', 's999'],
    );
    assert.equal(r.get('s997')?.status, 'ended', 'the latest ended are held');
    assert.equal(r.get('s994'), undefined, 'older ended streams have left memory');
    assert.deepEqual(
      r.endedStreamsOf('churner').map((s) => s.streamId),
      ['s995', 's996', 's997'],
      "the streamer's ended streams are the cache's, and leave with it",
    );
    assert.deepEqual(r.endedStreamsOf('nobody'), []);
    assert.equal(r.byStreamKeyHash('h_s0'), undefined, 'and so have their keys');
    assert.equal(r.byStreamKeyHash('h_s997')?.status, 'ended');
    assert.equal(r.viewerCount('s0'), 0, 'counts leave with their stream');
    assert.equal(r.viewerCount('s999'), 5);
    assert.equal(r.streamerName('churner'), 'alice', 'the streamer is still known');
    assert.equal(r.streamerName('nobody'), undefined);
  });

  it('keeps the most recently used ended streams: a read counts as a use', () => {
    const r = new StreamRegistry({ endedCacheSize: 2 });
    let offset = 0;
    for (const id of ['a', 'b', 'c']) {
      r.applyLifecycle(streamEvents.created(id), offset++);
      r.applyLifecycle(streamEvents.ended(id), offset++);
      if (id === 'b') assert.equal(r.get('a')?.status, 'ended');
    }
    assert.deepEqual(
      ['a', 'b', 'c'].map((id) => r.get(id)?.status),
      ['ended', undefined, 'ended'],
    );
  });

  it('a stream that left memory and is redelivered from its creation ends again with its end', () => {
    const r = new StreamRegistry({ endedCacheSize: 1 });
    const created = streamEvents.created('old', { streamKeyHash: 'h_old' });
    const ended = streamEvents.ended('old');
    r.applyLifecycle(created, 1);
    r.applyLifecycle(ended, 2);
    r.applyLifecycle(streamEvents.created('new'), 3);
    r.applyLifecycle(streamEvents.ended('new'), 4);
    assert.equal(r.get('old'), undefined);
    r.applyLifecycle(created, 1);
    r.applyLifecycle(ended, 2);
    assert.equal(r.get('old')?.status, 'ended');
    assert.deepEqual(r.openStreamsOf('user_1'), []);
  });

  it('a count that arrives before its stream waits for it: one above zero always, zeros within the cache size', () => {
    const r = new StreamRegistry({ endedCacheSize: 2 });
    r.applyViewers(streamEvents.viewers('watched', 7), 0);
    for (let i = 0; i < 10; i++) r.applyViewers(streamEvents.viewers(`idle${i}`, 0), i + 1);
    r.applyLifecycle(streamEvents.created('watched'), 0);
    r.applyLifecycle(streamEvents.created('idle9'), 1);
    r.applyLifecycle(streamEvents.created('idle0'), 2);
    assert.equal(r.viewerCount('watched'), 7);
    assert.ok(r.viewerStats('idle9'), 'a recent zero waited');
    assert.equal(r.viewerStats('idle0'), undefined, 'an old zero did not');
  });
});
