import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionCounter, RequestLimiter } from './limits.ts';

describe('per-caller limits', () => {
  it('a request limiter allows its points per window per key, then says when to come back', async () => {
    const limiter = new RequestLimiter({ points: 2, durationS: 60 });
    assert.deepEqual(await limiter.take('a'), { ok: true });
    assert.deepEqual(await limiter.take('a'), { ok: true });
    const refused = await limiter.take('a');
    assert.equal(refused.ok, false);
    assert.ok(!refused.ok && refused.retryAfterS >= 1 && refused.retryAfterS <= 60);
    assert.deepEqual(await limiter.take('b'), { ok: true }, 'another key has its own points');
  });

  it('a connection counter holds at most max per key and gives slots back once', () => {
    const c = new ConnectionCounter(2);
    assert.ok(c.tryAcquire('1.2.3.4'));
    assert.ok(c.tryAcquire('1.2.3.4'));
    assert.equal(c.tryAcquire('1.2.3.4'), false);
    assert.ok(c.tryAcquire('5.6.7.8'));
    c.release('1.2.3.4');
    assert.equal(c.count('1.2.3.4'), 1);
    assert.ok(c.tryAcquire('1.2.3.4'));
    c.release('1.2.3.4');
    c.release('1.2.3.4');
    c.release('1.2.3.4');
    assert.equal(c.count('1.2.3.4'), 0, 'never below zero');
  });
});
