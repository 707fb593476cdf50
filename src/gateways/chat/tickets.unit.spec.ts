import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mintToken } from '../api/auth.ts';
import { Tickets, ticketKey } from './tickets.ts';

const jwtKey = new TextEncoder().encode('k'.repeat(48));
const alice = { userId: 'user_1', username: 'alice' };

describe('chat tickets', () => {
  it('round-trips the user for the stream it was issued for', async () => {
    const t = new Tickets(ticketKey(jwtKey), 30);
    assert.deepEqual(await t.verify(await t.issue(alice, 's1'), 's1'), alice);
  });

  it('refuses a ticket for another stream, an expired one, and one signed with another key', async () => {
    const t = new Tickets(ticketKey(jwtKey), 30);
    await assert.rejects(t.verify(await t.issue(alice, 's1'), 's2'), { code: 'unauthorized' });
    const expired = await new Tickets(ticketKey(jwtKey), -1).issue(alice, 's1');
    await assert.rejects(t.verify(expired, 's1'), { code: 'unauthorized' });
    const foreign = await new Tickets(ticketKey(new TextEncoder().encode('x'.repeat(48))), 30).issue(alice, 's1');
    await assert.rejects(t.verify(foreign, 's1'), { code: 'unauthorized' });
  });

  it('an API bearer token is not a ticket', async () => {
    const t = new Tickets(ticketKey(jwtKey), 30);
    const token = await mintToken(jwtKey, { issuer: 'live-platform', audience: 'live-api' }, alice, 60);
    await assert.rejects(t.verify(token, 's1'), { code: 'unauthorized' });
  });
});
