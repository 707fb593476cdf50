import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IntakeLimits } from './limits.ts';

const limits = (): IntakeLimits => new IntakeLimits({ maxMessages: 20, windowMs: 30_000, duplicateWindowMs: 30_000 });

describe('chat intake limits', () => {
  it('given 20 messages in 30 s, when a 21st comes, then it is refused until the oldest leaves the window', () => {
    const l = limits();
    for (let i = 0; i < 20; i++)
      assert.deepEqual(l.tryAcquire('s1', 'u1', `m${i}`, `hello ${i}`, 1000 + i * 100), { ok: true });
    assert.deepEqual(l.tryAcquire('s1', 'u1', 'm20', 'one more', 3500), {
      ok: false,
      code: 'rate_limited',
      retryAfterMs: 27_500,
    });
    assert.deepEqual(
      l.tryAcquire('s1', 'u1', 'm20', 'one more', 31_000),
      { ok: true },
      'the first one left the window',
    );
    assert.equal(l.tryAcquire('s1', 'u1', 'm21', 'and another', 31_000).ok, false, 'the second one has not');
  });

  it('counts per user and per stream', () => {
    const l = limits();
    for (let i = 0; i < 20; i++) l.tryAcquire('s1', 'u1', `m${i}`, `x${i}`, 1000);
    assert.equal(l.tryAcquire('s1', 'u2', 'a', 'x', 1000).ok, true, 'another user');
    assert.equal(l.tryAcquire('s2', 'u1', 'b', 'x', 1000).ok, true, 'another stream');
  });

  it('given a message, when the same user sends the same text within 30 s, then it is a duplicate', () => {
    const l = limits();
    l.tryAcquire('s1', 'u1', 'm1', 'gg', 1000);
    assert.deepEqual(l.tryAcquire('s1', 'u1', 'm2', 'gg', 20_000), { ok: false, code: 'duplicate_message' });
    assert.equal(l.tryAcquire('s1', 'u2', 'm3', 'gg', 20_000).ok, true, 'another user may say the same');
    assert.equal(l.tryAcquire('s1', 'u1', 'm4', 'gg', 31_001).ok, true, 'after the window');
  });

  it('a refused message takes no slot', () => {
    const l = limits();
    l.tryAcquire('s1', 'u1', 'm1', 'gg', 1000);
    for (let i = 0; i < 30; i++) l.tryAcquire('s1', 'u1', `d${i}`, 'gg', 1000);
    for (let i = 0; i < 19; i++) assert.equal(l.tryAcquire('s1', 'u1', `n${i}`, `t${i}`, 1000).ok, true);
  });

  it('messages seen on the topic count, once, wherever they were accepted', () => {
    const l = limits();
    l.tryAcquire('s1', 'u1', 'local', 'from here', 1000);
    l.observe('s1', 'u1', 'local', 'from here', 1000);
    for (let i = 0; i < 19; i++) l.observe('s1', 'u1', `remote${i}`, `from there ${i}`, 1000);
    assert.equal(l.tryAcquire('s1', 'u1', 'next', 'new text', 1001).ok, false, '1 local + 19 remote = 20');
    assert.deepEqual(l.tryAcquire('s1', 'u2', 'x', 'from there 3', 1001), { ok: true });
    l.observe('s1', 'u3', 'r', 'copy', 1000);
    assert.deepEqual(l.tryAcquire('s1', 'u3', 'y', 'copy', 1001), { ok: false, code: 'duplicate_message' });
  });

  it('release gives back the slot of a message that was never published', () => {
    const l = limits();
    for (let i = 0; i < 20; i++) l.tryAcquire('s1', 'u1', `m${i}`, `t${i}`, 1000);
    l.release('s1', 'u1', 'm7');
    assert.equal(l.tryAcquire('s1', 'u1', 'again', 't7', 1000).ok, true, 'and its text is no longer a duplicate');
  });

  it('prune forgets users with nothing left in the window', () => {
    const l = limits();
    l.tryAcquire('s1', 'u1', 'm1', 'a', 1000);
    l.tryAcquire('s1', 'u2', 'm2', 'b', 20_000);
    l.prune(40_000);
    assert.equal(l.size, 1);
  });
});
