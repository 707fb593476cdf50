import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey } from './address.ts';
import { ConnectionLimits, type ConnectionSlot } from './connection-limits.ts';

const take = (limits: ConnectionLimits, address: string): ConnectionSlot => {
  const r = limits.acquire(address);
  assert.ok(r.ok, `a slot for ${address}`);
  return r.slot;
};

describe('connection limits', () => {
  it('counts attempts in progress, per address, per user and in all; each slot is given back once', () => {
    const limits = new ConnectionLimits({ maxConnections: 5, perAddress: 3, perUser: 2 });
    const [a, b, c] = [take(limits, '10.0.0.1'), take(limits, '10.0.0.1'), take(limits, '10.0.0.1')];
    assert.deepEqual(limits.acquire('10.0.0.1'), { ok: false, message: 'too many connections from this address' });
    assert.equal(limits.inProgress, 3);
    assert.deepEqual(a.addUser('u'), { ok: true });
    assert.deepEqual(b.addUser('u'), { ok: true });
    assert.deepEqual(c.addUser('u'), { ok: false, message: 'too many connections for this user' });
    c.release();
    c.release();
    assert.equal(limits.held, 2, 'a second release gives nothing back twice');
    a.opened();
    b.opened();
    assert.equal(limits.inProgress, 0);
    const [d, e, f] = [take(limits, '10.0.0.2'), take(limits, '10.0.0.3'), take(limits, '10.0.0.4')];
    assert.deepEqual(limits.acquire('10.0.0.5'), { ok: false, message: 'this server is full' });
    for (const s of [d, e, f]) s.release();
    a.release();
    assert.deepEqual(take(limits, '10.0.0.9').addUser('u'), { ok: true }, "a's user slot came back");
    assert.equal(limits.inProgress, 1);
    assert.equal(limits.held, 2);
  });

  it('keys IPv4 as it is, IPv4-mapped IPv6 as IPv4, other IPv6 by its /64', () => {
    assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('0000:0000:0000:0000:0000:ffff:7f00:0001'), '127.0.0.1');
    assert.equal(addressKey('::ffff:7f00:1'), '127.0.0.1');
    assert.equal(addressKey('2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('0000:0000:0000:0000:0000:0000:0000:0001'), '0:0:0:0::/64');
    assert.equal(addressKey(''), '');
    assert.equal(addressKey('not:an::add::ress'), 'not:an::add::ress', 'anything else is its own key');
  });

  it('two addresses in one /64 share a count', () => {
    const limits = new ConnectionLimits({ maxConnections: 10, perAddress: 1, perUser: 1 });
    take(limits, '2001:db8::1');
    assert.equal(limits.acquire('2001:0db8:0000:0000:ffff:0000:0000:0002').ok, false);
    assert.equal(limits.acquire('2001:db8:0:1::1').ok, true);
  });
});
