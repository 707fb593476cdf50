import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RevokedTokens, revokeTokens } from './revocation.ts';

describe('token revocation', () => {
  it('cuts at the whole second after the request: tokens issued up to it are refused, later ones work', () => {
    const e = revokeTokens('u1', 1_000_500, 'admin_1', () => 'id');
    assert.deepEqual(e, {
      eventId: 'id',
      occurredAt: 1_000_500,
      userId: 'u1',
      revokedBefore: 1001,
      revokedBy: 'admin_1',
    });
    assert.equal(revokeTokens('u1', 1_000_000, null, () => 'id').revokedBefore, 1000, 'on a whole second: that second');
    const r = new RevokedTokens();
    r.apply(e);
    assert.equal(r.isRevoked('u1', 999), true);
    assert.equal(r.isRevoked('u1', 1000), true, 'issued in the second of the request');
    assert.equal(r.isRevoked('u1', 1001), false, 'issued after');
    assert.equal(r.isRevoked('u2', 0), false, 'another user');
  });

  it('only moves forward: order and repetition do not change the answer', () => {
    const events = [
      { userId: 'u1', revokedBefore: 2000 },
      { userId: 'u1', revokedBefore: 1000 },
      { userId: 'u2', revokedBefore: 1500 },
    ];
    const a = new RevokedTokens();
    const b = new RevokedTokens();
    assert.deepEqual(
      events.map((e) => a.apply(e)),
      [true, false, true],
    );
    for (const e of [...events].reverse().concat(events)) b.apply(e);
    for (const user of ['u1', 'u2', 'u3']) assert.equal(b.revokedBefore(user), a.revokedBefore(user), user);
    assert.equal(a.isRevoked('u1', 1999), true);
    assert.equal(a.size, 2);
  });
});
