import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { streamEvents } from '../../tests/support/stream-events.ts';
import { applyLifecycle, type LiveStream } from './live-streams.ts';

describe('media worker stream state', () => {
  it('follows created -> live (with its source and partition) -> ended, then forgets the stream', () => {
    const m = new Map<string, LiveStream>();
    applyLifecycle(m, streamEvents.created('s1', { latencyMode: 'LOW' }), 4);
    assert.equal(m.get('s1')?.status, 'ready');
    applyLifecycle(m, streamEvents.wentLive('s1'), 4);
    assert.deepEqual(
      [m.get('s1')?.status, m.get('s1')?.partition, m.get('s1')?.latencyMode, m.get('s1')?.source?.sourceUrl],
      ['live', 4, 'LOW', 'rtmp://127.0.0.1:1935/live/s1'],
    );
    applyLifecycle(m, streamEvents.ended('s1'), 4);
    assert.equal(m.has('s1'), false);
    applyLifecycle(m, streamEvents.wentLive('s1'), 4);
    assert.equal(m.has('s1'), false, 'an ended stream never goes live again');
  });

  it('a second StreamWentLive (an ingest takeover) moves the source; the broadcast keeps its start', () => {
    const m = new Map<string, LiveStream>();
    applyLifecycle(m, streamEvents.created('s1'), 2);
    applyLifecycle(m, streamEvents.wentLive('s1', 1000), 2);
    const takeover = streamEvents.wentLive('s1', 5000);
    assert.ok(takeover.payload.type === 'StreamWentLive');
    takeover.payload.sourceUrl = 'rtmp://ingest-2:1935/live/s1';
    applyLifecycle(m, takeover, 2);
    assert.deepEqual(
      [m.get('s1')?.status, m.get('s1')?.source?.sourceUrl, m.get('s1')?.startedAt],
      ['live', 'rtmp://ingest-2:1935/live/s1', 1000],
    );
  });

  it('ignores events of streams it never saw created', () => {
    const m = new Map<string, LiveStream>();
    applyLifecycle(m, streamEvents.wentLive('ghost'), 0);
    assert.equal(m.size, 0);
  });
});
